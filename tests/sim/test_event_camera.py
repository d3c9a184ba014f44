from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.events.types import EVENT_DTYPE
from microexp.sim.event_camera import EventCameraConfig, EventCameraModel

W, H = 64, 48
QUIET = EventCameraConfig(c_sigma=0.0, ba_rate_hz=0.0, hot_pixel_fraction=0.0, refractory_us=0)


def _flat(value: float) -> np.ndarray:
    return np.full((H, W), value, dtype=np.float32)


def _model(config: EventCameraConfig, seed: int = 1) -> EventCameraModel:
    m = EventCameraModel(config, width=W, height=H, seed=seed)
    m.reset(_flat(0.2), 0)
    return m


def test_static_scene_without_noise_gives_no_events() -> None:
    m = _model(QUIET)
    for k in range(1, 50):
        assert m.step(_flat(0.2), k * 1000).size == 0


def test_background_activity_rate_matches_the_configured_rate() -> None:
    rate = 5.0
    m = _model(EventCameraConfig(ba_rate_hz=rate, hot_pixel_fraction=0.0))
    events = [m.step(_flat(0.2), k * 10_000) for k in range(1, 201)]  # 2 s
    n = sum(e.size for e in events)
    expected = rate * W * H * 2.0
    assert abs(n - expected) < 5 * np.sqrt(expected)
    allev = np.concatenate(events)
    assert 0.45 < allev["p"].mean() < 0.55
    assert np.all(np.diff(allev["t"]) >= 0)


def test_hot_pixels_fire_at_their_rate_and_only_there() -> None:
    cfg = EventCameraConfig(ba_rate_hz=0.0, hot_pixel_fraction=0.01, hot_pixel_rate_hz=200.0)
    m = _model(cfg)
    ev = np.concatenate([m.step(_flat(0.2), k * 10_000) for k in range(1, 101)])  # 1 s
    flat = ev["y"].astype(np.int64) * W + ev["x"]
    assert set(np.unique(flat)) <= set(m.hot_pixels.tolist())
    expected = 200.0 * m.hot_pixels.size
    assert m.hot_pixels.size == round(0.01 * W * H)
    assert abs(ev.size - expected) < 5 * np.sqrt(expected)


@pytest.mark.parametrize(("c", "expected"), [(0.2, 5), (0.3, 3), (0.5, 2)])
def test_one_event_per_threshold_crossing(c: float, expected: int) -> None:
    cfg = EventCameraConfig(
        c_on=c, c_off=c, c_sigma=0.0, ba_rate_hz=0.0, hot_pixel_fraction=0.0, refractory_us=0
    )
    m = _model(cfg)
    brighter = _flat(0.2) * np.float32(np.exp(1.05))  # log step of ~1.05 (eps is tiny)
    ev = m.step(brighter, 10_000)
    assert ev.size == expected * W * H
    assert np.all(ev["p"] == 1)
    darker = m.step(_flat(0.2), 20_000)
    assert darker.size == expected * W * H and np.all(darker["p"] == 0)


def test_higher_threshold_gives_fewer_events_on_the_same_input() -> None:
    rng = np.random.default_rng(0)
    frames = [np.clip(rng.uniform(0.1, 0.9, (H, W)), 0, 1).astype(np.float32) for _ in range(10)]
    counts = []
    for c in (0.15, 0.3, 0.6):
        m = EventCameraModel(
            EventCameraConfig(c_on=c, c_off=c, ba_rate_hz=0.0, hot_pixel_fraction=0.0),
            width=W,
            height=H,
            seed=2,
        )
        m.reset(frames[0], 0)
        counts.append(sum(m.step(f, (k + 1) * 1000).size for k, f in enumerate(frames[1:])))
    assert counts[0] > counts[1] > counts[2] > 0


def test_crossing_times_are_interpolated_between_frames() -> None:
    m = _model(QUIET)
    ev = m.step(_flat(0.2) * np.float32(np.exp(1.0)), 10_000)
    one = ev[(ev["x"] == 3) & (ev["y"] == 7)]
    # log(I + eps) moves by slightly less than 1.0: 4 crossings of 0.2, at k * 0.2 / dlog
    dlog = np.log(0.2 * np.float32(np.exp(1.0)) + 1e-3) - np.log(0.2 + 1e-3)
    assert 0.8 < dlog < 1.0
    expected = np.round(np.arange(1, 5) * 0.2 / dlog * 10_000).astype(np.int64)
    assert one["t"].tolist() == expected.tolist()


def test_refractory_period_thins_fast_crossings() -> None:
    cfg = EventCameraConfig(c_sigma=0.0, ba_rate_hz=0.0, hot_pixel_fraction=0.0, refractory_us=3000)
    m = _model(cfg)
    ev = m.step(_flat(0.2) * np.float32(np.exp(1.05)), 10_000)  # 5 crossings ~1.9 ms apart
    per_pixel = np.bincount(ev["y"].astype(np.int64) * W + ev["x"], minlength=W * H)
    assert np.all(per_pixel == 3)  # crossings 1, 3, 5
    one = np.sort(ev[(ev["x"] == 0) & (ev["y"] == 0)]["t"])
    assert np.all(np.diff(one) >= 3000)


def test_same_seed_same_events_other_seed_other_noise() -> None:
    cfg = EventCameraConfig(ba_rate_hz=20.0)
    rng = np.random.default_rng(5)
    frames = [rng.uniform(0.1, 0.9, (H, W)).astype(np.float32) for _ in range(5)]

    def run(seed: int) -> np.ndarray:
        m = EventCameraModel(cfg, width=W, height=H, seed=seed)
        m.reset(frames[0], 0)
        return np.concatenate([m.step(f, (k + 1) * 2000) for k, f in enumerate(frames[1:])])

    a, b, c = run(3), run(3), run(4)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="c_on"):
        EventCameraConfig(c_on=0.0)
    with pytest.raises(ValueError, match="ba_rate_hz"):
        EventCameraConfig(ba_rate_hz=-1.0)
    m = _model(QUIET)
    with pytest.raises(ValueError, match="shape"):
        m.step(np.zeros((H + 1, W), np.float32), 1000)
    with pytest.raises(ValueError, match="not after"):
        m.step(_flat(0.2), 0)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    dt=st.integers(1, 20_000),
    scale=st.floats(0.05, 20.0),
    refractory=st.integers(0, 5000),
)
def test_events_are_sorted_in_bounds_and_in_the_interval(
    seed: int, dt: int, scale: float, refractory: int
) -> None:
    cfg = EventCameraConfig(refractory_us=refractory, ba_rate_hz=50.0, hot_pixel_fraction=0.01)
    m = EventCameraModel(cfg, width=W, height=H, seed=seed)
    rng = np.random.default_rng(seed)
    first = rng.uniform(0.05, 1.0, (H, W)).astype(np.float32)
    m.reset(first, 1000)
    ev = m.step(np.clip(first * np.float32(scale), 0, 1), 1000 + dt)
    assert ev.dtype == EVENT_DTYPE
    assert np.all(np.diff(ev["t"]) >= 0)
    if ev.size:
        assert ev["t"].min() >= 1000 and ev["t"].max() <= 1000 + dt
        assert ev["x"].max() < W and ev["y"].max() < H
