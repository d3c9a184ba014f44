"""Out-of-sample tuning of the streaming decision thresholds (nested leave-one-subject-out).

The decision settings of :class:`~microexp.stream.config.StreamConfig` (``window_slices``,
``theta_on``/``theta_off``, ``k_on``/``m_off``, ``onset_top1_only``) act only on the model's
per-slice firing rates. So each subject's session is replayed once through the engine with the
checkpoint of the LOSO fold that held that subject out, and its rates are kept as a
:class:`RateTrace`; every candidate setting is then re-decided on the trace with the engine's own
:class:`~microexp.stream.decisions.ScoreWindow` and
:class:`~microexp.stream.decisions.HysteresisDetector` (:func:`redecide`; equal to the engine's
output, tested) and scored with :func:`~microexp.stream.scoring.score_arrays`.

:func:`nested_loso`: for each subject, the setting is chosen on the *other* subjects only (best
pooled objective), then scored on the held-out subject: the figures it reports never saw the
subject they score. The setting chosen on all subjects (:attr:`NestedResult.final`) is what a
config ships; its expected performance is the nested figure, not its own (in-sample) score.

Objective ``f1``: onsets as detections, F1 = 2·TP / (2·TP + FP + FN) with TP = true actions whose
label had an onset in their window, FN = the others, FP = false onsets (pooled over subjects).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import yaml

from microexp.errors import ConfigError
from microexp.stream.config import StreamConfig
from microexp.stream.decisions import HysteresisDetector, ScoreWindow
from microexp.stream.engine import SlicePrediction
from microexp.stream.scoring import StreamScores, TrueAction, score_arrays

__all__ = [
    "DecisionParams",
    "FoldResult",
    "NestedResult",
    "RateTrace",
    "TuningGrid",
    "load_tuning_grid",
    "nested_loso",
    "redecide",
]

Objective = Literal["f1"]


@dataclass(frozen=True, slots=True)
class RateTrace:
    """One replayed session: per-slice model rates and what the engine did around them."""

    subject: str
    labels: tuple[str, ...]
    stamps_ns: npt.NDArray[np.int64]  # [N] ROS time of each slice end
    rates: npt.NDArray[np.float32]  # [N, C] the model's raw output (zeros where not stepped)
    stepped: npt.NDArray[np.bool_]  # [N] the model stepped (a face box was set)
    reset_before: npt.NDArray[np.bool_]  # [N] the engine reset before this slice
    span_us: int  # sensor time from the first slice start to the last slice end
    actions: tuple[TrueAction, ...]

    @classmethod
    def from_predictions(
        cls, subject: str, predictions: Sequence[SlicePrediction], actions: Sequence[TrueAction]
    ) -> RateTrace:
        if not predictions:
            raise ValueError(f"subject {subject}: the replay gave no slice")
        return cls(
            subject=subject,
            labels=tuple(predictions[0].labels),
            stamps_ns=np.array([p.stamp_ns for p in predictions], dtype=np.int64),
            rates=np.stack([p.rates for p in predictions]).astype(np.float32),
            stepped=np.array([p.face_box is not None for p in predictions], dtype=bool),
            reset_before=np.array([p.reset_before for p in predictions], dtype=bool),
            span_us=int(predictions[-1].t_end_us - predictions[0].t_start_us),
            actions=tuple(actions),
        )

    def save(self, path: Path) -> Path:
        """``.npz`` with the arrays and a JSON header (subject, labels, span, actions)."""
        header = {
            "subject": self.subject,
            "labels": list(self.labels),
            "span_us": self.span_us,
            "actions": [dataclasses.asdict(a) for a in self.actions],
        }
        tmp = path.with_name(path.name + ".partial.npz")
        np.savez(tmp, header=np.array(json.dumps(header)), stamps_ns=self.stamps_ns,
                 rates=self.rates, stepped=self.stepped, reset_before=self.reset_before)  # fmt: skip
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> RateTrace:
        try:
            with np.load(path) as z:
                header = json.loads(str(z["header"]))
                arrays = {k: z[k] for k in ("stamps_ns", "rates", "stepped", "reset_before")}
        except (OSError, KeyError, ValueError) as err:
            raise ConfigError(f"{path}: not a rate trace: {err}") from err
        return cls(
            subject=header["subject"],
            labels=tuple(header["labels"]),
            span_us=int(header["span_us"]),
            actions=tuple(TrueAction(**a) for a in header["actions"]),
            **arrays,
        )


@dataclass(frozen=True, slots=True)
class DecisionParams:
    """The decision settings being tuned (names as in :class:`StreamConfig`)."""

    window_slices: int
    theta_on: float
    theta_off: float
    k_on: int
    m_off: int
    onset_top1_only: bool

    def apply(self, config: StreamConfig) -> StreamConfig:
        return dataclasses.replace(config, **dataclasses.asdict(self))

    def label(self) -> str:
        gate = "top-1 gate" if self.onset_top1_only else "no gate"
        return (
            f"window {self.window_slices}, θ_on {self.theta_on:g}, θ_off {self.theta_off:g}, "
            f"k_on {self.k_on}, m_off {self.m_off}, {gate}"
        )


@dataclass(frozen=True, slots=True)
class TuningGrid:
    """Candidate values (every combination is tried); ``theta_off = ratio · theta_on``."""

    objective: Objective
    window_slices: tuple[int, ...]
    theta_on: tuple[float, ...]
    theta_off_ratio: tuple[float, ...]
    k_on: tuple[int, ...]
    m_off: tuple[int, ...]
    onset_top1_only: tuple[bool, ...]

    def __post_init__(self) -> None:
        if self.objective != "f1":
            raise ConfigError(f"tuning grid: objective must be 'f1', got {self.objective!r}")
        for f in dataclasses.fields(self):
            if f.name != "objective" and not getattr(self, f.name):
                raise ConfigError(f"tuning grid: {f.name} must list at least one value")
        if any(not 0 < r <= 1 for r in self.theta_off_ratio):
            raise ConfigError(
                f"tuning grid: theta_off_ratio must be in (0, 1]: {self.theta_off_ratio}"
            )

    def candidates(self) -> list[DecisionParams]:
        return [
            DecisionParams(w, on, round(on * r, 6), k, m, gate)
            for w, on, r, k, m, gate in itertools.product(
                self.window_slices, self.theta_on, self.theta_off_ratio, self.k_on, self.m_off,
                self.onset_top1_only,
            )
        ]  # fmt: skip


def load_tuning_grid(path: str | Path) -> TuningGrid:
    """The grid YAML (every key required, unknown keys refused)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{p}: cannot read tuning grid: {err}") from err
    if not isinstance(data, Mapping):
        raise ConfigError(f"{p}: tuning grid must be a mapping")
    names = [f.name for f in dataclasses.fields(TuningGrid)]
    unknown, missing = sorted(set(data) - set(names)), [n for n in names if n not in data]
    if unknown or missing:
        raise ConfigError(f"{p}: unknown key(s) {unknown}, missing key(s) {missing}")
    try:
        values: dict[str, Any] = {n: data[n] if n == "objective" else tuple(data[n]) for n in names}
        return TuningGrid(**values)
    except TypeError as err:
        raise ConfigError(f"{p}: bad tuning grid value: {err}") from err
    except ConfigError as err:
        raise ConfigError(f"{p}: {err}") from err


