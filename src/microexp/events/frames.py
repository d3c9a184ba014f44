"""Per-polarity count frames over fixed time slices — the paper's Eq. 1 representation.

``frames[k, c, y, x]`` counts the events at pixel (x, y) with polarity channel ``c`` whose time lies
in slice ``k`` = ``[t_start_us + k * slice_us, t_start_us + (k + 1) * slice_us)``.
Channel 0 is OFF (p = 0) and channel 1 is ON (p = 1), the same order as tonic's ``ToFrame``.
All slices are binned by one ``np.bincount`` over a flat index (no per-slice loop).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from microexp.errors import MicroexpError
from microexp.events.types import EventArray, SensorSize

__all__ = ["CHANNEL_OFF", "CHANNEL_ON", "count_frames", "n_slices_for"]

CHANNEL_OFF = 0
CHANNEL_ON = 1


def n_slices_for(t_us: npt.NDArray[np.int64], *, slice_us: int, t_start_us: int) -> int:
    """Slices needed to cover every time in ``t_us`` from ``t_start_us`` (last one may be partial)."""
    if t_us.size == 0:
        return 0
    return max(0, (int(t_us.max()) - t_start_us) // slice_us + 1)


def count_frames(
    events: EventArray,
    *,
    sensor: SensorSize,
    slice_us: int = 33_000,
    t_start_us: int | None = None,
    n_slices: int | None = None,
) -> npt.NDArray[np.int32]:
    """Count frames ``[T, 2, H, W]`` (int32). ``t_start_us`` defaults to the first event's time and
    ``n_slices`` to as many as cover the last event; events outside the slices are ignored."""
    if slice_us <= 0:
        raise MicroexpError(f"slice_us must be positive, got {slice_us}")
    t = events["t"]
    if t_start_us is None:
        t_start_us = int(t.min()) if t.size else 0
    if n_slices is None:
        n_slices = n_slices_for(t, slice_us=slice_us, t_start_us=t_start_us)
    if n_slices < 0:
        raise MicroexpError(f"n_slices must be >= 0, got {n_slices}")
    width, height = sensor.width, sensor.height
    if events.size and not sensor.contains(events):
        raise MicroexpError(
            f"events outside the {width}x{height} sensor: x max {int(events['x'].max())}, "
            f"y max {int(events['y'].max())}"
        )
    size = n_slices * 2 * height * width
    k = t - t_start_us
    keep = (k >= 0) & (k < n_slices * slice_us)
    if not keep.all():
        events, k = events[keep], k[keep]
    k //= slice_us
    # flat index of (k, p, y, x) in a [T, 2, H, W] array
    flat = k * (2 * height * width)
    flat += events["p"].astype(np.int64) * (height * width)
    flat += events["y"].astype(np.int64) * width
    flat += events["x"]
    counts = np.bincount(flat, minlength=size)
    return counts.astype(np.int32, copy=False).reshape(n_slices, 2, height, width)
