"""What a launch graph is made of, as plain data (no ROS imports)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["GATE_ROLE", "LaunchEntity", "NodeSpec", "ParamValue", "ProcessSpec"]

GATE_ROLE = "rig_check"
"""The role of a gate: both runners start what follows it only once it exited with status 0, and
stop the graph (with its status) otherwise."""

ParamValue = str | int | float | bool | tuple[str, ...] | tuple[int, ...] | tuple[float, ...]


@dataclass(frozen=True)
class NodeSpec:
    """One ROS node: what ``launch_ros.actions.Node`` takes, and what our runner turns into
    ``<prefix>/lib/<package>/<executable> --ros-args -r __node:=<name> ...``.

    ``parameters`` holds YAML files (``node_name: ros__parameters:`` style) and dicts, applied in
    order (later wins). ``condition`` names the launch argument that enabled this node, if any
    (documentation: the graph only contains enabled nodes)."""

    package: str
    executable: str
    name: str
    namespace: str = ""
    parameters: tuple[Path | Mapping[str, ParamValue], ...] = ()
    remappings: tuple[tuple[str, str], ...] = ()
    condition: str | None = None
    role: str = ""  # e.g. "camera:davis", "recorder", "protocol"

    @property
    def fqn(self) -> str:
        ns = self.namespace.strip("/")
        return f"/{ns}/{self.name}" if ns else f"/{self.name}"

    def param_files(self) -> list[Path]:
        return [p for p in self.parameters if isinstance(p, Path)]

    def param_dict(self) -> dict[str, ParamValue]:
        """All dict parameters merged (files not included)."""
        merged: dict[str, ParamValue] = {}
        for p in self.parameters:
            if not isinstance(p, Path):
                merged.update(p)
        return merged


@dataclass(frozen=True)
class ProcessSpec:
    """A plain process (``ros2 bag record`` / ``ros2 bag play``): ``launch.actions.ExecuteProcess``."""

    name: str
    cmd: tuple[str, ...]
    condition: str | None = None
    role: str = ""
    env: Mapping[str, str] = field(default_factory=dict)


LaunchEntity = NodeSpec | ProcessSpec
