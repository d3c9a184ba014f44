"""The player's timing on a fake clock: due times from log times and rate, never early, catching up
after a stall, loops, interruption; and the real recording played in full and in order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from microexp.bagio.reader import RawMessage, open_bag
from microexp.errors import ConfigError
from microexp.playback import LatenessHistogram, PlaybackStats, play_messages

MS = 1_000_000


class FakeClock:
    """A monotonic clock that only moves when the player waits (or a test moves it)."""

    def __init__(self, start_ns: int = 5_000 * MS, *, stop_at_ns: int | None = None) -> None:
        self.now = start_ns
        self.stop_at_ns = stop_at_ns
        self.waits: list[float] = []

    def clock(self) -> int:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += round(seconds * 1e9)
        return self.stop_at_ns is not None and self.now >= self.stop_at_ns


def _msgs(log_ms: list[int], topic: str = "/t") -> list[RawMessage]:
    return [RawMessage(topic, "std_msgs/msg/String", 1_000 * MS + t * MS, bytes([i]) * 10, i)
            for i, t in enumerate(log_ms)]  # fmt: skip


def _run(
    log_ms: list[int], *, rate: float = 1.0, loop: bool = False, clock: FakeClock | None = None,
    publish_cost_ns: dict[int, int] | None = None,
) -> tuple[list[tuple[int, int]], FakeClock, PlaybackStats]:  # fmt: skip
    clock = clock or FakeClock()
    sent: list[tuple[int, int]] = []
    msgs = _msgs(log_ms)

    def publish(msg: RawMessage) -> None:
        sent.append((msg.index, clock.now))
        clock.now += (publish_cost_ns or {}).get(msg.index, 0)

    stats = play_messages(lambda: iter(msgs), publish, rate=rate, loop=loop,
                          clock_ns=clock.clock, wait_s=clock.wait)  # fmt: skip
    return sent, clock, stats


def test_each_message_is_sent_when_its_log_time_comes() -> None:
    log_ms = [0, 10, 30, 30, 100, 250]
    sent, _, stats = _run(log_ms)
    t0 = sent[0][1]
    assert [i for i, _ in sent] == list(range(len(log_ms)))
    assert [(t - t0) // MS for _, t in sent] == log_ms
    assert stats.total == 6 and stats.passes == 1 and not stats.interrupted
    assert stats.span_s == pytest.approx(0.25) and stats.wall_s == pytest.approx(0.25)
    assert stats.lateness.max_ns == 0


@pytest.mark.parametrize("rate", [2.0, 0.5])
def test_rate_scales_the_gaps(rate: float) -> None:
    log_ms = [0, 10, 30, 100]
    sent, _, _ = _run(log_ms, rate=rate)
    t0 = sent[0][1]
    assert [(t - t0) / MS for _, t in sent] == pytest.approx([t / rate for t in log_ms])


def test_after_a_stall_late_messages_go_at_once_and_the_pace_resumes() -> None:
    # publishing message 1 takes 45 ms: 2 and 3 (due at 20 and 40 ms) are late, 4 is on time
    sent, _, stats = _run([0, 10, 20, 40, 100], publish_cost_ns={1: 45 * MS})
    t0 = sent[0][1]
    assert [(t - t0) // MS for _, t in sent] == [0, 10, 55, 55, 100]
    assert stats.lateness.max_ns == 35 * MS
    assert stats.lateness.n == 5


def test_out_of_order_log_times_keep_bag_order() -> None:
    sent, _, _ = _run([0, 50, 20, 60])
    t0 = sent[0][1]
    assert [i for i, _ in sent] == [0, 1, 2, 3]
    assert [(t - t0) // MS for _, t in sent] == [0, 50, 50, 60]


def test_loop_follows_the_last_message_after_one_mean_interval() -> None:
    log_ms = [0, 10, 20, 30]  # mean interval 10 ms: a periodic stream stays periodic
    clock = FakeClock(stop_at_ns=None)
    clock.stop_at_ns = clock.now + 95 * MS  # stops while waiting for message 10 (due at 100)
    sent, _, stats = _run(log_ms, loop=True, clock=clock)
    t0 = sent[0][1]
    assert [(t - t0) // MS for _, t in sent] == list(range(0, 100, 10))
    assert [i for i, _ in sent] == [0, 1, 2, 3] * 2 + [0, 1]
    assert stats.passes == 2 and stats.interrupted
    assert stats.total == 10


def test_interrupt_stops_a_long_wait() -> None:
    clock = FakeClock()
    clock.stop_at_ns = clock.now + 1_000 * MS
    sent, _, stats = _run([0, 60_000], clock=clock)
    assert [i for i, _ in sent] == [0]
    assert stats.interrupted and stats.passes == 0


def test_an_empty_selection_plays_nothing_even_with_loop() -> None:
    sent, _, stats = _run([], loop=True)
    assert sent == [] and stats.total == 0 and stats.passes == 0


@pytest.mark.parametrize("rate", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_rates_are_refused(rate: float) -> None:
    with pytest.raises(ConfigError, match="rate must be a positive number"):
        play_messages(lambda: iter(()), lambda m: None, rate=rate)


def test_lateness_percentiles_bound_the_true_values_within_one_bin() -> None:
    hist = LatenessHistogram()
    for late_us in range(1, 1001):  # 1 µs .. 1 ms
        hist.add(late_us * 1000)
    assert 0.5 <= hist.percentile_ms(50) <= 0.5 * 1.13
    assert 0.99 <= hist.percentile_ms(99) <= 0.99 * 1.13
    assert hist.max_ns == 1_000_000 and hist.n == 1000
    assert LatenessHistogram().percentile_ms(50) != LatenessHistogram().percentile_ms(50)  # NaN


def test_the_real_recording_plays_in_full_in_order_at_its_log_times(real_bag: Path) -> None:
    with open_bag(real_bag) as reader:
        expected = [(r.index, r.log_time_ns, bytes(r.data)) for r in reader.messages()]
        clock = FakeClock()
        sent: list[tuple[int, int, bytes]] = []

        def one_pass() -> Iterator[RawMessage]:
            return reader.messages(topics=["/event_camera/events"])

        stats = play_messages(
            one_pass, lambda m: sent.append((m.index, clock.now, bytes(m.data))), rate=4.0,
            clock_ns=clock.clock, wait_s=clock.wait,
        )  # fmt: skip
    assert len(sent) == len(expected) == 517
    assert [s[2] for s in sent] == [e[2] for e in expected]
    t0, l0 = sent[0][1], expected[0][1]
    assert all(s[1] - t0 == (e[1] - l0) // 4 for s, e in zip(sent, expected, strict=True))
    assert stats.messages == {"/event_camera/events": 517}
    assert stats.span_s == pytest.approx(2.076, abs=0.001)
