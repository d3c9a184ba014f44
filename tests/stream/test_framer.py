from __future__ import annotations

import numpy as np
import pytest
from stream_testkit import random_events

from microexp.events.types import make_events
from microexp.stream.framer import Box, CropFramer, frame_events

W, H = 346, 260


def _full_frame_then_crop_and_sum_pool(events: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Independent reference: bin over the whole sensor, crop, sum blocks of pixels."""
    full = np.zeros((2, H, W), dtype=np.int64)
    np.add.at(
        full,
        (events["p"].astype(np.int64), events["y"].astype(np.int64), events["x"].astype(np.int64)),
        1,
    )
    crop = full[:, box.y : box.y + box.height, box.x : box.x + box.width]
    fy, fx = box.height // size, box.width // size
    return crop.reshape(2, size, fy, size, fx).sum(axis=(2, 4))


@pytest.mark.parametrize("box", [Box(100, 60, 128, 128), Box(0, 0, 64, 64), Box(200, 4, 128, 256)])
def test_counts_equal_full_frame_cropped_and_sum_pooled(box: Box) -> None:
    ev = random_events(n=50_000, width=W, height=H, t0_us=0, duration_us=33_000, seed=3)
    framer = CropFramer(width=W, height=H, size=64, clip=10**9)
    framer.set_box(box)
    for part in np.array_split(ev, 7):
        framer.add(part)
    got = framer.take()
    assert np.array_equal(got, _full_frame_then_crop_and_sum_pool(ev, box, 64))
    assert not framer.take().any()  # take() starts a new slice


def test_clip_outside_box_and_out_of_sensor_events() -> None:
    framer = CropFramer(width=W, height=H, size=4, clip=3)
    framer.set_box(Box(-4, -4, 12, 12))  # clipped to (0, 0, 8, 8): 2×2 pixels per cell
    ev = make_events(
        x=[0, 1, 1, 1, 1, 7, 8, 60000, 3],
        y=[0, 0, 1, 1, 1, 7, 0, 0, 60000],
        t=np.zeros(9),
        p=[1, 1, 1, 1, 1, 0, 1, 1, 1],
    )
    framer.add(ev)
    frame = framer.take()
    assert frame[1, 0, 0] == 3  # five ON events, clipped at 3
    assert frame[0, 3, 3] == 1
    assert frame.sum() == 4  # x=8 lies outside the box; x/y beyond the sensor are dropped
    framer.set_box(Box(400, 300, 10, 10))  # entirely outside the sensor
    assert framer.box is None
    framer.add(ev)
    assert not framer.take().any()


def test_frame_events_slices_a_clip() -> None:
    ev = random_events(n=2000, width=W, height=H, t0_us=5_000, duration_us=100_000, seed=4)
    frames = frame_events(ev, box=Box(0, 0, W, H), width=W, height=H, size=32, slice_us=33_000)
    t0 = int(ev["t"][0])
    assert frames.shape == (int((ev["t"][-1] - t0) // 33_000) + 1, 2, 32, 32)
    per_slice = np.bincount((ev["t"] - t0) // 33_000)
    assert frames.sum(axis=(1, 2, 3)).tolist() == per_slice.tolist()


def test_equals_the_datasets_training_representation() -> None:
    """The engine's crops count what the exporter's evframes (the training input) count."""
    from microexp.dataset.representation import CropFrameAccumulator
    from microexp.faces.types import Box as FaceBox

    ev = random_events(n=30_000, width=W, height=H, t0_us=0, duration_us=99_000, seed=5)
    for box in (Box(37, 11, 150, 150), Box(100, 60, 128, 128), Box(0, 0, 97, 203)):
        acc = CropFrameAccumulator(
            box=FaceBox(box.x, box.y, box.width, box.height),
            size=64,
            slice_us=33_000,
            duration_us=99_000,
        )
        acc.add(ev)
        expected = acc.frames()
        got = frame_events(ev, box=box, width=W, height=H, t_origin_us=0)
        assert got.shape == expected.shape
        assert np.array_equal(got, expected.astype(np.float32))


def test_numba_kernel_equals_numpy_path() -> None:
    pytest.importorskip("numba", reason="numba is optional; the numpy path is the reference")
    ev = random_events(n=40_000, width=W, height=H, t0_us=0, duration_us=33_000, seed=6)
    frames = []
    for backend in ("numpy", "numba"):
        framer = CropFramer(width=W, height=H, size=64, clip=7, backend=backend)  # type: ignore[arg-type]
        framer.set_box(Box(30, 20, 200, 150))
        for part in np.array_split(ev, 5):
            framer.add(part)
        frames.append(framer.take())
    assert frames[0].sum() > 0
    assert np.array_equal(frames[0], frames[1])
