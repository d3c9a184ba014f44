"""Optional numba kernel of :class:`microexp.stream.framer.CropFramer` (one pass, no temporaries).

Same counts as the numpy path (the reference; tests compare both). Importing raises ImportError
without numba.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["add_counts"]


@njit(cache=True, nogil=True)
def _add(xs, ys, ps, lut_x, lut_y, size, counts):
    plane = size * size
    for i in range(xs.size):
        cx = lut_x[xs[i]]
        cy = lut_y[ys[i]]
        if cx >= 0 and cy >= 0:
            counts[(ps[i] & 1) * plane + cy * size + cx] += 1


def add_counts(
    events: npt.NDArray[np.void],
    *,
    lut_x: npt.NDArray[np.int64],
    lut_y: npt.NDArray[np.int64],
    size: int,
    counts: npt.NDArray[np.int64],
) -> None:
    """Add the events' cells to ``counts`` (flat ``[2, size, size]``)."""
    _add(events["x"], events["y"], events["p"], lut_x, lut_y, np.int64(size), counts)
