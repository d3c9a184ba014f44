"""The live inference graph: event sources (drivers, simulators, a bag played by our ``player``
node, or -- ``attach:=true`` -- topics already published elsewhere) -> one inference node per
event camera -> ``/microexp/au_predictions``."""

from __future__ import annotations

from dataclasses import dataclass, field

from microexp.errors import ConfigError
from microexp.rosgraph.cameras import camera_driver_node, select_cameras, sim_camera_node
from microexp.rosgraph.player import player_node
from microexp.rosgraph.rig import RigConfig
from microexp.rosgraph.spec import LaunchEntity, NodeSpec

__all__ = ["EVENT_TYPES", "InferArgs", "infer_graph"]

EVENT_TYPES = ("dv_ros2_msgs/msg/EventArray", "event_camera_msgs/msg/EventPacket")


@dataclass(frozen=True)
class InferArgs:
    """Arguments of ``infer.launch.py`` / ``microexp launch infer``."""

    checkpoint: str = field(default="", metadata={"help": "model checkpoint (.pt) to load"})
    config: str = field(
        default="", metadata={"help": "inference config YAML (empty: the checkpoint's)"}
    )
    cameras: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "event cameras to run on (empty: the rig's default cameras that publish events)"
        },
    )
    sim: bool = field(default=False, metadata={"help": "simulated cameras instead of the drivers"})
    bag: str = field(
        default="",
        metadata={"help": "play this bag (microexp player: recorded pace, drivers' QoS)"},
    )
    attach: bool = field(
        default=False,
        metadata={"help": "run on event topics already published elsewhere; start no source"},
    )
    predictions_topic: str = field(
        default="/microexp/au_predictions", metadata={"help": "output topic"}
    )


def infer_graph(args: InferArgs, rig: RigConfig) -> list[LaunchEntity]:
    """Sources first (unless ``attach``), then one inference node per selected event camera."""
    if sum((bool(args.bag), args.sim, args.attach)) > 1:
        raise ConfigError("infer: bag:=, sim:=true and attach:=true exclude each other")
    names = select_cameras(rig, args.cameras)
    events = {
        cam: [t for t in rig.cameras[cam].topics if t.msgtype in EVENT_TYPES][:1] for cam in names
    }
    graph: list[LaunchEntity] = []
    if args.bag:
        # starts once every inference node listens (a bag lacking a topic does not wait for it)
        waits = [t[0].name for t in events.values() if t]
        graph.append(player_node(bag=args.bag, wait_for=waits, role="source"))
    for cam in names:
        if not events[cam]:
            continue
        if not (args.bag or args.attach):
            if args.sim:
                graph.append(sim_camera_node(rig, cam, {"camera": cam}))
            else:
                graph.append(camera_driver_node(rig, cam))
        params: dict[str, str] = {
            "events_topic": events[cam][0].name,
            "events_type": events[cam][0].msgtype,
            "checkpoint": args.checkpoint,
            "config": args.config,
            "predictions_topic": args.predictions_topic,
        }
        graph.append(
            NodeSpec(
                package="microexp",
                executable="inference_node",
                name=f"inference_{cam}",
                parameters=(params,),
                role="inference",
            )
        )
    if not any(isinstance(e, NodeSpec) and e.role == "inference" for e in graph):
        raise ConfigError(f"infer: none of the cameras {names} publishes events")
    return graph
