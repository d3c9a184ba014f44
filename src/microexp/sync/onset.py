"""Onset of a sync flash in one camera stream: an event burst, or a jump in frame brightness."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Onset", "brightness_onset", "event_burst_onset"]


@dataclass(frozen=True)
class Onset:
    t_ns: int  # camera time of the onset (ROS-time scale)
    uncertainty_ns: int


def event_burst_onset(
    bin_start_ns: int,
    counts: npt.NDArray[np.int64],
    *,
    bin_ns: int,
    around_ns: int,
    guard_ns: int,
    k: float = 5.0,
    min_count: int = 20,
) -> Onset | None:
    """First bin at or after ``around_ns - guard_ns`` whose event count exceeds the baseline
    (median of the bins that end before it) by ``k`` Poisson standard deviations and by
    ``min_count``. ``counts[i]`` holds the events in ``[bin_start_ns + i*bin_ns, ... + bin_ns)``."""
    if counts.size == 0:
        return None
    edge = (around_ns - guard_ns - bin_start_ns) // bin_ns
    if edge < 1 or edge >= counts.size:
        return None
    baseline = float(np.median(counts[:edge]))
    threshold = baseline + max(k * np.sqrt(max(baseline, 1.0)), float(min_count))
    above = np.flatnonzero(counts[edge:] > threshold)
    if above.size == 0:
        return None
    first = int(edge + above[0])
    return Onset(t_ns=bin_start_ns + first * bin_ns, uncertainty_ns=bin_ns)


def brightness_onset(
    stamps_ns: npt.NDArray[np.int64],
    means: npt.NDArray[np.float64],
    *,
    around_ns: int,
    guard_ns: int,
    min_jump: float = 20.0,
) -> Onset | None:
    """Stamp of the first frame at or after ``around_ns - guard_ns`` brighter than the earlier
    frames by ``min_jump`` grey levels; uncertainty: one frame interval. The earlier frames'
    level is their darkest: a flash only brightens, and the previous flash of a pattern (two
    flashes 0.2 s apart) may light most of them."""
    if stamps_ns.size < 3:
        return None
    order = np.argsort(stamps_ns, kind="stable")
    stamps_ns, means = stamps_ns[order], means[order]
    before = stamps_ns < around_ns - guard_ns
    if not before.any():
        return None
    baseline = float(means[before].min())
    hits = np.flatnonzero(~before & (means - baseline >= min_jump))
    if hits.size == 0:
        return None
    i = int(hits[0])
    interval = int(np.median(np.diff(stamps_ns))) if stamps_ns.size > 1 else 0
    return Onset(t_ns=int(stamps_ns[i]), uncertainty_ns=interval)
