"""Per-slice decisions: scores from the SNN's firing rates, top-k, and onsets/offsets with hysteresis.

Scores. The paper's SNN ends in a voting layer whose output, per class and per time step, is the
fraction of that class's output neurons that fired (a firing rate in [0, 1]); the paper averages
it over the clip. Live, :class:`ScoreWindow` averages it over the last ``window_slices`` slices
(a boxcar, reset with the model). ``mode="rate"`` reports these normalised firing rates as they
are (each in [0, 1]; they need not sum to 1, several AUs may be active at once);
``mode="softmax"`` reports ``softmax(rates / temperature)`` (sums to 1).

Onsets/offsets. :class:`HysteresisDetector` switches a class on when its score has been
≥ ``theta_on`` for ``k_on`` consecutive slices and off when it has been < ``theta_off`` for
``m_off`` consecutive slices (``theta_off`` ≤ ``theta_on``), so one noisy slice neither starts
nor ends an AU. With ``top1_only`` a slice counts towards an onset only for the best-scoring class
(the paper's models are trained with one label per clip; the out-of-sample threshold tuning of
docs/streaming.md chose the gate in every fold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["HysteresisDetector", "ScoreMode", "ScoreWindow", "Transitions", "top_k"]

ScoreMode = Literal["rate", "softmax"]
FloatArray = npt.NDArray[np.float32]


class ScoreWindow:
    """Boxcar mean of the last ``window_slices`` rate vectors, turned into scores."""

    def __init__(
        self,
        *,
        num_classes: int,
        window_slices: int,
        mode: ScoreMode = "rate",
        temperature: float = 0.1,
    ) -> None:
        if window_slices < 1:
            raise ValueError(f"window_slices must be ≥ 1, got {window_slices}")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if mode not in ("rate", "softmax"):
            raise ValueError(f"score mode must be 'rate' or 'softmax', got {mode!r}")
        self._ring = np.zeros((window_slices, num_classes), dtype=np.float64)
        self._sum = np.zeros(num_classes, dtype=np.float64)
        self._count = 0
        self._pos = 0
        self._mode = mode
        self._temperature = float(temperature)

    def reset(self) -> None:
        self._ring[:] = 0.0
        self._sum[:] = 0.0
        self._count = 0
        self._pos = 0

    def update(self, rates: npt.ArrayLike) -> FloatArray:
        """Add one slice's rates; returns the scores (float32, one per class)."""
        r = np.asarray(rates, dtype=np.float64).reshape(-1)
        if r.shape != self._sum.shape:
            raise ValueError(f"expected {self._sum.shape[0]} rates, got {r.shape[0]}")
        self._sum += r - self._ring[self._pos]
        self._ring[self._pos] = r
        self._pos = (self._pos + 1) % self._ring.shape[0]
        self._count = min(self._count + 1, self._ring.shape[0])
        mean = np.clip(self._sum / self._count, 0.0, None)
        if self._mode == "softmax":
            z = mean / self._temperature
            z = np.exp(z - z.max())
            mean = z / z.sum()
        return mean.astype(np.float32)


def top_k(labels: Sequence[str], scores: FloatArray, k: int) -> tuple[list[str], list[float]]:
    """The ``k`` best labels and scores, best first (ties: lower class index first)."""
    k = min(k, len(labels))
    order = np.argsort(-scores, kind="stable")[:k]
    return [labels[i] for i in order.tolist()], [float(scores[i]) for i in order.tolist()]


@dataclass(frozen=True, slots=True)
class Transitions:
    """Labels that switched on (onsets) and off (offsets) at one slice."""

    onsets: tuple[str, ...]
    offsets: tuple[str, ...]


class HysteresisDetector:
    """Per-class on/off state with thresholds and persistence (see module docstring)."""

    def __init__(
        self,
        labels: Sequence[str],
        *,
        theta_on: float,
        theta_off: float,
        k_on: int,
        m_off: int,
        top1_only: bool = False,
    ) -> None:
        if theta_off > theta_on:
            raise ValueError(f"theta_off ({theta_off}) must not exceed theta_on ({theta_on})")
        if k_on < 1 or m_off < 1:
            raise ValueError(f"k_on and m_off must be ≥ 1, got {k_on}, {m_off}")
        self._labels = tuple(labels)
        n = len(self._labels)
        self._theta_on, self._theta_off = float(theta_on), float(theta_off)
        self._k_on, self._m_off = int(k_on), int(m_off)
        self._top1_only = bool(top1_only)
        self._active = np.zeros(n, dtype=bool)
        self._above = np.zeros(n, dtype=np.int64)  # consecutive slices ≥ theta_on
        self._below = np.zeros(n, dtype=np.int64)  # consecutive slices < theta_off

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(lb for lb, a in zip(self._labels, self._active.tolist(), strict=True) if a)

    def reset(self) -> tuple[str, ...]:
        """Forget all state; returns the labels that were active (they end here)."""
        ended = self.active
        self._active[:] = False
        self._above[:] = 0
        self._below[:] = 0
        return ended

    def update(self, scores: npt.ArrayLike) -> Transitions:
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        if s.shape[0] != len(self._labels):
            raise ValueError(f"expected {len(self._labels)} scores, got {s.shape[0]}")
        hi = s >= self._theta_on
        if self._top1_only:
            hi &= np.arange(s.shape[0]) == int(np.argmax(s))
        lo = s < self._theta_off
        self._above = np.where(hi, self._above + 1, 0)
        self._below = np.where(lo, self._below + 1, 0)
        on = ~self._active & (self._above >= self._k_on)
        off = self._active & (self._below >= self._m_off)
        self._active = (self._active | on) & ~off
        return Transitions(
            tuple(self._labels[i] for i in np.flatnonzero(on).tolist()),
            tuple(self._labels[i] for i in np.flatnonzero(off).tolist()),
        )
