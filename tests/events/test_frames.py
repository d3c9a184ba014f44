from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.errors import MicroexpError
from microexp.events.frames import CHANNEL_OFF, CHANNEL_ON, count_frames
from microexp.events.types import SensorSize, empty_events, make_events

SENSOR = SensorSize(7, 5)


@st.composite
def event_arrays(draw: st.DrawFn, *, sort: bool = True) -> np.ndarray:
    n = draw(st.integers(0, 200))
    xs = draw(st.lists(st.integers(0, SENSOR.width - 1), min_size=n, max_size=n))
    ys = draw(st.lists(st.integers(0, SENSOR.height - 1), min_size=n, max_size=n))
    ts = draw(st.lists(st.integers(-50_000, 200_000), min_size=n, max_size=n))
    ps = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    ev = make_events(x=np.array(xs, dtype=np.uint16), y=np.array(ys, dtype=np.uint16),
                     t=np.array(ts, dtype=np.int64), p=np.array(ps, dtype=np.uint8))  # fmt: skip
    return np.sort(ev, order="t", kind="stable") if sort else ev


def _reference(ev: np.ndarray, *, slice_us: int, t_start: int, n: int) -> np.ndarray:
    out = np.zeros((n, 2, SENSOR.height, SENSOR.width), dtype=np.int64)
    for e in ev:
        k = (int(e["t"]) - t_start) // slice_us
        if 0 <= k < n:
            out[k, e["p"], e["y"], e["x"]] += 1
    return out


def _backends() -> list[str]:
    try:
        import numba  # noqa: F401
    except ImportError:
        return ["numpy"]
    return ["numpy", "numba"]


@pytest.mark.parametrize("backend", _backends())
@settings(max_examples=60, deadline=None)
@given(ev=event_arrays(sort=False), slice_us=st.integers(1, 40_000), sort=st.booleans())
def test_matches_a_per_event_loop(backend: str, ev: np.ndarray, slice_us: int, sort: bool) -> None:
    if sort:
        ev = np.sort(ev, order="t", kind="stable")
    t_start = int(ev["t"].min()) if ev.size else 0
    frames = count_frames(ev, sensor=SENSOR, slice_us=slice_us, backend=backend)  # type: ignore[arg-type]
    n = frames.shape[0]
    assert frames.dtype == np.int32
    assert np.array_equal(frames, _reference(ev, slice_us=slice_us, t_start=t_start, n=n))
    assert int(frames.sum()) == ev.size  # default slices cover every event
    # sub-window: frame sums equal the events inside it
    win = count_frames(ev, sensor=SENSOR, slice_us=slice_us, t_start_us=0, n_slices=3,
                       backend=backend)  # type: ignore[arg-type]  # fmt: skip
    inside = (ev["t"] >= 0) & (ev["t"] < 3 * slice_us)
    assert int(win.sum()) == int(inside.sum())


def test_channels_are_off_then_on() -> None:
    ev = make_events(x=[1, 2, 2], y=[0, 4, 4], t=[0, 10, 20], p=[1, 0, 0])
    f = count_frames(ev, sensor=SENSOR, slice_us=33_000)
    assert f.shape == (1, 2, 5, 7)
    assert f[0, CHANNEL_ON, 0, 1] == 1
    assert f[0, CHANNEL_OFF, 4, 2] == 2


def test_empty_and_errors() -> None:
    assert count_frames(empty_events(), sensor=SENSOR).shape == (0, 2, 5, 7)
    assert count_frames(empty_events(), sensor=SENSOR, n_slices=2).sum() == 0
    outside = make_events(x=[7], y=[0], t=[0], p=[1])
    for backend in _backends():
        with pytest.raises(MicroexpError, match=r"outside the 7x5 sensor.*x max 7"):
            count_frames(outside, sensor=SENSOR, backend=backend)  # type: ignore[arg-type]
    with pytest.raises(MicroexpError, match="slice_us must be positive, got 0"):
        count_frames(outside, sensor=SENSOR, slice_us=0)
