"""``ros2 launch`` glue shared by ``launch/*.launch.py``: declare a graph's arguments and turn its
entities (:class:`NodeSpec` / :class:`ProcessSpec`) into ``launch_ros`` Nodes and ``ExecuteProcess``.

``launch`` and ``launch_ros`` exist only under a ROS install, so they are imported inside the
functions: this module imports (and the core stays ROS-free) without them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from microexp.errors import MicroexpError
from microexp.rosgraph.args import arg_specs, args_from_strings
from microexp.rosgraph.rig import RigConfig, load_rig
from microexp.rosgraph.spec import GATE_ROLE, LaunchEntity, NodeSpec

__all__ = ["graph_launch_description", "installed_rig_dir"]

A = TypeVar("A")


def installed_rig_dir() -> Path:
    """The rig config folder that the ROS package installs (share/microexp/config/rig)."""
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory("microexp")) / "config" / "rig"


def _after_gate(name: str, rest: list[Any], event: Any, _context: Any) -> list[Any]:
    """Once the gate (the rig check) exited: the rest of the graph; or, when it failed, an error
    that ``ros2 launch`` logs ("Caught exception in launch: ...") before it shuts the graph down
    and exits with status 1."""
    if event.returncode == 0:
        return rest
    raise MicroexpError(
        f"{name} failed (exit {event.returncode}): not recording; its report above says what "
        "to fix (rig_check:=false skips the check)"
    )


def _to_actions(
    context: Any, args_cls: type[A], graph_fn: Callable[[A, RigConfig], list[LaunchEntity]]
) -> list[Any]:
    from launch.actions import ExecuteProcess, RegisterEventHandler
    from launch.event_handlers import OnProcessExit
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    values = {a.name: LaunchConfiguration(a.name).perform(context) for a in arg_specs(args_cls)}
    graph = graph_fn(args_from_strings(args_cls, values), load_rig(installed_rig_dir()))
    actions: list[Any] = []
    gate: tuple[Any, int] | None = None  # the gate's action and its index in actions
    gate_name = ""
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
        if e.role == GATE_ROLE and gate is None:
            gate, gate_name = (actions[-1], len(actions)), e.name
    if gate is None:
        return actions
    action, cut = gate
    handler = OnProcessExit(
        target_action=action, on_exit=partial(_after_gate, gate_name, actions[cut:])
    )
    return [*actions[:cut], RegisterEventHandler(handler)]


def graph_launch_description(
    args_cls: type[A], graph_fn: Callable[[A, RigConfig], list[LaunchEntity]]
) -> Any:
    """A ``LaunchDescription`` that declares ``args_cls``'s launch arguments and, once they are
    resolved, starts ``graph_fn(args, installed rig)``; loopback-only discovery unless the user set
    ROS_AUTOMATIC_DISCOVERY_RANGE (as ``microexp launch`` does)."""
    from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
    from launch.launch_description import LaunchDescription

    declared = [
        DeclareLaunchArgument(
            a.name,
            default_value=a.default,
            description=a.description,
            **({"choices": list(a.choices)} if a.choices else {}),
        )
        for a in arg_specs(args_cls)
    ]
    env = []
    if "ROS_AUTOMATIC_DISCOVERY_RANGE" not in os.environ:
        env = [SetEnvironmentVariable("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")]
    to_actions = OpaqueFunction(function=_to_actions, args=[args_cls, graph_fn])
    return LaunchDescription([*env, *declared, to_actions])
