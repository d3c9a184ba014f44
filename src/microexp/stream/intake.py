"""What the live inference node takes in and what it did: event messages decoded and checked, every
rejected message counted by cause, and the figures of its exit summary and ``/diagnostics``.

ROS-free: the node hands :meth:`EventIntake.accept` the raw CDR bytes of each message and reports
the slices it published with :meth:`InferenceStats.observe_prediction`.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

from microexp.bagio.event_topics import (
    REJECT_CAUSES,
    EventChunk,
    EventDecodeError,
    EventTopicDecoder,
    RejectCause,
)
from microexp.bagio.reader import RawMessage

__all__ = ["EventIntake", "InferenceStats", "Rejection"]


@dataclass(frozen=True)
class Rejection:
    """One rejected message: its cause, the error text, and how many of that cause so far."""

    cause: RejectCause
    reason: str
    count: int


@dataclass
class InferenceStats:
    """Counts since the node started; latencies (ms, per published slice) kept for percentiles."""

    messages: int = 0  # event messages accepted
    events: int = 0
    slices: int = 0  # predictions published, one per slice
    rejected: dict[RejectCause, int] = field(
        default_factory=lambda: dict.fromkeys(REJECT_CAUSES, 0)
    )
    latencies_ms: array[float] = field(default_factory=lambda: array("f"))

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def observe_prediction(self, latency_ms: float) -> None:
        self.slices += 1
        self.latencies_ms.append(latency_ms)

    def latency_ms(self, q: float) -> float:
        """The ``q``-th percentile of the per-slice latency (NaN before the first slice)."""
        if not self.latencies_ms:
            return float("nan")
        return float(np.percentile(np.frombuffer(self.latencies_ms, dtype=np.float32), q))

    def as_strings(self) -> dict[str, str]:
        """Key/values for ``/diagnostics`` (every cause listed, zeros included)."""
        out = {
            "messages": str(self.messages),
            "events": str(self.events),
            "slices": str(self.slices),
            "latency_p50_ms": f"{self.latency_ms(50):.2f}",
            "latency_p99_ms": f"{self.latency_ms(99):.2f}",
            "rejected": str(self.rejected_total),
        }
        out.update({f"rejected_{cause}": str(n) for cause, n in self.rejected.items()})
        return out

    def describe(self) -> str:
        """The exit summary: one line."""
        causes = ", ".join(f"{c} {n}" for c, n in self.rejected.items() if n) or "none"
        return (
            f"{self.messages} event messages, {self.events} events, {self.slices} slices "
            f"predicted, latency p50 {self.latency_ms(50):.2f} ms p99 "
            f"{self.latency_ms(99):.2f} ms; rejected {self.rejected_total} messages ({causes})"
        )


class EventIntake:
    """Decodes one live event topic with a long-lived decoder and refuses what cannot be used:
    undecodable messages (by the decoder's cause) and a sensor geometry that differs from the
    stream's first (the engine is built for that one; counted as ``geometry``)."""

    def __init__(self, *, topic: str, msgtype: str) -> None:
        self.topic = topic
        self.msgtype = msgtype
        self.decoder = EventTopicDecoder(topic)
        self.stats = InferenceStats()
        self.geometry: tuple[int, int] | None = None
        self._index = 0

    def accept(self, data: bytes, *, receive_ns: int) -> EventChunk | Rejection:
        """The decoded chunk of one message, or why it was rejected (counted)."""
        raw = RawMessage(self.topic, self.msgtype, receive_ns, data, self._index)
        self._index += 1
        try:
            chunk = self.decoder.decode(raw)
        except EventDecodeError as err:
            return self._reject(err.cause, str(err))
        geometry = (chunk.width, chunk.height)
        if self.geometry is None:
            self.geometry = geometry
        elif geometry != self.geometry:
            return self._reject(
                "geometry",
                f"topic {self.topic} message {raw.index}: sensor geometry {geometry[0]}x"
                f"{geometry[1]} differs from the stream's {self.geometry[0]}x{self.geometry[1]}",
            )
        self.stats.messages += 1
        self.stats.events += int(chunk.events.size)
        return chunk

    def _reject(self, cause: RejectCause, reason: str) -> Rejection:
        self.stats.rejected[cause] += 1
        return Rejection(cause, reason, self.stats.rejected[cause])
