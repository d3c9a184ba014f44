"""Core protocol event and session records; 1:1 with ``microexp_msgs/ProtocolEvent`` and
``microexp_msgs/SessionInfo``.

``ProtocolEvent.stamp_ns`` is the ``header.stamp`` of the message: the time at which the first
display frame showing the change was shown (or the engine's scheduled time when no display is
driven). Session-level events (session start/end, the session's own sync flashes) carry
``attempt == 0`` and an empty label.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from microexp.errors import ConfigError, MicroexpError

__all__ = [
    "EventKind",
    "Phase",
    "ProtocolError",
    "ProtocolEvent",
    "SessionInfo",
    "event_from_msg",
    "read_events_jsonl",
    "session_from_msg",
    "write_events_jsonl",
]


class ProtocolError(MicroexpError):
    """The protocol cannot run as asked (no consent, finished session, progress of another plan)."""


class EventKind(IntEnum):
    """``ProtocolEvent.KIND_*``."""

    SESSION_START = 0
    SESSION_END = 1
    SYNC_FLASH = 2
    SEGMENT_START = 3
    SEGMENT_END = 4
    PHASE = 5
    COMMAND = 6
    ATTEMPT_INVALID = 7


class Phase(IntEnum):
    """``ProtocolEvent.PHASE_*``."""

    NONE = 0
    NEUTRAL = 1
    DEMO = 2
    COUNTDOWN = 3
    PERFORM = 4
    REST = 5
    SYNC = 6
    PAUSED = 7


@dataclass(frozen=True, slots=True)
class ProtocolEvent:
    """One protocol event (field for field the ROS message; ``stamp_ns`` is ``header.stamp``)."""

    kind: EventKind
    phase: Phase
    stamp_ns: int
    session_id: str
    subject_id: str
    segment_index: int
    attempt: int
    label: str
    au_numbers: tuple[int, ...]
    valid: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.name
        d["phase"] = self.phase.name
        d["au_numbers"] = list(self.au_numbers)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, where: str = "") -> ProtocolEvent:
        try:
            return cls(
                kind=EventKind[d["kind"]] if isinstance(d["kind"], str) else EventKind(d["kind"]),
                phase=Phase[d["phase"]] if isinstance(d["phase"], str) else Phase(d["phase"]),
                stamp_ns=int(d["stamp_ns"]),
                session_id=str(d["session_id"]),
                subject_id=str(d["subject_id"]),
                segment_index=int(d["segment_index"]),
                attempt=int(d["attempt"]),
                label=str(d["label"]),
                au_numbers=tuple(int(n) for n in d["au_numbers"]),
                valid=bool(d["valid"]),
                detail=str(d["detail"]),
            )
        except (KeyError, ValueError, TypeError) as err:
            raise ConfigError(f"{where}: bad protocol event {dict(d)!r}: {err!r}") from err


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who is recorded and under which conditions (``microexp_msgs/SessionInfo``)."""

    subject_id: str
    session_id: str
    consent: bool
    plan_name: str = ""
    glasses: bool = False
    lux: float = math.nan  # NaN when not measured
    lighting: str = ""
    notes: str = ""
    microexp_version: str = field(default_factory=lambda: _version())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["lux"] = None if math.isnan(self.lux) else self.lux
        return d


def _version() -> str:
    from microexp import __version__

    return __version__


def _stamp_ns(header: Any) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def event_from_msg(msg: Any) -> ProtocolEvent:
    """A ``microexp_msgs/msg/ProtocolEvent`` message object as a core :class:`ProtocolEvent`."""
    return ProtocolEvent(
        kind=EventKind(int(msg.kind)),
        phase=Phase(int(msg.phase)),
        stamp_ns=_stamp_ns(msg.header),
        session_id=str(msg.session_id),
        subject_id=str(msg.subject_id),
        segment_index=int(msg.segment_index),
        attempt=int(msg.attempt),
        label=str(msg.label),
        au_numbers=tuple(int(n) for n in msg.au_numbers),
        valid=bool(msg.valid),
        detail=str(msg.detail),
    )


def session_from_msg(msg: Any) -> SessionInfo:
    """A ``microexp_msgs/msg/SessionInfo`` message object as a core :class:`SessionInfo`."""
    return SessionInfo(
        subject_id=str(msg.subject_id),
        session_id=str(msg.session_id),
        consent=bool(msg.consent),
        plan_name=str(msg.plan_name),
        glasses=bool(msg.glasses),
        lux=float(msg.lux),
        lighting=str(msg.lighting),
        notes=str(msg.notes),
        microexp_version=str(msg.microexp_version),
    )


def write_events_jsonl(path: Path, events: Iterable[ProtocolEvent]) -> int:
    """Write events one JSON object a line; returns the count."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for ev in events:
            f.write(json.dumps(ev.to_dict(), sort_keys=True) + "\n")
            n += 1
    return n


def read_events_jsonl(path: Path) -> Iterator[ProtocolEvent]:
    """Read what :func:`write_events_jsonl` wrote; errors name the file and line."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{path}:{lineno}: not JSON: {err}") from err
            yield ProtocolEvent.from_dict(d, where=f"{path}:{lineno}")
