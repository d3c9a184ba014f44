"""Per-polarity count frames (paper Eq. 1) of the face crop, computed in bounded memory."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from microexp.events.types import EventArray
from microexp.faces.types import Box

__all__ = ["CropFrameAccumulator"]


class CropFrameAccumulator:
    """Bins events (t in µs since the clip start) into uint8 [T, 2, size, size] of a square box.

    Events inside ``box`` (in sensor pixels) are scaled to ``size`` × ``size``; counts saturate
    at 255. ``T = ceil(duration_us / slice_us)``; events outside [0, duration) are dropped.
    Feed events in any number of chunks (:meth:`add`), then :meth:`frames`.
    """

    def __init__(self, *, box: Box, size: int, slice_us: int, duration_us: int) -> None:
        self.box = box
        self.size = size
        self.slice_us = slice_us
        self.n_slices = max(1, -(-duration_us // slice_us))
        self._counts = np.zeros(self.n_slices * 2 * size * size, dtype=np.int64)

    def add(self, events: EventArray) -> None:
        if events.size == 0:
            return
        b, s = self.box, self.size
        x = events["x"].astype(np.int64) - b.x
        y = events["y"].astype(np.int64) - b.y
        t = events["t"] // self.slice_us
        keep = (x >= 0) & (x < b.w) & (y >= 0) & (y < b.h) & (t >= 0) & (t < self.n_slices)
        if not keep.any():
            return
        xs = x[keep] * s // b.w
        ys = y[keep] * s // b.h
        p = events["p"][keep].astype(np.int64) & 1
        flat = ((t[keep] * 2 + p) * s + ys) * s + xs
        self._counts += np.bincount(flat, minlength=self._counts.size)

    def add_chunks(self, chunks: Iterable[EventArray]) -> None:
        for c in chunks:
            self.add(c)

    def frames(self) -> npt.NDArray[np.uint8]:
        c = np.minimum(self._counts, 255).astype(np.uint8)
        return c.reshape(self.n_slices, 2, self.size, self.size)
