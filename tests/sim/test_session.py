"""Whole sessions: protocol on a fake clock, subject performs, cameras see it in the right place."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from microexp.aus import CATALOG
from microexp.events.types import EventArray
from microexp.protocol.events import EventKind
from microexp.protocol.plan import SessionPlan
from microexp.sim.camera_sim import CameraSimulator
from microexp.sim.sensors import davis346, evk4, rig_profiles
from microexp.sim.session import SessionSimConfig, SimulatedSession, simulate_session
from microexp.sim.subject import Box, face_region_boxes


@pytest.fixture(scope="module")
def still_session(tiny_plan: SessionPlan) -> SimulatedSession:
    """No blinks, no head sway: every signal event comes from the performed AUs or a flash."""
    return simulate_session(
        tiny_plan, SessionSimConfig("s07", seed=11, blinks=False, head_motion=False)
    )


@pytest.fixture(scope="module")
def davis_events(still_session: SimulatedSession) -> EventArray:
    sim = CameraSimulator(still_session.scene, davis346(), seed=5)
    return np.concatenate([c.events for c in sim.chunks(chunk_us=500_000)])


def test_one_action_per_segment_inside_its_perform_window(still_session: SimulatedSession) -> None:
    s = still_session
    segs = [g for g in s.segments if g.valid]
    assert [a.label for a in s.ground_truth] == [g.label for g in segs] == ["AU12", "AU12", "AU4"]
    for action, seg in zip(s.ground_truth, segs, strict=True):
        p = action.profile
        assert s.to_ros_ns(p.onset_us) > seg.perform_start_ns
        assert s.to_ros_ns(p.offset_us) <= seg.perform_end_ns
        assert 170_000 <= p.duration_us <= 500_001
        assert (action.segment_index, action.attempt) == (seg.segment_index, seg.attempt)
    flashes = [e for e in s.events if e.kind == EventKind.SYNC_FLASH]
    assert len(flashes) == len(s.scene.flashes) == 1
    assert s.scene.duration_us == (s.events[-1].stamp_ns - s.start_ns) // 1000 + 500_000


def test_same_seed_same_session_other_seed_other_timing(tiny_plan: SessionPlan) -> None:
    a = simulate_session(tiny_plan, SessionSimConfig("s07", seed=1))
    b = simulate_session(tiny_plan, SessionSimConfig("s07", seed=1))
    c = simulate_session(tiny_plan, SessionSimConfig("s07", seed=2))
    assert a.ground_truth == b.ground_truth and a.scene.actions == b.scene.actions
    assert a.ground_truth != c.ground_truth


def test_events_appear_in_the_au_region_during_the_perform_window_and_nowhere_else(
    still_session: SimulatedSession, davis_events: EventArray
) -> None:
    sensor = davis346()
    cfg = sensor.event_config
    boxes = face_region_boxes(still_session.scene.subject, width=sensor.width, height=sensor.height)
    ev = davis_events
    x, y = ev["x"] + 0.5, ev["y"] + 0.5
    n_pix = sensor.width * sensor.height
    hot = cfg.hot_pixel_fraction * n_pix * cfg.hot_pixel_rate_hz
    for action in still_session.ground_truth:
        p = action.profile
        win = (ev["t"] >= p.onset_us) & (ev["t"] <= p.offset_us)
        dur_s = p.duration_us / 1e6
        region = Box(1e9, 1e9, -1e9, -1e9)
        for r in CATALOG[action.label].regions:
            region = region.union(boxes[r])
        region = region.grown(2.0)
        inside = win & region.contains(x, y)
        area = (region.x1 - region.x0) * (region.y1 - region.y0)
        noise_in = cfg.ba_rate_hz * area * dur_s
        noise_out = (cfg.ba_rate_hz * (n_pix - area) + hot) * dur_s
        n_out = int((win & ~region.contains(x, y)).sum())
        # far above the noise inside the region, at the noise level outside it
        assert inside.sum() > noise_in + 10 * np.sqrt(noise_in) + 100, action.label
        assert n_out < noise_out + 5 * np.sqrt(noise_out) + 5, (action.label, n_out, noise_out)


def test_static_stretches_carry_only_noise(
    still_session: SimulatedSession, davis_events: EventArray
) -> None:
    cfg = davis346().event_config
    quiet = [
        (a.profile.offset_us + 50_000, b.profile.onset_us - 50_000)
        for a, b in zip(still_session.ground_truth, still_session.ground_truth[1:], strict=False)
    ]
    n_pix = 346 * 260
    for t0, t1 in quiet:
        n = int(((davis_events["t"] >= t0) & (davis_events["t"] < t1)).sum())
        expected = (
            (cfg.ba_rate_hz * n_pix + cfg.hot_pixel_fraction * n_pix * cfg.hot_pixel_rate_hz)
            * (t1 - t0)
            / 1e6
        )
        assert abs(n - expected) < 6 * np.sqrt(expected) + 10, (t0, t1, n, expected)


def test_sync_flash_shows_in_both_event_cameras_at_their_clock_offsets(
    still_session: SimulatedSession,
) -> None:
    short = replace(still_session.scene, duration_us=600_000)
    flash = short.flashes[0]
    sensors = rig_profiles(
        ["davis", "evk4"], start_ns=still_session.start_ns, offsets_us={"evk4": 12_345}
    )
    onsets = {}
    for sensor in sensors:
        small = sensor.with_(width=sensor.width // 4, height=sensor.height // 4)
        sim = CameraSimulator(short, small, seed=1)
        ev = np.concatenate([c.events for c in sim.chunks()])
        counts = np.bincount((ev["t"] - ev["t"].min()) // 1000)
        peak_ms = int(np.argmax(counts > 0.05 * small.width * small.height))
        onsets[sensor.name] = ev["t"].min() + peak_ms * 1000 - sensor.clock_offset_us
    for name, onset in onsets.items():
        assert abs(onset - flash.on_us) <= 5_000, (name, onset, flash.on_us)
    assert sensors[1].clock_offset_us - sensors[0].clock_offset_us != 0
    assert sensors[1].clock_offset_us == 3_000_000 + 12_345
    assert evk4().width == 1280
