from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.errors import MicroexpError
from microexp.events.transforms import (
    Compose,
    CropBox,
    Downsample,
    ResizeFrames,
    TimeWindow,
    ToCountFrames,
    area_matrix,
    face_crop_pipeline,
)
from microexp.events.types import SensorSize, make_events


def _events(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_events(x=rng.integers(0, 346, n), y=rng.integers(0, 260, n),
                       t=np.sort(rng.integers(0, 200_000, n)), p=rng.integers(0, 2, n))  # fmt: skip


def test_transforms_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CropBox(0, 0, 1, 1).x = 3  # type: ignore[misc]


def test_crop_shifts_and_filters() -> None:
    ev = _events(5000)
    out = CropBox(x=100, y=50, w=64, h=80)(ev)
    inside = (ev["x"] >= 100) & (ev["x"] < 164) & (ev["y"] >= 50) & (ev["y"] < 130)
    assert out.size == int(inside.sum())
    assert np.array_equal(out["x"], ev["x"][inside] - 100)
    assert out["x"].max() < 64 and out["y"].max() < 80
    assert ev["x"].max() >= 164  # input untouched
    with pytest.raises(MicroexpError, match="bad crop box x=0 y=0 w=0"):
        CropBox(0, 0, 0, 4)(ev)


def test_time_window_and_downsample() -> None:
    ev = _events(1000)
    win = TimeWindow(50_000, 60_000)(ev)
    assert ((win["t"] >= 50_000) & (win["t"] < 60_000)).all()
    assert win.size == int(((ev["t"] >= 50_000) & (ev["t"] < 60_000)).sum())
    half = Downsample(2)(ev)
    assert np.array_equal(half["x"], ev["x"] // 2)


@settings(max_examples=50, deadline=None)
@given(h=st.integers(1, 90), w=st.integers(1, 90), size=st.integers(1, 70), seed=st.integers(0, 99))
def test_resize_conserves_counts(h: int, w: int, size: int, seed: int) -> None:
    frames = np.random.default_rng(seed).integers(0, 5, (2, 2, h, w)).astype(np.int32)
    out = ResizeFrames(size)(frames)
    assert out.shape == (2, 2, size, size) and out.dtype == np.float32
    # summed in float64: a float32 sum over size² cells would add its own rounding error
    assert np.allclose(out.sum(axis=(-2, -1), dtype=np.float64), frames.sum(axis=(-2, -1)), rtol=1e-6)


def test_resize_by_integer_factor_is_block_sum() -> None:
    frames = np.arange(2 * 8 * 6).reshape(1, 2, 8, 6)
    out = ResizeFrames(2)(frames[..., :4, :4])
    assert out[0, 0, 0, 0] == frames[0, 0, :2, :2].sum()
    assert np.allclose(area_matrix(6, 3).sum(axis=0), 1.0)


def test_face_pipeline_default_is_64x64_and_keeps_counts() -> None:
    ev = _events(20_000)
    box = CropBox(x=80, y=40, w=150, h=180)
    frames = face_crop_pipeline(box)(ev)
    assert frames.shape[1:] == (2, 64, 64)
    assert frames.shape[0] == 7  # 200 ms at 33 ms per slice, from the first event in the box
    assert frames.sum() == pytest.approx(box(ev).size, rel=1e-5)
    direct = Compose((box, ToCountFrames(SensorSize(150, 180)), ResizeFrames(64)))(ev)
    assert np.array_equal(direct, frames)
