"""Crop event frames: numba and numpy paths agree, and counts equal a direct per-event count."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.dataset.representation import CropFrameAccumulator
from microexp.events.types import EVENT_DTYPE
from microexp.faces.types import Box


def _events(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, EVENT_DTYPE)
    ev["x"], ev["y"] = rng.integers(0, 300, n), rng.integers(0, 200, n)
    ev["t"], ev["p"] = rng.integers(-5000, 250_000, n), rng.integers(0, 2, n)
    return ev


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 3000),
    box=st.tuples(
        st.integers(-50, 250), st.integers(-50, 150), st.integers(1, 200), st.integers(1, 200)
    ),
    size=st.sampled_from([8, 64]),
    split=st.integers(0, 3000),
)
def test_paths_agree_with_direct_count(
    seed: int, n: int, box: tuple[int, int, int, int], size: int, split: int
) -> None:
    ev = _events(seed, n)
    b = Box(*box)
    outs = []
    for use_numba in (True, False):
        acc = CropFrameAccumulator(
            box=b, size=size, slice_us=33_000, duration_us=200_000, use_numba=use_numba
        )
        acc.add_chunks([ev[:split], ev[split:]])
        outs.append(acc.frames())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert outs[0].shape == (7, 2, size, size)  # ceil(200 ms / 33 ms)
    direct = np.zeros((7, 2, size, size), np.int64)
    for e in ev:
        x, y, t = int(e["x"]) - b.x, int(e["y"]) - b.y, int(e["t"])
        if 0 <= x < b.w and 0 <= y < b.h and 0 <= t < 7 * 33_000:
            direct[t // 33_000, e["p"], y * size // b.h, x * size // b.w] += 1
    np.testing.assert_array_equal(outs[0], np.minimum(direct, 255))


def test_counts_saturate_at_255() -> None:
    ev = np.zeros(300, EVENT_DTYPE)
    ev["x"], ev["y"], ev["t"], ev["p"] = 5, 5, 10, 1
    acc = CropFrameAccumulator(box=Box(0, 0, 10, 10), size=10, slice_us=33_000, duration_us=1000)
    acc.add(ev)
    f = acc.frames()
    assert f.shape == (1, 2, 10, 10) and f[0, 1, 5, 5] == 255 and int(f.sum()) == 255
