"""Live AU inference: event sources (drivers, sim:=true simulators, or bag:=PATH played) -> inference nodes.

    ros2 launch microexp infer.launch.py checkpoint:=run/best.pt [sim:=true | bag:=PATH]

The graph itself is data from :func:`microexp.rosgraph.infer_graph` (the same one that
``microexp launch infer`` starts without ``ros2 launch``); this file only declares the launch
arguments and turns each entity into a ``launch_ros`` Node or an ``ExecuteProcess``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    OpaqueFunction,
    SetEnvironmentVariable,
)
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from microexp.rosgraph import (
    InferArgs,
    NodeSpec,
    arg_specs,
    args_from_strings,
    infer_graph,
    load_rig,
)


def _rig_dir() -> Path:
    return Path(get_package_share_directory("microexp")) / "config" / "rig"


def _to_actions(context):  # type: ignore[no-untyped-def]
    values = {a.name: LaunchConfiguration(a.name).perform(context) for a in arg_specs(InferArgs)}
    graph = infer_graph(args_from_strings(InferArgs, values), load_rig(_rig_dir()))
    actions = []
    for e in graph:
        if isinstance(e, NodeSpec):
            params = [
                str(p)
                if isinstance(p, Path)
                else {k: list(v) if isinstance(v, tuple) else v for k, v in p.items()}
                for p in e.parameters
            ]
            actions.append(
                Node(
                    package=e.package,
                    executable=e.executable,
                    name=e.name,
                    namespace=e.namespace,
                    parameters=params,
                    remappings=list(e.remappings),
                    output="screen",
                    emulate_tty=True,
                )
            )
        else:
            actions.append(ExecuteProcess(cmd=list(e.cmd), name=e.name, output="screen"))
    return actions


def generate_launch_description() -> LaunchDescription:
    args = [
        DeclareLaunchArgument(
            a.name,
            default_value=a.default,
            description=a.description,
            **({"choices": list(a.choices)} if a.choices else {}),
        )
        for a in arg_specs(InferArgs)
    ]
    # loopback-only discovery unless the user chose otherwise (as `microexp launch` does)
    env = []
    if "ROS_AUTOMATIC_DISCOVERY_RANGE" not in os.environ:
        env = [SetEnvironmentVariable("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")]
    return LaunchDescription([*env, *args, OpaqueFunction(function=_to_actions)])
