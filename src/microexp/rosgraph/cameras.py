"""The camera part shared by the launch graphs: which rig cameras to start, and the node of each
(its ROS driver, or the ``sim_camera`` simulator in its place)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from microexp.errors import ConfigError
from microexp.rosgraph.rig import RigConfig
from microexp.rosgraph.spec import NodeSpec, ParamValue

__all__ = ["camera_driver_node", "select_cameras", "sim_camera_node"]


def select_cameras(rig: RigConfig, names: Sequence[str]) -> list[str]:
    """The ``cameras`` launch argument's names (the rig's default cameras when empty), each
    checked against the rig."""
    chosen = list(names) if names else list(rig.default_cameras)
    unknown = sorted(set(chosen) - set(rig.cameras))
    if unknown:
        raise ConfigError(
            f"launch argument cameras: unknown camera(s) {unknown}; rig has {sorted(rig.cameras)}"
        )
    return chosen


def sim_camera_node(rig: RigConfig, cam: str, params: Mapping[str, ParamValue]) -> NodeSpec:
    """``sim_camera`` standing in for camera ``cam``: the rig's sim parameter file, then ``params``."""
    return NodeSpec(
        package="microexp",
        executable="sim_camera",
        name=f"sim_{cam}",
        parameters=(rig.file(rig.cameras[cam].sim_params.name), params),
        condition="sim",
        role=f"camera:{cam}",
    )


def camera_driver_node(rig: RigConfig, cam: str, *, condition: str | None = None) -> NodeSpec:
    """The ROS driver of camera ``cam``, in the root namespace (the drivers' YAML files key their
    node names); its topics remapped to the rig's names."""
    c = rig.cameras[cam]
    return NodeSpec(
        package=c.driver.package,
        executable=c.driver.executable,
        name=c.driver.name,
        parameters=(rig.file(c.driver.params.name),),
        remappings=c.remappings,
        condition=condition,
        role=f"camera:{cam}",
    )