def _scores(trace: RateTrace, window: int, config: StreamConfig) -> npt.NDArray[np.float32]:
    """Per-slice scores as the engine computes them (zeros where the model did not step)."""
    sw = ScoreWindow(num_classes=len(trace.labels), window_slices=window,
                     mode=config.score_mode, temperature=config.softmax_temperature)  # fmt: skip
    out = np.zeros_like(trace.rates)
    for i in range(trace.rates.shape[0]):
        if trace.reset_before[i]:
            sw.reset()
        if trace.stepped[i]:
            out[i] = sw.update(trace.rates[i])
    return out


def redecide(
    trace: RateTrace, params: DecisionParams, *, config: StreamConfig,
    scores: npt.NDArray[np.float32] | None = None,
) -> tuple[npt.NDArray[np.float32], list[tuple[int, str]]]:  # fmt: skip
    """``(scores [N, C], onsets [(stamp_ns, label)])`` the engine gives with ``params``."""
    if scores is None:
        scores = _scores(trace, params.window_slices, config)
    hyst = HysteresisDetector(trace.labels, theta_on=params.theta_on, theta_off=params.theta_off,
                              k_on=params.k_on, m_off=params.m_off,
                              top1_only=params.onset_top1_only)  # fmt: skip
    onsets: list[tuple[int, str]] = []
    for i in range(scores.shape[0]):
        if trace.reset_before[i]:
            hyst.reset()
        if trace.stepped[i]:
            onsets += [(int(trace.stamps_ns[i]), lb) for lb in hyst.update(scores[i]).onsets]
    return scores, onsets


