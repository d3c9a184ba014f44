"""Per-polarity count frames of a face crop, accumulated packet by packet (paper Eq. 1).

An event at sensor pixel (x, y) inside the box ``(bx, by, bw, bh)`` counts in cell
``((x - bx) · size // bw, (y - by) · size // bh)`` of a ``size × size`` frame, channel ``p``
(0 = OFF, 1 = ON). That is the count frame of the cropped events resized by summing the source
pixels of each cell (exact for boxes that are multiples of ``size``; nearest-cell otherwise), the
same counts that binning the whole sensor and then cropping and sum-pooling would give, and the
same as the exporter's ``evframes`` (:class:`microexp.dataset.representation.CropFrameAccumulator`,
the training input). Counts are clipped at ``clip`` (255: the dataset's uint8 ``evframes``).
With numba installed a one-pass kernel bins (``backend="auto"``); the numpy path is the reference
and gives identical counts (tested).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import numpy as np
import numpy.typing as npt

from microexp.events.types import EventArray

__all__ = ["Box", "CropFramer", "FramerBackend", "frame_events"]

FramerBackend = Literal["auto", "numpy", "numba"]


def _load_numba_kernel() -> ModuleType | None:
    try:
        return importlib.import_module("microexp.stream._framer_numba")
    except ImportError:
        return None


@dataclass(frozen=True, slots=True)
class Box:
    """A face box in sensor pixels: top-left corner, width and height."""

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"box size must be positive, got {self.width}x{self.height}")

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.width, self.height)

    def clipped(self, *, width: int, height: int) -> Box | None:
        """The part of the box inside a ``width × height`` sensor, or None when nothing is."""
        x0, y0 = max(self.x, 0), max(self.y, 0)
        x1, y1 = min(self.x + self.width, width), min(self.y + self.height, height)
        if x1 <= x0 or y1 <= y0:
            return None
        return Box(x0, y0, x1 - x0, y1 - y0)


def _lut(start: int, extent: int, sensor: int, size: int) -> npt.NDArray[np.int64]:
    """Cell index of every sensor coordinate (-1 outside the box)."""
    coords = np.arange(sensor, dtype=np.int64) - start
    cells = coords * size // extent
    cells[(coords < 0) | (coords >= extent)] = -1
    return cells


class CropFramer:
    """Accumulates one slice's count frame for a box; :meth:`take` returns it and starts anew."""

    def __init__(
        self,
        *,
        width: int,
        height: int,
        size: int = 64,
        clip: int = 255,
        backend: FramerBackend = "auto",
    ) -> None:
        if size <= 0 or width <= 0 or height <= 0:
            raise ValueError(f"bad framer geometry: sensor {width}x{height}, size {size}")
        self._kernel = None if backend == "numpy" else _load_numba_kernel()
        if backend == "numba" and self._kernel is None:
            raise ValueError("framer backend 'numba' asked for, but numba is not installed")
        self.width, self.height, self.size, self.clip = (
            int(width),
            int(height),
            int(size),
            int(clip),
        )
        self._counts = np.zeros(2 * size * size, dtype=np.int64)
        self._box: Box | None = None
        self._lut_x = np.zeros(0, dtype=np.int64)
        self._lut_y = np.zeros(0, dtype=np.int64)
        # Room for events outside the sensor (bad x/y): they are dropped, never an IndexError.
        self._pad = 1 << 16

    @property
    def box(self) -> Box | None:
        return self._box

    def set_box(self, box: Box | None) -> None:
        """Box for the events added from now on (None: nothing is counted)."""
        box = None if box is None else box.clipped(width=self.width, height=self.height)
        if box == self._box:
            return
        self._box = box
        if box is None:
            return
        lx = np.full(self._pad, -1, dtype=np.int64)
        ly = np.full(self._pad, -1, dtype=np.int64)
        lx[: self.width] = _lut(box.x, box.width, self.width, self.size)
        ly[: self.height] = _lut(box.y, box.height, self.height, self.size)
        self._lut_x, self._lut_y = lx, ly

    def add(self, events: EventArray) -> None:
        if self._box is None or events.shape[0] == 0:
            return
        if self._kernel is not None:
            self._kernel.add_counts(
                events, lut_x=self._lut_x, lut_y=self._lut_y, size=self.size, counts=self._counts
            )
            return
        cx = self._lut_x[events["x"]]
        cy = self._lut_y[events["y"]]
        keep = (cx >= 0) & (cy >= 0)
        s = self.size
        idx = (events["p"][keep].astype(np.int64) & 1) * (s * s) + cy[keep] * s + cx[keep]
        self._counts += np.bincount(idx, minlength=2 * s * s)

    def take(self) -> npt.NDArray[np.float32]:
        """The slice's frame ``[2, size, size]`` (float32 counts, clipped); clears the counts."""
        out = (
            np.minimum(self._counts, self.clip).astype(np.float32).reshape(2, self.size, self.size)
        )
        self._counts[:] = 0
        return out

    def clear(self) -> None:
        self._counts[:] = 0


def frame_events(
    events: EventArray,
    *,
    box: Box,
    width: int,
    height: int,
    size: int = 64,
    slice_us: int = 33000,
    t_origin_us: int | None = None,
    clip: int = 255,
) -> npt.NDArray[np.float32]:
    """Offline reference: frames ``[T, 2, size, size]`` of a whole clip (one per slice).

    Slices start at ``t_origin_us`` (default: the first event); T covers the last event.
    """
    if events.shape[0] == 0:
        return np.zeros((0, 2, size, size), dtype=np.float32)
    t0 = int(events["t"][0]) if t_origin_us is None else int(t_origin_us)
    slot = (events["t"] - t0) // slice_us
    n_slices = int(slot.max()) + 1
    framer = CropFramer(width=width, height=height, size=size, clip=clip)
    framer.set_box(box)
    frames = np.zeros((n_slices, 2, size, size), dtype=np.float32)
    cuts = np.searchsorted(slot, np.arange(n_slices + 1))
    for i in range(n_slices):
        framer.add(events[cuts[i] : cuts[i + 1]])
        frames[i] = framer.take()
    return frames
