"""Flash onsets and camera offsets from synthetic streams with a known offset."""

from __future__ import annotations

import numpy as np
import pytest

from microexp.bagio.messages import event_packet, image, serialize
from microexp.bagio.typestore import build_typestore
from microexp.events.dv_event_array import encode_event_array_cdr
from microexp.events.evt3 import Evt3Encoder
from microexp.events.types import make_events
from microexp.sync import SyncMonitor, brightness_onset, event_burst_onset

MS = 1_000_000
T0 = 1_700_000_000_000_000_000  # ns, a UNIX time
FLASH = T0 + 1_000 * MS


def _events(rng: np.random.Generator, *, start_ns: int, stop_ns: int, burst_ns: int):  # type: ignore[no-untyped-def]
    """5 kev/s background over [start, stop) plus 3000 events within 4 ms from burst_ns."""
    n_bg = int((stop_ns - start_ns) / 1e9 * 5000)
    t = np.concatenate(
        [rng.integers(start_ns, stop_ns, n_bg), rng.integers(burst_ns, burst_ns + 4 * MS, 3000)]
    )
    t_us = np.sort(t // 1000)
    return make_events(
        x=rng.integers(0, 346, t_us.size),
        y=rng.integers(0, 260, t_us.size),
        t=t_us,
        p=rng.integers(0, 2, t_us.size),
    )


def test_event_burst_onset_finds_the_first_hot_bin() -> None:
    counts = np.full(100, 5, dtype=np.int64)
    counts[60:64] = 200
    onset = event_burst_onset(0, counts, bin_ns=MS, around_ns=50 * MS, guard_ns=10 * MS)
    assert onset is not None and onset.t_ns == 60 * MS and onset.uncertainty_ns == MS
    assert (
        event_burst_onset(
            0, np.full(100, 5, dtype=np.int64), bin_ns=MS, around_ns=50 * MS, guard_ns=10 * MS
        )
        is None
    )


def test_brightness_onset() -> None:
    stamps = np.arange(20, dtype=np.int64) * 33 * MS
    means = np.where(stamps >= 10 * 33 * MS, 200.0, 50.0)
    onset = brightness_onset(stamps, means, around_ns=9 * 33 * MS, guard_ns=40 * MS)
    assert onset is not None and onset.t_ns == 10 * 33 * MS and onset.uncertainty_ns == 33 * MS


def test_monitor_measures_each_camera_offset() -> None:
    rng = np.random.default_rng(7)
    store = build_typestore()
    mon = SyncMonitor(
        [
            ("/davis/events", "dv_ros2_msgs/msg/EventArray"),
            ("/davis/image", "sensor_msgs/msg/Image"),
            ("/evk4/events", "event_camera_msgs/msg/EventPacket"),
        ]
    )
    mon.on_flash(flash_index=0, flash_ns=FLASH)
    davis = _events(rng, start_ns=T0 + 500 * MS, stop_ns=T0 + 1_500 * MS, burst_ns=FLASH + 12 * MS)
    for i, chunk in enumerate(np.array_split(davis, 50)):
        mon.on_message(
            "/davis/events",
            encode_event_array_cdr(chunk, stamp_ns=T0, frame_id="d", width=346, height=260),
            T0 + 520 * MS + i * 20 * MS,
        )
    for k in range(30):  # frames at 30 Hz; the flash is visible from the frame at FLASH + 40 ms
        stamp = T0 + 600 * MS + k * 33_333_333
        level = 220 if stamp >= FLASH + 40 * MS else 40
        mon.on_message(
            "/davis/image",
            serialize(
                store,
                image(
                    store, pixels=np.full((26, 34), level, np.uint8), stamp_ns=stamp, frame_id="d"
                ),
            ),
            stamp,
        )
    # EVK4: sensor time starts at 0; each packet's header stamp is host time (sensor 0 <-> T0 + 500 ms)
    evk4 = _events(rng, start_ns=0, stop_ns=1_000 * MS, burst_ns=(FLASH - T0 - 500 * MS) - 3 * MS)
    enc = Evt3Encoder()
    seq = 0
    for chunk in np.array_split(evk4, 40):
        if chunk.size == 0:
            continue
        stamp = T0 + 500 * MS + int(chunk["t"][0]) * 1000
        msg = event_packet(
            store,
            events=enc.encode(chunk),
            stamp_ns=stamp,
            frame_id="e",
            width=1280,
            height=720,
            seq=seq,
        )
        seq += 2 if seq == 10 else 1  # one lost message
        mon.on_message("/evk4/events", serialize(store, msg), stamp + MS)
    offsets = {o.topic: o for o in mon.poll(now_ns=T0 + 1_600 * MS)}
    assert offsets["/davis/events"].offset_ns == 12 * MS
    assert offsets["/davis/image"].offset_ns == pytest.approx(40 * MS, abs=34 * MS)
    assert abs(offsets["/evk4/events"].offset_ns - (-3 * MS)) <= MS
    assert {o.camera for o in offsets.values()} == {"davis", "evk4"}
    assert mon.poll(now_ns=T0 + 5_000 * MS) == []  # each flash is reported once
    snaps = {s.topic: s for s in mon.snapshots()}
    assert snaps["/evk4/events"].lost_seq == 1 and snaps["/davis/image"].messages == 30


def test_pending_flash_waits_for_data() -> None:
    mon = SyncMonitor([("/davis/events", "dv_ros2_msgs/msg/EventArray")])
    mon.on_flash(flash_index=3, flash_ns=FLASH)
    assert mon.poll(now_ns=FLASH) == []
    assert mon.poll(now_ns=FLASH, force=True) == []  # no data: no onset, and the flash is done
    assert mon.pending == []
