"""Composable transforms: frozen dataclasses whose ``__call__`` applies a pure function.

Event transforms take and return an event array; :class:`ToCountFrames` turns events into count
frames ``[T, 2, H, W]`` and :class:`ResizeFrames` resizes those. The default face pipeline (paper:
crops resized to 64x64) is :func:`face_crop_pipeline`.

Resizing conserves counts: each output pixel is the *sum* of the input area it covers, with
fractional overlap weights at the borders (area resampling, like ``cv2.INTER_AREA`` but summing
instead of averaging), so a resized frame holds as many events as the original. The result is
float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from microexp.errors import MicroexpError
from microexp.events.frames import count_frames
from microexp.events.types import EventArray, SensorSize

__all__ = [
    "Compose",
    "CropBox",
    "Downsample",
    "ResizeFrames",
    "TimeWindow",
    "ToCountFrames",
    "area_matrix",
    "crop_events",
    "downsample_events",
    "face_crop_pipeline",
    "resize_frames",
    "time_window",
]


def time_window(events: EventArray, *, start_us: int, stop_us: int) -> EventArray:
    """Events with ``start_us <= t < stop_us`` (time-sorted input: a view)."""
    t = events["t"]
    lo, hi = np.searchsorted(t, [start_us, stop_us], side="left")
    return events[lo:hi]


def crop_events(events: EventArray, *, x: int, y: int, w: int, h: int) -> EventArray:
    """Events inside the box, with coordinates relative to its top-left corner."""
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise MicroexpError(f"bad crop box x={x} y={y} w={w} h={h}")
    ex, ey = events["x"], events["y"]
    out = events[(ex >= x) & (ex < x + w) & (ey >= y) & (ey < y + h)]  # a copy
    out["x"] -= x
    out["y"] -= y
    return out


def downsample_events(events: EventArray, *, factor: int) -> EventArray:
    """Events on a grid ``factor`` times coarser (x // factor, y // factor)."""
    if factor < 1:
        raise MicroexpError(f"downsample factor must be >= 1, got {factor}")
    out = events.copy()
    out["x"] //= factor
    out["y"] //= factor
    return out


def area_matrix(n_in: int, n_out: int) -> npt.NDArray[np.float64]:
    """``[n_out, n_in]`` weights: output cell i sums the input span it covers (columns sum to 1)."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    j = np.arange(n_in)[None, :]
    return np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)


def resize_frames(frames: npt.NDArray[Any], *, height: int, width: int) -> npt.NDArray[np.float32]:
    """Resize ``[..., H, W]`` frames to ``[..., height, width]`` conserving each frame's sum."""
    ry = area_matrix(frames.shape[-2], height)
    rx = area_matrix(frames.shape[-1], width)
    out = np.einsum("yh,...hw,xw->...yx", ry, frames.astype(np.float64), rx, optimize=True)
    return out.astype(np.float32)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    start_us: int
    stop_us: int

    def __call__(self, events: EventArray) -> EventArray:
        return time_window(events, start_us=self.start_us, stop_us=self.stop_us)


@dataclass(frozen=True, slots=True)
class CropBox:
    x: int
    y: int
    w: int
    h: int

    def __call__(self, events: EventArray) -> EventArray:
        return crop_events(events, x=self.x, y=self.y, w=self.w, h=self.h)


@dataclass(frozen=True, slots=True)
class Downsample:
    factor: int

    def __call__(self, events: EventArray) -> EventArray:
        return downsample_events(events, factor=self.factor)


@dataclass(frozen=True, slots=True)
class ToCountFrames:
    """Events -> int32 count frames ``[T, 2, H, W]`` (channel 0 OFF, 1 ON) over ``sensor``."""

    sensor: SensorSize
    slice_us: int = 33_000
    t_start_us: int | None = None
    n_slices: int | None = None

    def __call__(self, events: EventArray) -> npt.NDArray[np.int32]:
        return count_frames(events, sensor=self.sensor, slice_us=self.slice_us,
                            t_start_us=self.t_start_us, n_slices=self.n_slices)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ResizeFrames:
    """Frames ``[..., H, W]`` -> ``[..., size, size]`` float32, counts conserved (area sum)."""

    size: int = 64

    def __call__(self, frames: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        return resize_frames(frames, height=self.size, width=self.size)


@dataclass(frozen=True, slots=True)
class Compose:
    transforms: tuple[Callable[[Any], Any], ...]

    def __call__(self, data: Any) -> Any:
        for transform in self.transforms:
            data = transform(data)
        return data


def face_crop_pipeline(
    box: CropBox, *, size: int = 64, slice_us: int = 33_000, t_start_us: int | None = None
) -> Compose:
    """The paper's representation: crop to the face box, count frames per 33 ms, resize to 64x64."""
    return Compose((
        box,
        ToCountFrames(SensorSize(box.w, box.h), slice_us=slice_us, t_start_us=t_start_us),
        ResizeFrames(size),
    ))  # fmt: skip
