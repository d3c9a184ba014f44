"""Per-topic recording statistics: counts, bytes, rate, header-stamp lag, and lost messages.

A **lost message** (the one definition; docs/ros_interfaces.md, "Lost messages"): a message that
the publisher of a recorded topic sent after the first message the recording holds from it, and
that the recording does not hold. It is counted from sequence-number gaps between consecutive
recorded messages:

- ``EventPacket`` carries the driver's own ``seq``: its gaps count every loss, in the driver (a
  full send queue) or on the way, and anyone can recount them from the bag (``microexp inspect``);
- every other type is counted from the sequence number that DDS stamps on each sample of a
  publisher (``publication_sequence_number`` of the message info; Fast DDS and Cyclone DDS fill
  it), which only the subscriber sees: the recorder writes its counts into the bag's
  ``SyncSummary``.

``lost_in_transport`` is the DDS count for every topic; for an EventPacket topic
``lost - lost_in_transport`` is what the driver dropped before publishing. A sequence number that
does not increase is a publisher restart (counted in ``restarts``, never as loss). The QoS
"message lost" events of the middleware are not used: they also report samples lost before the
recording started, which is how a bag with a gap-free ``seq`` came with "lost qos 49".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from microexp.recording.gaps import SeqGapCounter

__all__ = ["TopicStats", "TopicStatsSnapshot"]


@dataclass(frozen=True)
class TopicStatsSnapshot:
    """What one topic looked like at one moment (all figures since recording started)."""

    topic: str
    messages: int
    bytes_total: int
    lost: int  # the definition above: seq gaps where the type has a seq, else DDS gaps
    counted_from: Literal["seq", "dds"]
    lost_seq: int  # gaps of the driver's seq (EventPacket); 0 for other types
    lost_in_transport: int  # gaps of the DDS publication sequence number
    restarts: int
    mean_rate_hz: float
    mean_lag_ms: float  # arrival - header.stamp; NaN when no stamp was read
    throughput_mb_s: float

    def as_strings(self) -> dict[str, str]:
        """Key/values for a diagnostics display."""
        return {
            "messages": str(self.messages),
            "bytes": str(self.bytes_total),
            "lost": str(self.lost),
            "lost_counted_from": self.counted_from,
            "lost_seq": str(self.lost_seq),
            "lost_in_transport": str(self.lost_in_transport),
            "publisher_restarts": str(self.restarts),
            "rate_hz": f"{self.mean_rate_hz:.2f}",
            "lag_ms": f"{self.mean_lag_ms:.3f}",
            "throughput_mb_s": f"{self.throughput_mb_s:.3f}",
        }

    def describe(self) -> str:
        """One line for a log: the count and what it was counted from."""
        how = (
            f"seq gaps, {self.lost_in_transport} of them in transport"
            if self.counted_from == "seq"
            else "DDS sequence gaps"
        )
        return f"{self.topic}: {self.messages} msgs, lost {self.lost} ({how})"


@dataclass
class TopicStats:
    """Accumulates the figures of one recorded topic. Times are integer ns (arrival clock)."""

    topic: str
    messages: int = 0
    bytes_total: int = 0
    first_arrival_ns: int | None = None
    last_arrival_ns: int | None = None
    lag_sum_ns: int = 0
    lag_count: int = 0
    gaps: SeqGapCounter = field(default_factory=SeqGapCounter)  # the driver's seq
    transport: SeqGapCounter = field(default_factory=SeqGapCounter)  # DDS publication seq

    def observe(
        self,
        *,
        arrival_ns: int,
        size: int,
        stamp_ns: int | None = None,
        seq: int | None = None,
        dds_seq: int | None = None,
    ) -> int:
        """Record one message; returns how many messages were lost just before it."""
        self.messages += 1
        self.bytes_total += size
        if self.first_arrival_ns is None:
            self.first_arrival_ns = arrival_ns
        self.last_arrival_ns = arrival_ns
        if stamp_ns is not None:
            self.lag_sum_ns += arrival_ns - stamp_ns
            self.lag_count += 1
        lost_transport = self.transport.observe(dds_seq) if dds_seq is not None else 0
        if seq is not None:
            return self.gaps.observe(seq)
        return lost_transport if not self.gaps.received else 0

    @property
    def lost(self) -> int:
        return self.gaps.lost if self.gaps.received else self.transport.lost

    def snapshot(self) -> TopicStatsSnapshot:
        span_ns = 0
        if self.first_arrival_ns is not None and self.last_arrival_ns is not None:
            span_ns = self.last_arrival_ns - self.first_arrival_ns
        span_s = span_ns / 1e9
        rate = (self.messages - 1) / span_s if span_s > 0 else 0.0
        mb_s = self.bytes_total / span_s / 1e6 if span_s > 0 else 0.0
        lag = self.lag_sum_ns / self.lag_count / 1e6 if self.lag_count else float("nan")
        return TopicStatsSnapshot(
            topic=self.topic,
            messages=self.messages,
            bytes_total=self.bytes_total,
            lost=self.lost,
            counted_from="seq" if self.gaps.received else "dds",
            lost_seq=self.gaps.lost,
            lost_in_transport=self.transport.lost,
            restarts=self.gaps.restarts if self.gaps.received else self.transport.restarts,
            mean_rate_hz=rate,
            mean_lag_ms=lag,
            throughput_mb_s=mb_s,
        )
