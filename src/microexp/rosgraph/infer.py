"""The live inference graph: event sources (drivers, simulators or a bag being played) -> one
inference node per event camera -> ``/microexp/au_predictions``."""

from __future__ import annotations

from dataclasses import dataclass, field

from microexp.errors import ConfigError
from microexp.rosgraph.cameras import camera_driver_node, select_cameras, sim_camera_node
from microexp.rosgraph.rig import RigConfig
from microexp.rosgraph.spec import LaunchEntity, NodeSpec, ProcessSpec

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
        default="", metadata={"help": "play this bag (ros2 bag play) instead of cameras"}
    )
    predictions_topic: str = field(
        default="/microexp/au_predictions", metadata={"help": "output topic"}
    )


def infer_graph(args: InferArgs, rig: RigConfig) -> list[LaunchEntity]:
    names = select_cameras(rig, args.cameras)
    graph: list[LaunchEntity] = []
    if args.bag:
        graph.append(
            ProcessSpec(name="bag_player", cmd=("ros2", "bag", "play", args.bag), role="source")
        )
    for cam in names:
        c = rig.cameras[cam]
        events = [t for t in c.topics if t.msgtype in EVENT_TYPES]
        if not events:
            continue
        if not args.bag:
            if args.sim:
                graph.append(sim_camera_node(rig, cam, {"camera": cam}))
            else:
                graph.append(camera_driver_node(rig, cam))
        params: dict[str, str] = {
            "events_topic": events[0].name,
            "events_type": events[0].msgtype,
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
