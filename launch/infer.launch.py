"""Live AU inference: event sources (drivers, sim:=true simulators, or bag:=PATH played) -> inference nodes.

    ros2 launch microexp infer.launch.py checkpoint:=run/best.pt [sim:=true | bag:=PATH]

The graph itself is data from :func:`microexp.rosgraph.infer_graph` (the same one that
``microexp launch infer`` starts without ``ros2 launch``); this file names it, and
:func:`microexp.rosgraph.launch_description.graph_launch_description` declares its launch
arguments and turns each entity into a ``launch_ros`` Node or an ``ExecuteProcess``.
"""

from __future__ import annotations

from launch import LaunchDescription

from microexp.rosgraph import InferArgs, infer_graph
from microexp.rosgraph.launch_description import graph_launch_description


def generate_launch_description() -> LaunchDescription:
    return graph_launch_description(InferArgs, infer_graph)
