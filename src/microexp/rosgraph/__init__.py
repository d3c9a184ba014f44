"""The ROS launch graphs as data (ROS-free): ``launch/*.launch.py`` and ``microexp launch`` both
turn these lists of :class:`NodeSpec` / :class:`ProcessSpec` into processes, so tests start the very
graph that ``ros2 launch`` starts."""

from microexp.rosgraph.args import LaunchArgSpec, arg_specs, args_from_strings, parse_assignments
from microexp.rosgraph.infer import InferArgs, infer_graph
from microexp.rosgraph.process import (
    GraphRunner,
    ament_prefixes,
    entity_argv,
    find_executable,
    ros_env,
)
from microexp.rosgraph.record import (
    RecordArgs,
    bag_path,
    camera_modalities,
    record_graph,
    recorded_topics,
)
from microexp.rosgraph.rig import CameraRig, RigConfig, RigTopic, default_rig_dir, load_rig
from microexp.rosgraph.spec import LaunchEntity, NodeSpec, ParamValue, ProcessSpec

__all__ = [
    "CameraRig",
    "GraphRunner",
    "InferArgs",
    "LaunchArgSpec",
    "LaunchEntity",
    "NodeSpec",
    "ParamValue",
    "ProcessSpec",
    "RecordArgs",
    "RigConfig",
    "RigTopic",
    "ament_prefixes",
    "arg_specs",
    "args_from_strings",
    "bag_path",
    "camera_modalities",
    "default_rig_dir",
    "entity_argv",
    "find_executable",
    "infer_graph",
    "load_rig",
    "parse_assignments",
    "record_graph",
    "recorded_topics",
    "ros_env",
]
