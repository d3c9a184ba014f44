"""Flash patterns of the plans (two flashes 0.1 s on, 0.1 s off): the second flash's onset is its
own, not the end of the first; a camera that trails is still measured."""

from __future__ import annotations

import numpy as np

from microexp.events.dv_event_array import encode_event_array_cdr
from microexp.events.types import make_events
from microexp.sync import SyncMonitor, brightness_onset

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def _pair_events(rng: np.random.Generator, offset_ns: int) -> list[bytes]:
    """1 s of DAVIS background, bursts at both edges of flashes at T0+500 ms and T0+700 ms."""
    parts = [rng.integers(T0, T0 + 1000 * MS, 5000)]
    for edge in (500, 600, 700, 800):  # on, off, on, off
        start = T0 + edge * MS + offset_ns
        parts.append(rng.integers(start, start + 3 * MS, 2000))
    t_us = np.sort(np.concatenate(parts) // 1000)
    ev = make_events(x=rng.integers(0, 346, t_us.size), y=rng.integers(0, 260, t_us.size),
                     t=t_us, p=rng.integers(0, 2, t_us.size))  # fmt: skip
    return [
        bytes(encode_event_array_cdr(c, stamp_ns=T0, frame_id="d", width=346, height=260))
        for c in np.array_split(ev, 100)
    ]


def test_second_flash_of_a_pair_is_measured_at_its_own_onset() -> None:
    mon = SyncMonitor([("/davis/events", "dv_ros2_msgs/msg/EventArray")])  # default window
    mon.on_flash(flash_index=0, flash_ns=T0 + 500 * MS)
    mon.on_flash(flash_index=1, flash_ns=T0 + 700 * MS)
    for i, data in enumerate(_pair_events(np.random.default_rng(1), -7 * MS)):
        mon.on_message("/davis/events", data, T0 + i * 10 * MS)
    got = {o.flash_index: o.offset_ns for o in mon.poll(now_ns=T0 + 1000 * MS)}
    assert got == {0: -7 * MS, 1: -7 * MS}


def test_a_trailing_stream_is_waited_for() -> None:
    mon = SyncMonitor([("/davis/events", "dv_ros2_msgs/msg/EventArray")])
    mon.on_flash(flash_index=0, flash_ns=T0 + 500 * MS)
    # the camera's data arrive 2 s late: nothing is decided before them
    assert mon.poll(now_ns=T0 + 2500 * MS) == []
    for data in _pair_events(np.random.default_rng(2), 3 * MS):
        mon.on_message("/davis/events", data, T0 + 2600 * MS)
    (off,) = mon.poll(now_ns=T0 + 2700 * MS)
    assert off.offset_ns == 3 * MS


def test_brightness_baseline_ignores_frames_lit_by_the_previous_flash() -> None:
    stamps = np.arange(-6, 4, dtype=np.int64) * 33 * MS
    # frames -6..-3 lit by the previous flash (fading), -2..-1 dark, 0.. lit by this one
    means = np.array([210, 210, 210, 150, 120, 120, 210, 210, 210, 130], dtype=np.float64)
    onset = brightness_onset(stamps, means, around_ns=0, guard_ns=50 * MS)
    assert onset is not None and onset.t_ns == 0
