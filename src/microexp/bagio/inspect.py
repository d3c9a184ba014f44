"""What a bag holds: per topic the type, message count and lost messages; per event topic the
decoded event statistics (ON/OFF, triggers, first/last time, rate, ``seq`` gaps); per protocol
topic the recorded segments; the subject's consent (``microexp_msgs/Consent``, or a pre-scope
bag's ``SessionInfo.consent``). One streaming pass; the CLI (``microexp inspect``) only formats.

Lost messages follow the one definition of :mod:`microexp.recording.stats`: the recorder's counts
come from the bag's ``/microexp/sync_summary``; an EventPacket topic's ``seq`` gaps are recounted
here, and a recount that differs from the recorder's is reported in the notes. A bag without a
summary (another recorder) has counts only where a ``seq`` allows the recount.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from microexp.bagio.event_topics import EVENT_TYPES, EventTopicDecoder
from microexp.bagio.reader import BagReader, RawMessage, open_bag
from microexp.consent.record import CONSENT_TYPE, recorded_scope
from microexp.consent.scope import ConsentScope
from microexp.errors import ConfigError, DecodeError

__all__ = [
    "PROTOCOL_EVENT",
    "BagSummary",
    "EventStats",
    "Segment",
    "TopicSummary",
    "inspect_bag",
]

log = logging.getLogger(__name__)

PROTOCOL_EVENT = "microexp_msgs/msg/ProtocolEvent"
SESSION_INFO = "microexp_msgs/msg/SessionInfo"
SYNC_SUMMARY = "microexp_msgs/msg/SyncSummary"
_KIND_SEGMENT_START, _KIND_SEGMENT_END, _KIND_ATTEMPT_INVALID = 3, 4, 7


@dataclass
class EventStats:
    """Decoded statistics of one event topic. Times are sensor µs; rate is events per sensor second."""

    encoding: str = ""
    width: int = 0
    height: int = 0
    events_on: int = 0
    events_off: int = 0
    triggers: int = 0
    t_first_us: int | None = None
    t_last_us: int | None = None
    event_rate_hz: float = 0.0
    seq_first: int | None = None
    seq_last: int | None = None
    seq_gaps: int = 0
    """Messages lost: the count of sequence numbers missing between consecutive messages."""
    decode_errors: int = 0

    def add_times(self, t: np.ndarray) -> None:
        if t.size:
            lo, hi = int(t.min()), int(t.max())
            self.t_first_us = lo if self.t_first_us is None else min(self.t_first_us, lo)
            self.t_last_us = hi if self.t_last_us is None else max(self.t_last_us, hi)

    def add_seq(self, seq: int | None) -> None:
        if seq is None:
            return
        if self.seq_last is not None and seq > self.seq_last + 1:
            self.seq_gaps += seq - self.seq_last - 1
        if self.seq_first is None:
            self.seq_first = seq
        self.seq_last = seq


@dataclass(frozen=True)
class Segment:
    """One protocol segment attempt, from its SEGMENT_START to its SEGMENT_END (ROS time, ns)."""

    segment_index: int
    attempt: int
    label: str
    start_ns: int | None
    end_ns: int | None
    valid: bool


@dataclass
class TopicSummary:
    type: str
    messages: int
    events: EventStats | None = None
    segments: list[Segment] | None = None
    lost: int | None = None  # lost messages (module doc); None: nothing to count them from
    lost_in_transport: int | None = None  # of which DDS lost (the recorder's count)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "messages": self.messages,
            "lost": self.lost,
            "lost_in_transport": self.lost_in_transport,
        }
        if self.events is not None:
            out.update(asdict(self.events))
        if self.segments is not None:
            out["segments"] = [asdict(s) for s in self.segments]
        return out


@dataclass
class BagSummary:
    path: str
    topics: dict[str, TopicSummary] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    consent: ConsentScope | None = None  # None: no consent recorded

    def to_json(self) -> dict[str, Any]:
        return {
            "bag": self.path,
            "topics": {name: t.to_json() for name, t in self.topics.items()},
            "consent": None if self.consent is None else self.consent.to_dict(),
            "notes": list(self.notes),
        }


def inspect_bag(path: Path | str, *, decode_events: bool = True) -> BagSummary:
    """Summarise a bag in one streaming pass (``decode_events=False``: counts only)."""
    with open_bag(path) as reader:
        summary = BagSummary(str(path))
        for name, info in reader.topics.items():
            summary.topics[name] = TopicSummary(info.msgtype, info.count)
        wanted = [n for n, t in summary.topics.items() if t.type in (PROTOCOL_EVENT, SYNC_SUMMARY)
                  or (decode_events and t.type in EVENT_TYPES)]  # fmt: skip
        decoders = {
            n: EventTopicDecoder(n) for n in wanted if summary.topics[n].type in EVENT_TYPES
        }
        protocol: dict[str, list[Any]] = {n: [] for n in wanted if n not in decoders}
        for name in decoders:
            summary.topics[name].events = EventStats()
        if wanted:
            for raw in reader.messages(topics=wanted):
                if raw.topic in decoders:
                    _add_event_message(summary, decoders[raw.topic], raw)
                else:
                    protocol[raw.topic].append(_protocol_message(reader, raw, summary))
        for name, msgs in protocol.items():
            msgs = [m for m in msgs if m is not None]
            if summary.topics[name].type == SYNC_SUMMARY:
                if msgs:
                    _add_recorder_counts(summary, msgs[-1])
                continue
            summary.topics[name].segments = _segments(msgs)
        _recount_seq_gaps(summary)
        for stats in (t.events for t in summary.topics.values()):
            if stats is not None and stats.t_first_us is not None and stats.t_last_us is not None:
                span_s = (stats.t_last_us - stats.t_first_us) / 1e6
                n = stats.events_on + stats.events_off
                stats.event_rate_hz = n / span_s if span_s > 0 else 0.0
        summary.consent = _consent(reader, summary)
        summary.notes = reader.notes + summary.notes
    return summary


def _consent(reader: BagReader, summary: BagSummary) -> ConsentScope | None:
    """The bag's consent record (the last Consent, else a pre-scope SessionInfo.consent)."""
    last: dict[str, Any] = {}
    for msgtype in (CONSENT_TYPE, SESSION_INFO):
        topics = [n for n, t in summary.topics.items() if t.type == msgtype]
        for raw in reader.messages(topics=topics) if topics else ():
            msg = _protocol_message(reader, raw, summary)
            if msg is not None:
                last[msgtype] = msg
    try:
        return recorded_scope(
            consent_msg=last.get(CONSENT_TYPE),
            session_msg=last.get(SESSION_INFO),
            where=f"{summary.path}: consent",
        )
    except ConfigError as err:
        summary.notes.append(str(err))
        return None


