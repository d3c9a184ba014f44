"""Per-polarity count frames (paper Eq. 1) of the face crop, computed in bounded memory.

Channel 0 counts OFF events (p = 0), channel 1 ON events (p = 1). A numba kernel is used when
numba imports (one pass, no temporaries); the numpy path gives identical counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from microexp.events.types import EventArray
from microexp.faces.types import Box

__all__ = ["CropFrameAccumulator"]

_kernel: Any
try:
    from numba import njit

    @njit(cache=True, nogil=True)
    def _kernel(xs, ys, ts, ps, counts, bx, by, bw, bh, size, slice_us, n_slices):
        for i in range(xs.shape[0]):
            x = np.int64(xs[i]) - bx
            y = np.int64(ys[i]) - by
            if x < 0 or x >= bw or y < 0 or y >= bh:
                continue
            t = ts[i] // slice_us
            if t < 0 or t >= n_slices:
                continue
            idx = (((t * 2 + (ps[i] & 1)) * size + y * size // bh) * size) + x * size // bw
            counts[idx] += 1

except ImportError:  # numba is optional
    _kernel = None


class CropFrameAccumulator:
    """Bins events (t in µs since the clip start) into uint8 [T, 2, size, size] of a box.

    Events inside ``box`` (in sensor pixels) are scaled to ``size`` × ``size``; counts saturate
    at 255. ``T = ceil(duration_us / slice_us)``; events outside [0, T·slice) are dropped.
    Feed events in any number of chunks (:meth:`add`), then :meth:`frames`.
    """

    def __init__(
        self, *, box: Box, size: int, slice_us: int, duration_us: int, use_numba: bool = True
    ) -> None:
        self.box = box
        self.size = size
        self.slice_us = slice_us
        self.n_slices = max(1, -(-duration_us // slice_us))
        self._counts = np.zeros(self.n_slices * 2 * size * size, dtype=np.int64)
        self._numba = use_numba and _kernel is not None

    def add(self, events: EventArray) -> None:
        if events.size == 0:
            return
        b, s = self.box, self.size
        if self._numba:
            _kernel(
                events["x"],
                events["y"],
                events["t"],
                events["p"],
                self._counts,
                b.x,
                b.y,
                b.w,
                b.h,
                s,
                self.slice_us,
                self.n_slices,
            )
            return
        ex, ey = events["x"], events["y"]
        # box bounds on the uint16 fields directly (no widening of every event)
        keep = (
            (ex >= max(b.x, 0))
            & (ex < max(b.x + b.w, 0))
            & (ey >= max(b.y, 0))
            & (ey < max(b.y + b.h, 0))
        )
        t = events["t"]
        keep &= (t >= 0) & (t < self.n_slices * self.slice_us)
        if not keep.any():
            return
        sel = events[keep]
        xs = (sel["x"].astype(np.int64) - b.x) * s // b.w
        ys = (sel["y"].astype(np.int64) - b.y) * s // b.h
        ts = sel["t"] // self.slice_us
        flat = ((ts * 2 + (sel["p"] & 1)) * s + ys) * s + xs
        self._counts += np.bincount(flat, minlength=self._counts.size)

    def add_chunks(self, chunks: Iterable[EventArray]) -> None:
        for c in chunks:
            self.add(c)

    def frames(self) -> npt.NDArray[np.uint8]:
        c = np.minimum(self._counts, 255).astype(np.uint8)
        return c.reshape(self.n_slices, 2, self.size, self.size)
