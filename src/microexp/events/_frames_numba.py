"""Optional numba kernel for :func:`microexp.events.frames.count_frames` (one pass, no index array).

Same result as the numpy path (which stays the reference; tests compare both). The slice of each
event is recomputed only when its time leaves the current slice, so time-sorted input costs no
division per event, and unsorted input is still correct. Importing raises ImportError without numba.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["bin_counts"]


@njit(cache=True, nogil=True)
def _bin(xs, ys, ps, ts, t_start, slice_us, n_slices, out):
    height = out.shape[2]
    width = out.shape[3]
    lo = 1
    hi = 0  # empty window: the first event computes its slice
    k = 0
    for i in range(ts.size):
        t = ts[i]
        if t < lo or t >= hi:
            k = (t - t_start) // slice_us
            lo = t_start + k * slice_us
            hi = lo + slice_us
        if 0 <= k < n_slices:
            if xs[i] >= width or ys[i] >= height or ps[i] > 1:
                return i
            out[k, ps[i], ys[i], xs[i]] += 1
    return -1


def bin_counts(
    events: npt.NDArray[np.void], *, t_start_us: int, slice_us: int, out: npt.NDArray[np.int32]
) -> int:
    """Add the events to ``out`` ``[T, 2, H, W]``; returns the index of the first event outside
    the sensor (then ``out`` is incomplete), or -1."""
    return _bin(events["x"], events["y"], events["p"], events["t"], np.int64(t_start_us),
         np.int64(slice_us), np.int64(out.shape[0]), out)  # fmt: skip
