"""Per-topic recording statistics: counts, bytes, rate, header-stamp lag, seq gaps, QoS losses."""

from __future__ import annotations

from dataclasses import dataclass, field

from microexp.recording.gaps import SeqGapCounter

__all__ = ["TopicStats", "TopicStatsSnapshot"]


@dataclass(frozen=True)
class TopicStatsSnapshot:
    """What one topic looked like at one moment (all figures since recording started)."""

    topic: str
    messages: int
    bytes_total: int
    lost_seq: int
    lost_qos: int
    restarts: int
    mean_rate_hz: float
    mean_lag_ms: float  # arrival - header.stamp; NaN when no stamp was read
    throughput_mb_s: float

    def as_strings(self) -> dict[str, str]:
        """Key/values for a diagnostics display."""
        return {
            "messages": str(self.messages),
            "bytes": str(self.bytes_total),
            "lost_seq": str(self.lost_seq),
            "lost_qos": str(self.lost_qos),
            "publisher_restarts": str(self.restarts),
            "rate_hz": f"{self.mean_rate_hz:.2f}",
            "lag_ms": f"{self.mean_lag_ms:.3f}",
            "throughput_mb_s": f"{self.throughput_mb_s:.3f}",
        }


@dataclass
class TopicStats:
    """Accumulates the figures of one recorded topic. Times are integer ns (arrival clock)."""

    topic: str
    messages: int = 0
    bytes_total: int = 0
    lost_qos: int = 0
    first_arrival_ns: int | None = None
    last_arrival_ns: int | None = None
    lag_sum_ns: int = 0
    lag_count: int = 0
    gaps: SeqGapCounter = field(default_factory=SeqGapCounter)

    def observe(
        self, *, arrival_ns: int, size: int, stamp_ns: int | None = None, seq: int | None = None
    ) -> int:
        """Record one message; returns the number of messages its ``seq`` says were lost."""
        self.messages += 1
        self.bytes_total += size
        if self.first_arrival_ns is None:
            self.first_arrival_ns = arrival_ns
        self.last_arrival_ns = arrival_ns
        if stamp_ns is not None:
            self.lag_sum_ns += arrival_ns - stamp_ns
            self.lag_count += 1
        return self.gaps.observe(seq) if seq is not None else 0

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
            lost_seq=self.gaps.lost,
            lost_qos=self.lost_qos,
            restarts=self.gaps.restarts,
            mean_rate_hz=rate,
            mean_lag_ms=lag,
            throughput_mb_s=mb_s,
        )
