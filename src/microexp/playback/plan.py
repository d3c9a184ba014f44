"""What the player plays: its config (the node's parameters) and the selected topics of a bag, each
with the QoS it is published with, read through a message source (:func:`open_bag` by default;
a faster batched reader drops in through :class:`MessageSource`)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from microexp.bagio.reader import RawMessage, TopicInfo
from microexp.errors import BagError, ConfigError
from microexp.playback.qos import (
    TopicQos,
    load_qos_overrides,
    parse_qos_assignments,
    resolve_topic_qos,
)
from microexp.rosgraph.rig import RigConfig

__all__ = ["MessageSource", "PlayedTopic", "PlayerConfig", "rig_topic_qos", "select_topics"]


class MessageSource(Protocol):
    """What the player reads: topic infos and a stream of raw messages in log-time order
    (:class:`microexp.bagio.reader.BagReader` is one)."""

    @property
    def topics(self) -> dict[str, TopicInfo]: ...

    def messages(self, *, topics: Sequence[str] | None = None) -> Iterator[RawMessage]: ...


@dataclass(frozen=True)
class PlayerConfig:
    """The ``player`` node's parameters (``microexp play`` sets them)."""

    bag: str
    rate: float = 1.0  # 2.0 plays twice as fast
    loop: bool = False
    topics: tuple[str, ...] = ()  # empty: every topic of the bag
    qos: tuple[str, ...] = ()  # overrides, "/topic=reliable|sensor_data|latched"
    qos_profiles: str = ""  # a QoS profile file in rosbag2's override format ("" = none)
    rig_dir: str = ""  # "" = the installed config/rig of the microexp package
    wait_for: tuple[str, ...] = ()  # played topics that need a subscriber before the first message
    wait_timeout_s: float = 60.0  # then play anyway, with a warning

    def __post_init__(self) -> None:
        if not self.bag:
            raise ConfigError("player: parameter bag is required (a bag folder or file)")
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ConfigError(f"player: rate must be a positive number, got {self.rate!r}")
        if not (self.wait_timeout_s >= 0):
            raise ConfigError(f"player: wait_timeout_s must be >= 0, got {self.wait_timeout_s}")
        bad = [t for t in (*self.topics, *self.wait_for) if not t.startswith("/")]
        if bad:
            raise ConfigError(f"player: topics must be absolute names, got {bad}")
        parse_qos_assignments(self.qos)  # fails early on a malformed override


@dataclass(frozen=True)
class PlayedTopic:
    name: str
    msgtype: str
    count: int
    qos: TopicQos


def rig_topic_qos(rig: RigConfig) -> dict[str, str]:
    """Every topic the rig declares -> its ``qos`` entry."""
    out = {t.name: t.qos for cam in rig.cameras.values() for t in cam.topics}
    out.update({t.name: t.qos for t in (*rig.protocol_topics, *rig.sim_topics)})
    return out


def select_topics(
    source: MessageSource, config: PlayerConfig, *, rig: RigConfig, where: str
) -> list[PlayedTopic]:
    """The bag's topics that ``config`` selects, each with its QoS (see
    :mod:`microexp.playback.qos`). A requested topic the bag lacks is an error naming ``where``."""
    available = source.topics
    missing = sorted(set(config.topics) - set(available))
    if missing:
        raise BagError(f"{where}: no topic {missing} to play (has {sorted(available)})")
    names = list(config.topics) if config.topics else sorted(available)
    profiles = load_qos_overrides(Path(config.qos_profiles)) if config.qos_profiles else {}
    overrides = parse_qos_assignments(config.qos)
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError(f"player: QoS override for topic(s) {unknown} that are not played")
    rig_qos = rig_topic_qos(rig)
    return [
        PlayedTopic(
            name=n,
            msgtype=available[n].msgtype,
            count=available[n].count,
            qos=resolve_topic_qos(
                n, available[n].msgtype, overrides=overrides, profiles=profiles, rig_qos=rig_qos
            ),
        )
        for n in names
    ]
