"""What a healthy rig looks like, from ``config/rig``: per camera, the node that must run (the
driver, or ``sim_camera`` with ``sim``), the parameters it is given, and the topics it must
publish with their type and QoS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from microexp.rigcheck.driver_params import (
    DriverParams,
    driver_params_dir,
    load_driver_params,
    node_param_values,
)
from microexp.rosgraph.cameras import camera_driver_node, select_cameras, sim_camera_node
from microexp.rosgraph.rig import RigConfig
from microexp.rosgraph.spec import NodeSpec

__all__ = ["QOS_OFFERED", "CameraExpectation", "TopicExpectation", "rig_expectations"]

QOS_OFFERED: Mapping[str, tuple[bool, bool]] = {
    "reliable": (True, False),
    "sensor_data": (False, False),
    "latched": (True, True),
}
"""A rig ``qos`` name -> what the publisher must offer: ``(reliable, transient_local)``."""


@dataclass(frozen=True)
class TopicExpectation:
    name: str
    msgtype: str
    qos: str  # rig qos: auto (not checked), reliable, sensor_data, latched
    must_publish: bool  # recording waits for it: it must deliver a message within the timeout


@dataclass(frozen=True)
class CameraExpectation:
    camera: str
    node: NodeSpec
    topics: tuple[TopicExpectation, ...]
    record: DriverParams | None  # the driver's recorded parameter list (None: sim or none)
    configured: Mapping[str, Any]  # every parameter the node is given (files, then dicts)
    sim: bool

    @property
    def fqn(self) -> str:
        return self.node.fqn


def _configured(node: NodeSpec) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for p in node.parameters:
        values.update(node_param_values(p, node.name) if not isinstance(p, Mapping) else dict(p))
    return values


def rig_expectations(
    rig: RigConfig, *, cameras: Sequence[str], sim: bool
) -> list[CameraExpectation]:
    """The expectations for ``cameras`` (the rig's default cameras when empty), with each driver's
    recorded parameter list where ``config/rig/driver_params/<package>.yaml`` has one."""
    out = []
    for cam in select_cameras(rig, cameras):
        spec = rig.cameras[cam]
        node = sim_camera_node(rig, cam, {"camera": cam}) if sim else camera_driver_node(rig, cam)
        record = None
        if not sim:
            path = driver_params_dir(rig.directory) / f"{spec.driver.package}.yaml"
            record = load_driver_params(path) if path.is_file() else None
        out.append(
            CameraExpectation(
                camera=cam,
                node=node,
                topics=tuple(
                    TopicExpectation(t.name, t.msgtype, t.qos, t.wait)
                    for t in spec.topics
                    if t.sim or not sim
                ),
                record=record,
                configured=_configured(node),
                sim=sim,
            )
        )
    return out
