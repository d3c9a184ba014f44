"""Per-polarity count frames over fixed time slices — the paper's Eq. 1 representation.

``frames[k, c, y, x]`` counts the events at pixel (x, y) with polarity channel ``c`` whose time lies
in slice ``k`` = ``[t_start_us + k * slice_us, t_start_us + (k + 1) * slice_us)``.
Channel 0 is OFF (p = 0) and channel 1 is ON (p = 1), the same order as tonic's ``ToFrame``.
Backends, identical frames (``bench/binning.py`` checks them against tonic's ``ToFrame``):
``numpy`` builds a flat ``(polarity, y, x)`` index and bins it with ``np.bincount`` — one call per
slice when the events are time-sorted (each slice is a contiguous run found by searchsorted and its
bins stay in cache), else one call over ``(slice, polarity, y, x)``; ``numba`` (chosen by
``"auto"`` when numba imports) does it in one compiled pass with no index array, 2-3x faster.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Literal

import numpy as np
import numpy.typing as npt

from microexp.errors import MicroexpError
from microexp.events.types import EventArray, SensorSize

__all__ = ["CHANNEL_OFF", "CHANNEL_ON", "FramesBackend", "count_frames", "n_slices_for"]

FramesBackend = Literal["auto", "numpy", "numba"]

CHANNEL_OFF = 0
CHANNEL_ON = 1


def _load_numba_kernel() -> ModuleType | None:
    try:
        return importlib.import_module("microexp.events._frames_numba")
    except ImportError:
        return None


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
    backend: FramesBackend = "auto",
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
    kernel = None if backend == "numpy" else _load_numba_kernel()
    if backend == "numba" and kernel is None:
        raise ImportError("count_frames(backend='numba') needs numba (pip install numba)")
    if kernel is not None:
        out = np.zeros((n_slices, 2, height, width), dtype=np.int32)
        if events.size and n_slices:
            bad = int(kernel.bin_counts(events, t_start_us=t_start_us, slice_us=slice_us, out=out))
            if bad >= 0:
                _raise_outside(events[bad : bad + 1], sensor)
        return out
    if events.size and not (sensor.contains(events) and int(events["p"].max()) <= 1):
        _raise_outside(events, sensor)
    return _bin_numpy(events, t, sensor=sensor, slice_us=slice_us, t_start_us=t_start_us,
                      n_slices=n_slices)  # fmt: skip


def _raise_outside(events: EventArray, sensor: SensorSize) -> None:
    raise MicroexpError(
        f"events outside the {sensor.width}x{sensor.height} sensor or with polarity > 1: "
        f"x max {int(events['x'].max())}, y max {int(events['y'].max())}, "
        f"p max {int(events['p'].max())}"
    )


def _bin_numpy(
    events: EventArray,
    t: npt.NDArray[np.int64],
    *,
    sensor: SensorSize,
    slice_us: int,
    t_start_us: int,
    n_slices: int,
) -> npt.NDArray[np.int32]:
    width, height = sensor.width, sensor.height
    plane = 2 * height * width
    # flat index of (p, y, x) inside one slice, built in place
    flat = events["y"].astype(np.intp)
    flat *= width
    flat += events["x"]
    flat += events["p"].astype(np.intp) * (height * width)
    edges = t_start_us + slice_us * np.arange(n_slices + 1, dtype=np.int64)
    if t.size < 2 or bool(np.all(t[1:] >= t[:-1])):
        # time-sorted: each slice is a contiguous run; a bincount per slice stays in cache
        bounds = np.searchsorted(t, edges, side="left")
        out = np.empty((n_slices, plane), dtype=np.int32)
        for i in range(n_slices):
            out[i] = np.bincount(flat[bounds[i] : bounds[i + 1]], minlength=plane)
        return out.reshape(n_slices, 2, height, width)
    k = t - t_start_us
    keep = (k >= 0) & (k < n_slices * slice_us)
    k = k[keep] // slice_us
    flat = flat[keep] + k * plane
    counts = np.bincount(flat, minlength=n_slices * plane)
    return counts.astype(np.int32, copy=False).reshape(n_slices, 2, height, width)
