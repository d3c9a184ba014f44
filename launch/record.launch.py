"""Record a session: cameras (or sim:=true simulators), protocol, recorder, sync monitor.

    ros2 launch microexp record.launch.py subject:=P01 session:=s1 [sim:=true] [cameras:=davis,evk4]

The graph itself is data from :func:`microexp.rosgraph.record_graph` (the same one that
``microexp launch record`` starts without ``ros2 launch``); this file names it, and
:func:`microexp.rosgraph.launch_description.graph_launch_description` declares its launch
arguments and turns each entity into a ``launch_ros`` Node or an ``ExecuteProcess``.
"""

from __future__ import annotations

from launch import LaunchDescription

from microexp.rosgraph import RecordArgs, record_graph
from microexp.rosgraph.launch_description import graph_launch_description


def generate_launch_description() -> LaunchDescription:
    return graph_launch_description(RecordArgs, record_graph)
