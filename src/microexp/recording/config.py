"""Recorder configuration: a frozen dataclass built from the recorder node's flat ROS parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from microexp.errors import ConfigError

__all__ = ["QosChoice", "RecorderConfig", "Storage", "TopicSpec", "recorder_config_from_params"]

QosChoice = Literal["auto", "reliable", "sensor_data", "latched"]
Storage = Literal["mcap", "sqlite3"]
EVENT_PACKET = "event_camera_msgs/msg/EventPacket"


@dataclass(frozen=True)
class TopicSpec:
    """One recorded topic. ``qos="auto"`` adapts to the publishers' offered QoS."""

    name: str
    msgtype: str  # "pkg/msg/Type"
    qos: QosChoice = "auto"
    wait: bool = False  # recording starts only once this topic has published
    on_start: bool = False  # subscribed only when recording starts (publishers that wait for it)

    @property
    def has_seq(self) -> bool:
        return self.msgtype == EVENT_PACKET


@dataclass(frozen=True)
class RecorderConfig:
    output: str  # the bag folder to create (never overwritten)
    topics: tuple[TopicSpec, ...]
    storage: Storage = "mcap"
    compression: Literal["", "zstd"] = ""
    depth: int = 1000  # subscription queue, sized for bursts of event packets
    require_consent: bool = True
    session_topic: str = "/microexp/session"
    stats_period_s: float = 1.0
    diagnostics_name: str = "microexp recorder"

    def spec(self, topic: str) -> TopicSpec:
        for spec in self.topics:
            if spec.name == topic:
                return spec
        raise ConfigError(f"recorder: topic {topic} is not configured")


_KEYS = {
    "output",
    "topics",
    "types",
    "qos",
    "wait_for",
    "storage",
    "compression",
    "depth",
    "require_consent",
    "session_topic",
    "stats_period_s",
    "subscribe_on_start",
}


def _strings(params: Mapping[str, object], key: str, source: str) -> list[str]:
    value = params.get(key, [])
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence)
        or not all(isinstance(v, str) for v in value)
    ):
        raise ConfigError(f"{source}: {key} must be a list of strings, got {value!r}")
    return [str(v) for v in value]


def recorder_config_from_params(
    params: Mapping[str, object], *, source: str = "recorder"
) -> RecorderConfig:
    """Build and validate the config from the node's parameters (``topics``/``types``/``qos`` are
    parallel lists; ``qos`` may be empty for all-``auto``; ``wait_for`` names topics of ``topics``)."""
    unknown = sorted(set(params) - _KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown parameter(s) {unknown}; known: {sorted(_KEYS)}")
    output = params.get("output", "")
    if not isinstance(output, str) or not output:
        raise ConfigError(f"{source}: output must name the bag folder to create, got {output!r}")
    topics = _strings(params, "topics", source)
    types = _strings(params, "types", source)
    qos = _strings(params, "qos", source) or ["auto"] * len(topics)
    wait_for = set(_strings(params, "wait_for", source))
    on_start = set(_strings(params, "subscribe_on_start", source))
    if not topics:
        raise ConfigError(f"{source}: topics is empty; nothing to record")
    if len(types) != len(topics) or len(qos) != len(topics):
        raise ConfigError(
            f"{source}: topics ({len(topics)}), types ({len(types)}) and qos ({len(qos)}) differ in length"
        )
    if len(set(topics)) != len(topics):
        raise ConfigError(f"{source}: topics has duplicates: {topics}")
    if sorted(on_start - set(topics)) or on_start & wait_for:
        raise ConfigError(
            f"{source}: subscribe_on_start {sorted(on_start)} must name topics of topics "
            "that recording does not wait for"
        )
    missing = sorted(wait_for - set(topics))
    if missing:
        raise ConfigError(f"{source}: wait_for names topics not recorded: {missing}")
    specs = []
    for name, msgtype, choice in zip(topics, types, qos, strict=True):
        if choice not in get_args(QosChoice):
            raise ConfigError(
                f"{source}: qos of {name} is {choice!r}; expected one of {get_args(QosChoice)}"
            )
        if msgtype.count("/") != 2 or "/msg/" not in msgtype:
            raise ConfigError(f"{source}: type of {name} is {msgtype!r}; expected 'pkg/msg/Type'")
        specs.append(
            TopicSpec(
                name=name,
                msgtype=msgtype,
                qos=choice,  # type: ignore[arg-type]
                wait=name in wait_for,
                on_start=name in on_start,
            )
        )
    storage = params.get("storage", "mcap")
    if storage not in get_args(Storage):
        raise ConfigError(f"{source}: storage is {storage!r}; expected mcap or sqlite3")
    compression = params.get("compression", "")
    if compression not in ("", "zstd"):
        raise ConfigError(f"{source}: compression is {compression!r}; expected '' or 'zstd'")
    depth = params.get("depth", 1000)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ConfigError(f"{source}: depth must be a positive integer, got {depth!r}")
    period = params.get("stats_period_s", 1.0)
    if not isinstance(period, int | float) or isinstance(period, bool) or period <= 0:
        raise ConfigError(f"{source}: stats_period_s must be > 0, got {period!r}")
    consent = params.get("require_consent", True)
    if not isinstance(consent, bool):
        raise ConfigError(f"{source}: require_consent must be a bool, got {consent!r}")
    session_topic = params.get("session_topic", "/microexp/session")
    if not isinstance(session_topic, str) or not session_topic.startswith("/"):
        raise ConfigError(
            f"{source}: session_topic must be an absolute topic, got {session_topic!r}"
        )
    return RecorderConfig(
        output=output,
        topics=tuple(specs),
        storage=storage,  # type: ignore[arg-type]
        compression=compression,
        depth=depth,
        require_consent=consent,
        session_topic=session_topic,
        stats_period_s=float(period),
    )