def _add_event_message(summary: BagSummary, decoder: EventTopicDecoder, raw: RawMessage) -> None:
    stats = summary.topics[raw.topic].events
    assert stats is not None
    try:
        chunk = decoder.decode(raw)
    except DecodeError as err:
        stats.decode_errors += 1
        note = str(err)
        if stats.decode_errors <= 3:
            summary.notes.append(note)
        log.warning("%s", note)
        return
    stats.encoding, stats.width, stats.height = chunk.encoding, chunk.width, chunk.height
    on = int(np.count_nonzero(chunk.events["p"]))
    stats.events_on += on
    stats.events_off += chunk.events.size - on
    stats.triggers += chunk.triggers.size
    stats.add_times(chunk.events["t"])
    stats.add_times(chunk.triggers["t"])
    stats.add_seq(chunk.seq)


def _add_recorder_counts(summary: BagSummary, msg: Any) -> None:
    """The recorder's lost-message counts from its SyncSummary."""
    lost = np.asarray(msg.lost_messages).tolist()
    transport = np.asarray(msg.qos_lost).tolist()
    for topic, n, t in zip(msg.topics, lost, transport, strict=True):
        if topic in summary.topics:
            summary.topics[topic].lost = int(n)
            summary.topics[topic].lost_in_transport = int(t)


def _recount_seq_gaps(summary: BagSummary) -> None:
    """EventPacket topics: the bag's own ``seq`` gaps, checked against the recorder's count."""
    for name, topic in summary.topics.items():
        stats = topic.events
        if stats is None or stats.seq_first is None:
            continue
        if topic.lost is None:
            topic.lost = stats.seq_gaps
        elif topic.lost != stats.seq_gaps:
            summary.notes.append(
                f"{name}: the recorder counted {topic.lost} lost messages, the bag's seq has "
                f"{stats.seq_gaps} gaps"
            )


def _protocol_message(reader: BagReader, raw: RawMessage, summary: BagSummary) -> Any:
    try:
        return reader.deserialize(raw)
    except DecodeError as err:
        summary.notes.append(str(err))
        return None


def _segments(msgs: list[Any]) -> list[Segment]:
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for m in msgs:
        if m.kind not in (_KIND_SEGMENT_START, _KIND_SEGMENT_END, _KIND_ATTEMPT_INVALID):
            continue
        key = (int(m.segment_index), int(m.attempt))
        seg = found.setdefault(key, {"label": m.label, "start_ns": None, "end_ns": None,
                                     "valid": True})  # fmt: skip
        stamp_ns = int(m.header.stamp.sec) * 1_000_000_000 + int(m.header.stamp.nanosec)
        if m.kind == _KIND_SEGMENT_START:
            seg["start_ns"] = stamp_ns
        elif m.kind == _KIND_SEGMENT_END:
            seg["end_ns"] = stamp_ns
            seg["valid"] = seg["valid"] and bool(m.valid)
        else:
            seg["valid"] = False
    return [Segment(k[0], k[1], **v) for k, v in sorted(found.items())]
