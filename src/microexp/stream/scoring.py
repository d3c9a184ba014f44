"""Score live predictions against what was really performed.

Truth comes from the simulator's ground truth (``AuGroundTruth``: onset, apex, offset) or, for
real recordings, from the protocol's valid segments (onset = start of the perform window, window =
the perform window). All times are ROS ns. For each true action of label L:

- *detected* when an onset of L was predicted inside its window ``[onset, window_end]``
  (``window_end`` = the GT offset or the end of the perform window, plus ``slack_ns``);
- *delay* = time from the true onset to the first such predicted onset (ms; median and p90 over
  the detected ones);
- *top-1 correct* when L has the highest mean score over the slices inside the window.

An onset of L that lies in no window of L is a *false onset*; their count over the minutes of
predicted stream gives false onsets per minute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microexp.stream.engine import SlicePrediction

__all__ = ["StreamScores", "TrueAction", "score_arrays", "score_predictions"]


@dataclass(frozen=True, slots=True)
class TrueAction:
    """One performed action: label, true onset and end of the window where it counts (ROS ns)."""

    label: str
    onset_ns: int
    window_end_ns: int
    source: str  # "ground_truth" or "protocol"


@dataclass(frozen=True, slots=True)
class StreamScores:
    actions: int  # true actions whose label the model knows
    actions_unknown_label: int  # true actions with a label outside the model's classes
    detected: int
    detection_accuracy: float  # detected / actions (NaN when none)
    top1_accuracy: float  # NaN when no action had a slice in its window
    delay_median_ms: float  # NaN when nothing was detected
    delay_p90_ms: float
    false_onsets: int
    false_onsets_per_min: float
    minutes: float
    slices: int
    source: str

    def as_dict(self) -> dict[str, float | int | str]:
        return {k: getattr(self, k) for k in self.__slots__}


def score_predictions(
    predictions: Sequence[SlicePrediction],
    actions: Sequence[TrueAction],
    *,
    slack_ns: int = 0,
) -> StreamScores:
    """Detection delay, detection and top-1 accuracy, false onsets per minute (module docstring)."""
    labels = predictions[0].labels if predictions else ()
    span_us = predictions[-1].t_end_us - predictions[0].t_start_us if predictions else 0
    return score_arrays(
        labels=labels,
        stamps_ns=np.array([p.stamp_ns for p in predictions], dtype=np.int64),
        scores=np.stack([p.scores for p in predictions]) if predictions else np.zeros((0, 0)),
        onsets=[(p.stamp_ns, lb) for p in predictions for lb in p.onsets],
        span_us=span_us,
        actions=actions,
        slack_ns=slack_ns,
    )


def score_arrays(
    *,
    labels: Sequence[str],
    stamps_ns: npt.NDArray[np.int64],
    scores: npt.NDArray[np.floating],
    onsets: Sequence[tuple[int, str]],
    span_us: int,
    actions: Sequence[TrueAction],
    slack_ns: int = 0,
) -> StreamScores:
    """:func:`score_predictions` on plain arrays: per-slice ROS stamps ``[N]`` and scores
    ``[N, C]``, the predicted ``(stamp_ns, label)`` onsets, and the stream's span in sensor µs."""
    known = [a for a in actions if a.label in labels]
    delays: list[float] = []
    top1: list[bool] = []
    used: set[int] = set()  # indices of onsets inside some window of their label
    for act in known:
        end = act.window_end_ns + slack_ns
        hits = [
            i for i, (t, lb) in enumerate(onsets) if lb == act.label and act.onset_ns <= t <= end
        ]
        used.update(hits)
        if hits:
            delays.append((onsets[hits[0]][0] - act.onset_ns) / 1e6)
        inside = (stamps_ns > act.onset_ns) & (stamps_ns <= end)
        if inside.any():
            mean = scores[inside].mean(axis=0)
            top1.append(labels[int(np.argmax(mean))] == act.label)
    false_onsets = sum(1 for i in range(len(onsets)) if i not in used)
    minutes = span_us * 1000 / 60e9
    nan = math.nan
    return StreamScores(
        actions=len(known),
        actions_unknown_label=len(actions) - len(known),
        detected=len(delays),
        detection_accuracy=len(delays) / len(known) if known else nan,
        top1_accuracy=float(np.mean(top1)) if top1 else nan,
        delay_median_ms=float(np.median(delays)) if delays else nan,
        delay_p90_ms=float(np.percentile(delays, 90)) if delays else nan,
        false_onsets=false_onsets,
        false_onsets_per_min=false_onsets / minutes if minutes > 0 else nan,
        minutes=minutes,
        slices=int(stamps_ns.shape[0]),
        source=actions[0].source if actions else "none",
    )
