"""The recording graph: cameras (drivers or simulators), protocol, recorder, sync monitor."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from microexp.rosgraph.cameras import camera_driver_node, select_cameras, sim_camera_node
from microexp.rosgraph.rig import RigConfig, RigTopic
from microexp.rosgraph.spec import GATE_ROLE, LaunchEntity, NodeSpec, ProcessSpec

__all__ = ["RecordArgs", "bag_path", "camera_modalities", "record_graph", "recorded_topics"]

_CAMS = "cameras"
PROTOCOL_TOPIC = "/microexp/protocol"


@dataclass(frozen=True)
class RecordArgs:
    """Arguments of ``record.launch.py`` / ``microexp launch record`` (all have launch defaults)."""

    subject: str = field(default="P00", metadata={"help": "subject id, e.g. P01"})
    session: str = field(default="s1", metadata={"help": "session id"})
    plan: str = field(default="demo_3au", metadata={"help": "protocol plan name or YAML path"})
    consent: bool = field(
        default=False,
        metadata={
            "help": "shorthand for a consent file: study-only consent for every modality, no "
            "sharing or publication, no review date"
        },
    )
    consent_file: str = field(
        default="",
        metadata={
            "help": "the subject's consent YAML (scope per modality and use; "
            "config/consent/example.yaml); no recording starts without consent:=true or this"
        },
    )
    output_dir: str = field(default="recordings", metadata={"help": "folder that receives the bag"})
    cameras: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "comma-separated cameras of config/rig/rig.yaml (empty: its default_cameras; none: no camera)"
        },
    )
    sim: bool = field(default=False, metadata={"help": "simulated cameras instead of the drivers"})
    storage: Literal["mcap", "sqlite3"] = field(default="mcap", metadata={"help": "bag storage"})
    compression: Literal["", "zstd"] = field(default="", metadata={"help": "'' or zstd"})
    recorder: Literal["ours", "rosbag2"] = field(
        default="ours",
        metadata={
            "help": "ours (consent/camera gate, loss counts) or rosbag2 (ros2 bag record + QoS overrides)"
        },
    )
    rig_check: bool = field(
        default=True,
        metadata={
            "help": "check the started cameras first (microexp rig check) and record only if "
            "they pass; false skips it"
        },
    )
    sync_monitor: bool = field(default=True, metadata={"help": "start the sync monitor"})
    protocol: bool = field(default=True, metadata={"help": "start the protocol node"})


def bag_path(args: RecordArgs) -> Path:
    return Path(args.output_dir) / f"{args.subject}_{args.session}"


def _cameras(args: RecordArgs, rig: RigConfig) -> list[str]:
    if args.cameras == ("none",):
        return []
    return select_cameras(rig, args.cameras)


def recorded_topics(args: RecordArgs, rig: RigConfig) -> list[RigTopic]:
    """Every topic the recording holds, cameras first (sim: only what the simulator publishes)."""
    topics = []
    for cam in _cameras(args, rig):
        topics += [t for t in rig.cameras[cam].topics if t.sim or not args.sim]
    topics += list(rig.protocol_topics)
    if args.sim:
        topics += list(rig.sim_topics)
    return topics


def camera_modalities(args: RecordArgs, rig: RigConfig) -> tuple[str, ...]:
    """``camera:modality`` of every recorded camera topic that shows the face (the protocol
    node checks them against the subject's consent)."""
    out: list[str] = []
    for cam in _cameras(args, rig):
        for t in rig.cameras[cam].topics:
            item = f"{cam}:{t.modality}"
            if (t.sim or not args.sim) and t.modality not in ("", "none") and item not in out:
                out.append(item)
    return tuple(out)


def record_graph(args: RecordArgs, rig: RigConfig) -> list[LaunchEntity]:
    """The nodes and processes of one recording session, in start order."""
    graph: list[LaunchEntity] = []
    cameras = _cameras(args, rig)
    for cam in cameras:
        if args.sim:
            graph.append(sim_camera_node(rig, cam, {"camera": cam, "subject": args.subject}))
        else:
            graph.append(camera_driver_node(rig, cam, condition=_CAMS))
    if args.rig_check and cameras:
        graph.append(
            NodeSpec(
                package="microexp",
                executable="rig_check",
                name="rig_check",
                parameters=(
                    rig.file("rig_check.yaml"),
                    {"rig_dir": str(rig.directory), "cameras": tuple(cameras), "sim": args.sim},
                ),
                condition="rig_check",
                role=GATE_ROLE,
            )
        )
    if args.protocol:
        mods = camera_modalities(args, rig)
        graph.append(
            NodeSpec(
                package="microexp",
                executable="protocol_node",
                name="protocol_node",
                parameters=(
                    rig.file("protocol.yaml"),
                    {
                        "subject_id": args.subject,
                        "session_id": args.session,
                        "plan": args.plan,
                        "consent": args.consent,
                        # absolute: the node may not run in the launching shell's folder
                        "consent_file": (
                            str(Path(args.consent_file).resolve()) if args.consent_file else ""
                        ),
                        "headless": args.sim,
                        # the session starts once the recorder records (it subscribes to the
                        # protocol topic then) and the sync monitor listens; it ends the graph
                        "wait_for_subscribers": 1 + int(args.sync_monitor),
                        "shutdown_on_end": True,
                    },
                    # an empty list has no parameter type in a params file: left out then
                    {"camera_modalities": mods} if mods else {},
                ),
                condition="protocol",
                role="protocol",
            )
        )
    topics = recorded_topics(args, rig)
    bag = str(bag_path(args))
    if args.recorder == "ours":
        graph.append(
            NodeSpec(
                package="microexp",
                executable="recorder",
                name="recorder",
                parameters=(
                    rig.file("recorder.yaml"),
                    {
                        "output": bag,
                        "storage": args.storage,
                        "compression": args.compression,
                        "topics": tuple(t.name for t in topics),
                        "types": tuple(t.msgtype for t in topics),
                        "qos": tuple(t.qos for t in topics),
                        "wait_for": tuple(t.name for t in topics if t.wait),
                        # the protocol node starts the session on this subscription
                        "subscribe_on_start": tuple(
                            t.name for t in rig.protocol_topics if t.name == PROTOCOL_TOPIC
                        ),
                    },
                ),
                role="recorder",
            )
        )
    else:
        cmd = [
            "ros2",
            "bag",
            "record",
            "-o",
            bag,
            "-s",
            args.storage,
            "--qos-profile-overrides-path",
            str(rig.file("rosbag2_qos.yaml")),
        ]
        if args.compression and args.storage == "mcap":
            cmd += ["--storage-preset-profile", "zstd_fast"]  # MCAP chunk compression
        elif args.compression:
            cmd += ["--compression-mode", "file", "--compression-format", args.compression]
        graph.append(
            ProcessSpec(
                name="rosbag2_recorder", cmd=(*cmd, *(t.name for t in topics)), role="recorder"
            )
        )
    if args.sync_monitor:
        cams = [
            t for t in topics if t.name.startswith(tuple(f"/{c}/" for c in _cameras(args, rig)))
        ]
        graph.append(
            NodeSpec(
                package="microexp",
                executable="sync_monitor",
                name="sync_monitor",
                parameters=(
                    rig.file("sync_monitor.yaml"),
                    {
                        "topics": tuple(t.name for t in cams),
                        "types": tuple(t.msgtype for t in cams),
                    },
                ),
                condition="sync_monitor",
                role="sync_monitor",
            )
        )
    return graph
