"""Trim a clip to the expression, found in the data: the burst of face-crop events (real bags).

The paper's clips run from onset through apex to offset with about 1 s of neutral face on each
side (docs/references.md#paper-table2); real recordings carry no onset, so it comes from the data.
:func:`activity_window` works on the per-slice event counts of one camera's face crop
(the clip's event frames): the slices *before* the perform window (the neutral margin, the subject
looking at the camera) give the baseline — median m and MAD-based sigma σ = 1.4826·MAD (at least
1 count). A 3-slice moving average above ``m + threshold_mad·σ`` inside the perform window is
active; active runs closer than ``merge_gap_slices`` merge, and the run with the largest excess
over m is the expression. :func:`cut_clip` then cuts the clip's files (events, frames, crops,
boxes, frame times) to ``[onset − margin, offset + margin]``.

A movement outside the face crop, a blink during a subtle AU, or a head turn that moves the whole
crop all count as activity: the window is a heuristic and says so in ``label.json``
(``trim.source``); it falls back to the whole perform window when nothing stands out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import numpy.typing as npt

from microexp.dataset.atomic import atomic_write_npy
from microexp.events.types import EVENT_DTYPE

__all__ = ["ActivityWindow", "activity_window", "cut_clip"]


@dataclass(frozen=True, slots=True)
class ActivityWindow:
    """Slices ``[start, end)`` of the burst, and the baseline it stood out from."""

    start: int
    end: int
    baseline: float
    sigma: float
    threshold: float


def activity_window(
    counts: npt.ArrayLike,
    *,
    perform: tuple[int, int],
    threshold_mad: float,
    merge_gap_slices: int,
) -> ActivityWindow | None:
    """The expression's slices in ``counts`` (events per slice), searched in ``perform`` =
    ``[first, end)`` slice of the perform window; None when no slice stands out."""
    c = np.asarray(counts, dtype=np.float64).reshape(-1)
    lo, hi = max(0, perform[0]), min(c.size, perform[1])
    if hi <= lo:
        return None
    before = c[:lo] if lo >= 5 else c  # too short a lead-in: most of the clip is neutral anyway
    m = float(np.median(before))
    sigma = max(1.4826 * float(np.median(np.abs(before - m))), 1.0)
    thr = m + threshold_mad * sigma
    smooth = np.convolve(c, np.ones(3) / 3.0, mode="same")
    active = np.flatnonzero(smooth[lo:hi] > thr) + lo
    if active.size == 0:
        return None
    # runs of active slices, merged across gaps of up to merge_gap_slices
    breaks = np.flatnonzero(np.diff(active) > merge_gap_slices + 1)
    starts = np.concatenate([[active[0]], active[breaks + 1]])
    ends = np.concatenate([active[breaks], [active[-1]]]) + 1
    excess = [float(np.sum(smooth[a:b] - m)) for a, b in zip(starts, ends, strict=True)]
    k = int(np.argmax(excess))
    return ActivityWindow(int(starts[k]), int(ends[k]), m, sigma, thr)


def _cut_events(path: Path, lo_us: int, hi_us: int, t0_ns: int) -> int:
    """Keep events with ``lo ≤ t < hi`` (µs since the old clip start), re-based; returns count."""
    with h5py.File(path, "r") as f:
        ds = f["events"]
        ev = ds[:]
        attrs = dict(ds.attrs)
    keep = ev[(ev["t"] >= lo_us) & (ev["t"] < hi_us)]
    keep["t"] -= lo_us
    tmp = path.with_name(path.name + ".cut")
    with h5py.File(tmp, "w") as f:
        ds = f.create_dataset(
            "events", data=keep, dtype=EVENT_DTYPE, maxshape=(None,), chunks=(1 << 16,)
        )
        attrs["t0_ns"] = t0_ns
        ds.attrs.update(attrs)
        f.attrs.update({k: attrs[k] for k in ("width", "height", "t0_ns") if k in attrs})
    tmp.replace(path)
    return int(keep.size)


def cut_clip(
    directory: Path,
    *,
    old_start_ns: int,
    new_start_ns: int,
    new_end_ns: int,
    time_origin_ns: int = 0,
) -> dict[str, int]:
    """Cut the clip files in ``directory`` to ``[new_start, new_end)`` (ROS ns); returns the
    event count per camera. Event times are re-based on the new start; frame arrays keep the rows
    whose frame time lies in the interval. Times in the files count from ``time_origin_ns`` (a
    shared dataset's session start, see ``ClipWriter.close_sinks``)."""
    lo_us = (new_start_ns - old_start_ns) // 1000
    hi_us = (new_end_ns - old_start_ns) // 1000
    counts = {}
    for p in sorted(directory.glob("events_*.h5")):
        counts[p.stem.removeprefix("events_")] = _cut_events(
            p, lo_us, hi_us, new_start_ns - time_origin_ns
        )
    for times_path in sorted(directory.glob("frame_times_*.npy")):
        camera = times_path.stem.removeprefix("frame_times_")
        times = np.load(times_path)
        keep = (times >= new_start_ns - time_origin_ns) & (times < new_end_ns - time_origin_ns)
        for name in ("frames", "crops", "faces"):
            p = directory / f"{name}_{camera}.npy"
            if p.is_file():
                atomic_write_npy(p, np.load(p, mmap_mode="r")[keep])
        atomic_write_npy(times_path, times[keep])
    return counts
