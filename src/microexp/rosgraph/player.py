"""The bag player as a graph entity: ``microexp play`` starts it alone, ``infer.launch.py bag:=``
in front of the inference nodes."""

from __future__ import annotations

from collections.abc import Sequence

from microexp.rosgraph.spec import NodeSpec, ParamValue

__all__ = ["player_node"]


def player_node(
    *,
    bag: str,
    rate: float = 1.0,
    loop: bool = False,
    topics: Sequence[str] = (),
    qos: Sequence[str] = (),
    qos_profiles: str = "",
    wait_for: Sequence[str] = (),
    wait_timeout_s: float = 60.0,
    rig_dir: str = "",
    remappings: Sequence[tuple[str, str]] = (),
    name: str = "player",
    role: str = "source",
) -> NodeSpec:
    """The ``microexp/player`` node with the parameters of
    :class:`microexp.playback.PlayerConfig` (empty lists are left out: ROS cannot type them)."""
    params: dict[str, ParamValue] = {
        "bag": bag,
        "rate": float(rate),
        "loop": loop,
        "wait_timeout_s": float(wait_timeout_s),
    }
    for key, values in (("topics", topics), ("qos", qos), ("wait_for", wait_for)):
        if values:
            params[key] = tuple(values)
    if rig_dir:
        params["rig_dir"] = rig_dir
    if qos_profiles:
        params["qos_profiles"] = qos_profiles
    return NodeSpec(
        package="microexp",
        executable="player",
        name=name,
        parameters=(params,),
        remappings=tuple(remappings),
        role=role,
    )
