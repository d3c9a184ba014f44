"""Publish recorded messages at their recorded pace: the player's timing, without ROS.

Each message is due at ``origin + (log_time − first log time) / rate`` on a monotonic clock, where
``origin`` is when playback starts; messages are sent in bag order and never early, and a message
whose time has passed (after a stall) is sent at once, so the stream catches up instead of drifting.
With ``loop`` the next pass follows the last message of the previous one after one mean
inter-message interval, so a periodic stream stays periodic across passes. The clock and the wait
are injected (tests run on a fake clock; the node passes ``threading.Event.wait`` so that SIGINT
stops a long wait at once).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from microexp.bagio.reader import RawMessage
from microexp.errors import ConfigError

__all__ = ["LatenessHistogram", "PlaybackStats", "play_messages"]

_BINS_PER_DECADE = 20  # 12 % wide bins: percentiles within 12 %, constant memory for endless loops


@dataclass
class LatenessHistogram:
    """How late messages were sent after their due time, in log-spaced µs bins (bounded memory)."""

    counts: dict[int, int] = field(default_factory=dict)
    n: int = 0
    max_ns: int = 0

    def add(self, late_ns: int) -> None:
        late_us = max(late_ns, 0) / 1000.0
        b = 0 if late_us <= 1.0 else math.ceil(_BINS_PER_DECADE * math.log10(late_us))
        self.counts[b] = self.counts.get(b, 0) + 1
        self.n += 1
        self.max_ns = max(self.max_ns, late_ns)

    def percentile_ms(self, q: float) -> float:
        """Upper edge of the bin holding the ``q``-th percentile (0 < q <= 100), in ms."""
        if not self.n:
            return float("nan")
        need = math.ceil(self.n * q / 100.0)
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen >= need:
                return 10 ** (b / _BINS_PER_DECADE) / 1000.0
        return self.max_ns / 1e6


@dataclass
class PlaybackStats:
    """What a playback did. Times: ``wall_s`` from the first send to the last, ``span_s`` the
    log-time span of one pass."""

    rate: float
    messages: dict[str, int] = field(default_factory=dict)
    bytes_total: int = 0
    passes: int = 0  # complete passes over the bag
    interrupted: bool = False
    span_s: float = 0.0
    wall_s: float = 0.0
    lateness: LatenessHistogram = field(default_factory=LatenessHistogram)

    @property
    def total(self) -> int:
        return sum(self.messages.values())

    def describe(self) -> str:
        """One line for the log: counts, pace, lateness percentiles."""
        how = "interrupted" if self.interrupted else "finished"
        per_topic = ", ".join(f"{t} {n}" for t, n in sorted(self.messages.items()))
        late = self.lateness
        return (
            f"{how}: {self.total} messages ({self.bytes_total / 1e6:.1f} MB) in {self.wall_s:.2f} s"
            f" at rate {self.rate:g} (bag span {self.span_s:.2f} s), {self.passes} complete "
            f"pass(es); sent late p50 {late.percentile_ms(50):.2f} ms, "
            f"p99 {late.percentile_ms(99):.2f} ms, max {late.max_ns / 1e6:.1f} ms; {per_topic}"
        )


def play_messages(
    open_pass: Callable[[], Iterable[RawMessage]],
    publish: Callable[[RawMessage], None],
    *,
    rate: float = 1.0,
    loop: bool = False,
    clock_ns: Callable[[], int] = time.monotonic_ns,
    wait_s: Callable[[float], bool] | None = None,
) -> PlaybackStats:
    """Send every message of ``open_pass()`` through ``publish`` at its due time (module doc).

    ``wait_s(seconds)`` sleeps and returns True when playback must stop (default: an Event's wait
    that is never set). Returns the statistics; ``interrupted`` when ``wait_s`` asked to stop."""
    if not (rate > 0 and math.isfinite(rate)):
        raise ConfigError(f"player: rate must be a positive number, got {rate!r}")
    if wait_s is None:
        wait_s = threading.Event().wait
    stats = PlaybackStats(rate=rate)
    origin_ns: int | None = None
    offset_ns = 0.0  # of the current pass, in wall ns
    first_log: int | None = None
    first_sent: int | None = None
    last_sent = 0
    while True:
        count = 0
        last_log = 0
        for msg in open_pass():
            if first_log is None:
                first_log = msg.log_time_ns
            if origin_ns is None:
                origin_ns = clock_ns()
            due = origin_ns + int(offset_ns + (msg.log_time_ns - first_log) / rate)
            now = clock_ns()
            while now < due:
                if wait_s((due - now) / 1e9):
                    stats.interrupted = True
                    break
                now = clock_ns()
            if stats.interrupted or wait_s(0.0):
                stats.interrupted = True
                break
            publish(msg)
            stats.lateness.add(now - due)
            stats.messages[msg.topic] = stats.messages.get(msg.topic, 0) + 1
            stats.bytes_total += len(msg.data)
            if first_sent is None:
                first_sent = now
            last_sent = now
            count += 1
            last_log = msg.log_time_ns
        if first_sent is not None:
            stats.wall_s = (last_sent - first_sent) / 1e9
        if stats.interrupted or count == 0:
            return stats
        stats.passes += 1
        assert first_log is not None
        if stats.passes == 1:
            stats.span_s = (last_log - first_log) / 1e9
        if not loop:
            return stats
        span_ns = stats.span_s * 1e9
        offset_ns += (span_ns + (span_ns / (count - 1) if count > 1 else 1e9)) / rate
