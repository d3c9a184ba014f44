"""The QoS each played topic is published with: what the real publisher of that topic offers.

Order of precedence (first match wins):

1. an explicit override (``--qos TOPIC=PRESET``);
2. a QoS profile file in rosbag2's override format (``--qos-profiles FILE``, the format of
   ``ros2 bag play --qos-profile-overrides-path``), when one is given;
3. the rig's ``qos`` of the topic (``config/rig/rig.yaml``: what each driver offers -- dv-ros2
   reliable, metavision_driver best effort, gscam reliable -- and our own nodes' topics) when it is
   not ``auto``;
4. otherwise by type: ``event_camera_msgs/msg/EventPacket`` best effort (metavision_driver), every
   other type reliable (the ROS 2 default).

Depth is a publisher-side queue, not part of QoS matching: the player keeps 1000 messages of a
best-effort topic, and every message of a reliable one (the node publishes those KEEP_ALL), so
that a burst after a stall is not overwritten before it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from microexp.errors import ConfigError

__all__ = [
    "QOS_PRESETS",
    "QosPreset",
    "TopicQos",
    "load_qos_overrides",
    "parse_qos_assignments",
    "preset_qos",
    "resolve_topic_qos",
]

QosPreset = Literal["reliable", "sensor_data", "latched"]
QOS_PRESETS: tuple[QosPreset, ...] = get_args(QosPreset)
_EVENT_PACKET = "event_camera_msgs/msg/EventPacket"
_ROSBAG2_KEYS = {"history", "depth", "reliability", "durability"}


@dataclass(frozen=True)
class TopicQos:
    """A publisher profile: reliability, durability, KEEP_LAST ``depth`` (0 = KEEP_ALL), and where
    it came from (for the player's log)."""

    reliable: bool
    transient_local: bool
    depth: int
    source: str

    @property
    def preset(self) -> QosPreset:
        if self.transient_local:
            return "latched"
        return "reliable" if self.reliable else "sensor_data"


def preset_qos(preset: str, *, source: str, depth: int = 10) -> TopicQos:
    """``reliable`` / ``sensor_data`` (best effort) with ``depth``; ``latched`` (reliable,
    transient local, depth 1)."""
    if preset not in QOS_PRESETS:
        raise ConfigError(f"{source}: QoS {preset!r} is not one of {list(QOS_PRESETS)}")
    if preset == "latched":
        return TopicQos(reliable=True, transient_local=True, depth=1, source=source)
    return TopicQos(
        reliable=preset == "reliable", transient_local=False, depth=depth, source=source
    )


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{where}: {value!r}; expected one of {list(allowed)}")
    return str(value)


def load_qos_overrides(path: Path) -> dict[str, TopicQos]:
    """A rosbag2 QoS override file (``topic: {history, depth, reliability, durability}``)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the QoS profiles: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from err
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{path}: expected a mapping topic -> QoS profile")
    out: dict[str, TopicQos] = {}
    for topic, prof in doc.items():
        where = f"{path}: {topic}"
        if not isinstance(prof, Mapping):
            raise ConfigError(f"{where}: expected a mapping of {sorted(_ROSBAG2_KEYS)}")
        unknown = sorted(set(prof) - _ROSBAG2_KEYS)
        missing = sorted({"reliability", "durability"} - set(prof))
        if unknown or missing:
            raise ConfigError(
                f"{where}: "
                + (f"unsupported key(s) {unknown}" if unknown else f"missing key(s) {missing}")
                + f"; the player reads {sorted(_ROSBAG2_KEYS)}"
            )
        history = _choice(prof.get("history", "keep_last"), ("keep_last", "keep_all"),
                          f"{where}.history")  # fmt: skip
        depth = prof.get("depth", 10)
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise ConfigError(f"{where}.depth: {depth!r} is not a positive integer")
        reliability = _choice(prof["reliability"], ("reliable", "best_effort"),
                              f"{where}.reliability")  # fmt: skip
        durability = _choice(prof["durability"], ("volatile", "transient_local"),
                             f"{where}.durability")  # fmt: skip
        out[str(topic)] = TopicQos(
            reliable=reliability == "reliable",
            transient_local=durability == "transient_local",
            depth=0 if history == "keep_all" else depth,
            source=str(path.name),
        )
    return out


def parse_qos_assignments(items: Iterable[str]) -> dict[str, TopicQos]:
    """``["/evk4/events=reliable", ...]`` -> topic -> profile (depth 1000 for bursts)."""
    out: dict[str, TopicQos] = {}
    for item in items:
        topic, sep, preset = item.partition("=")
        if not sep or not topic.startswith("/"):
            raise ConfigError(f"QoS override {item!r}: expected /TOPIC=PRESET")
        out[topic] = preset_qos(preset, source="override", depth=1000)
    return out


def resolve_topic_qos(
    topic: str,
    msgtype: str,
    *,
    overrides: Mapping[str, TopicQos],
    profiles: Mapping[str, TopicQos],
    rig_qos: Mapping[str, str],
) -> TopicQos:
    """The profile ``topic`` is published with (precedence in the module docstring); ``profiles``
    from a QoS profile file (may be empty); ``rig_qos`` maps the rig's topics to their ``qos``
    entry (auto, reliable, sensor_data, latched)."""
    if topic in overrides:
        return overrides[topic]
    if topic in profiles:
        return profiles[topic]
    rig = rig_qos.get(topic, "auto")
    if rig != "auto":
        return preset_qos(rig, source="rig.yaml", depth=1000)
    if msgtype == _EVENT_PACKET:
        return preset_qos("sensor_data", source="driver default", depth=1000)
    return preset_qos("reliable", source="driver default", depth=1000)