def _score(trace: RateTrace, scores: npt.NDArray[np.float32],
           onsets: list[tuple[int, str]]) -> StreamScores:  # fmt: skip
    return score_arrays(labels=trace.labels, stamps_ns=trace.stamps_ns, scores=scores,
                        onsets=onsets, span_us=trace.span_us, actions=trace.actions)  # fmt: skip


def f1(tp: int, fp: int, fn: int) -> float:
    """F1 of onsets; 0 when there is nothing to find and nothing found."""
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


@dataclass(frozen=True, slots=True)
class FoldResult:
    held_out: str
    params: DecisionParams
    inner_f1: float  # pooled over the other subjects (where the setting was chosen)
    scores: StreamScores  # on the held-out subject

    @property
    def f1(self) -> float:
        s = self.scores
        return f1(s.detected, s.false_onsets, s.actions - s.detected)


@dataclass(frozen=True, slots=True)
class NestedResult:
    folds: tuple[FoldResult, ...]
    final: DecisionParams  # chosen on every subject: what a config ships
    final_f1_in_sample: float  # its own pooled score (optimistic: not a figure to report)
    candidates: int
    grid: TuningGrid

    def pooled(self) -> dict[str, float]:
        """Held-out figures pooled over folds (each subject scored with a setting it never chose)."""
        s = [f.scores for f in self.folds]
        tp = sum(x.detected for x in s)
        n = sum(x.actions for x in s)
        fp = sum(x.false_onsets for x in s)
        minutes = sum(x.minutes for x in s)
        return {
            "actions": n, "detected": tp, "detection_accuracy": tp / n if n else math.nan,
            "false_onsets": fp, "false_onsets_per_min": fp / minutes if minutes else math.nan,
            "f1": f1(tp, fp, n - tp),
        }  # fmt: skip


def nested_loso(
    traces: Sequence[RateTrace], grid: TuningGrid, *, config: StreamConfig
) -> NestedResult:
    """Choose on the other subjects, score on the held-out one (module docstring)."""
    if len(traces) < 2:
        raise ConfigError(f"nested leave-one-subject-out needs >= 2 subjects, got {len(traces)}")
    subjects = [t.subject for t in traces]
    if len(set(subjects)) != len(subjects):
        raise ConfigError(f"one trace per subject, got {subjects}")
    cands = grid.candidates()
    # counts[c, s] = (TP, FP, FN) of candidate c on subject s; scores kept for the winners
    counts = np.zeros((len(cands), len(traces), 3), dtype=np.int64)
    results: dict[tuple[int, int], StreamScores] = {}
    for si, trace in enumerate(traces):
        by_window = {w: _scores(trace, w, config) for w in grid.window_slices}
        for ci, p in enumerate(cands):
            sc, onsets = redecide(trace, p, config=config, scores=by_window[p.window_slices])
            r = _score(trace, sc, onsets)
            results[ci, si] = r
            counts[ci, si] = (r.detected, r.false_onsets, r.actions - r.detected)

    def best(cols: list[int]) -> tuple[int, float]:
        tot = counts[:, cols].sum(axis=1)
        scores = np.array([f1(*map(int, row)) for row in tot])
        # ties: fewer false onsets, then the first in grid order
        order = np.lexsort((np.arange(len(cands)), tot[:, 1], -scores))
        return int(order[0]), float(scores[order[0]])

    folds = []
    for si, subject in enumerate(subjects):
        ci, inner = best([j for j in range(len(traces)) if j != si])
        folds.append(FoldResult(subject, cands[ci], inner, results[ci, si]))
    ci, final_f1 = best(list(range(len(traces))))
    return NestedResult(tuple(folds), cands[ci], final_f1, len(cands), grid)
