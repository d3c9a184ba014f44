"""Figures of the demo report (matplotlib, Agg): dataset samples, sync errors, the live trace."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "InferenceTrace",
    "SyncEstimate",
    "event_frame_rgb",
    "plot_inference_trace",
    "plot_samples",
    "plot_sync_errors",
    "read_inference_trace",
]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def event_frame_rgb(frame: npt.NDArray[np.integer], *, cap: float = 3.0) -> npt.NDArray[np.float64]:
    """``[2, H, W]`` ON/OFF counts → RGB on white: ON red, OFF blue, both dark purple."""
    on = np.clip(frame[0] / cap, 0, 1)
    off = np.clip(frame[1] / cap, 0, 1)
    rgb = np.ones((*frame.shape[1:], 3))
    rgb[..., 0] -= off
    rgb[..., 1] -= np.maximum(on, off)
    rgb[..., 2] -= on
    return np.clip(rgb, 0, 1)


def plot_samples(path: Path, dataset: Path, clip_dirs: Sequence[str], *, strip: int = 6) -> Path:
    """Per clip: the DAVIS grey face crop and the webcam crop at the event peak, then ``strip``
    event frames (33 ms slices) around the slice with the most events."""
    plt = _plt()
    rows = max(len(clip_dirs), 1)
    cols = 2 + strip
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols, 1.6 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for r, rel in enumerate(clip_dirs):
        d = dataset / rel
        label = json.loads((d / "label.json").read_text(encoding="utf-8"))
        ev = np.load(d / "evframes_davis.npy")
        n = ev.reshape(ev.shape[0], -1).sum(1)
        lo, hi = ev.shape[0] // 5, max(ev.shape[0] - ev.shape[0] // 5, ev.shape[0] // 5 + 1)
        peak = lo + int(np.argmax(n[lo:hi]))
        t_peak = int(label["start_ns"]) + peak * int(label["slice_us"]) * 1000
        for c, cam in enumerate(("davis", "webcam")):
            ax = axes[r, c]
            crops = d / f"crops_{cam}.npy"
            times = d / f"frame_times_{cam}.npy"
            if crops.is_file() and times.is_file():
                stack, ts = np.load(crops), np.load(times)
                if len(stack):
                    k = int(np.argmin(np.abs(ts.astype(np.int64) - t_peak)))
                    ax.imshow(stack[k], cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"{cam} crop" if r == 0 else "", fontsize=7)
        first = int(np.clip(peak - strip // 2, 0, max(ev.shape[0] - strip, 0)))
        for j in range(strip):
            k = first + j
            if k >= ev.shape[0]:
                break
            ax = axes[r, 2 + j]
            ax.imshow(event_frame_rgb(ev[k]))
            ax.set_title(f"{(k - peak) * label['slice_us'] / 1000:+.0f} ms, {int(n[k])} ev"
                         if k != peak else f"peak, {int(n[k])} ev", fontsize=6)  # fmt: skip
        axes[r, 0].text(-0.15, 0.5, f"{label['label']}\n{label['subject']}", fontsize=8,
                        transform=axes[r, 0].transAxes, ha="right", va="center")  # fmt: skip
    fig.suptitle("Dataset samples: face crops at the event peak, DAVIS event frames (ON red, OFF blue)",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@dataclass(frozen=True, slots=True)
class SyncEstimate:
    subject: str
    camera: str
    true_ns: int
    estimates_ns: tuple[int, ...]  # one per clip

    @property
    def errors_us(self) -> npt.NDArray[np.float64]:
        return (np.asarray(self.estimates_ns, np.int64) - self.true_ns) / 1000.0


def plot_sync_errors(path: Path, estimates: Sequence[SyncEstimate]) -> Path:
    """Per subject and camera: each clip's estimated sensor→ROS offset minus the true one (µs)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 2.6))
    names = [f"{e.subject}\n{e.camera}" for e in estimates]
    for i, e in enumerate(estimates):
        err = e.errors_us
        ax.scatter(np.full(err.size, i) + np.linspace(-0.15, 0.15, err.size), err, s=10)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xticks(range(len(names)), names, fontsize=7)
    ax.set_ylabel("estimate − truth [µs]", fontsize=8)
    ax.set_title(
        "Export's per-clip clock-offset estimates against the simulator's truth", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@dataclass
class InferenceTrace:
    stamps_ns: npt.NDArray[np.int64]
    classes: tuple[str, ...]
    scores: npt.NDArray[np.float64]  # [slices, classes]
    onsets: list[tuple[int, str]]  # (stamp_ns, label) of detected onsets
    truth: list[tuple[str, int, int]]  # (label, onset_ns, window_end_ns)


def read_inference_trace(predictions_csv: Path, truth_csv: Path) -> InferenceTrace:
    """The replay's predictions CSV and truth CSV as arrays."""
    import csv

    with predictions_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    classes = tuple(
        c[len("score_") :] for c in (rows[0].keys() if rows else ()) if c.startswith("score_")
    )
    stamps = np.array([int(r["stamp_ns"]) for r in rows], dtype=np.int64)
    scores = np.array([[float(r[f"score_{c}"]) for c in classes] for r in rows], dtype=np.float64)
    onsets = [(int(r["stamp_ns"]), lb) for r in rows for lb in r["onsets"].split(";") if lb]
    truth = []
    if truth_csv.is_file():
        with truth_csv.open(newline="", encoding="utf-8") as f:
            truth = [
                (r["label"], int(r["onset_ns"]), int(r["window_end_ns"])) for r in csv.DictReader(f)
            ]
    return InferenceTrace(stamps, classes, scores.reshape(len(rows), len(classes)), onsets, truth)


def plot_inference_trace(
    path: Path, trace: InferenceTrace, *, start_ns: int, theta_on: float | None, title: str
) -> Path:
    """Scores per class over time; true actions as shaded windows with their onset dashed in the
    class colour; detected onsets as triangles on top."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 3.4))
    cmap = plt.get_cmap("tab10")
    colour: Mapping[str, object] = {c: cmap(i % 10) for i, c in enumerate(trace.classes)}
    t = (trace.stamps_ns - start_ns) / 1e9
    for i, c in enumerate(trace.classes):
        ax.plot(t, trace.scores[:, i], lw=0.9, color=colour[c], label=c)
    for label, onset, end in trace.truth:
        col = colour.get(label, "0.4")
        a, b = (onset - start_ns) / 1e9, (end - start_ns) / 1e9
        ax.axvspan(a, b, color=col, alpha=0.15, zorder=0)
        ax.axvline(a, color=col, ls="--", lw=0.9)
        ax.text(a, 1.02, label, color=col, fontsize=7, transform=ax.get_xaxis_transform(),
                ha="left", va="bottom")  # fmt: skip
    for stamp, label in trace.onsets:
        ax.plot([(stamp - start_ns) / 1e9], [0.97], marker="v", ms=7, color=colour.get(label, "k"),
                transform=ax.get_xaxis_transform(), clip_on=False)  # fmt: skip
    if theta_on is not None:
        ax.axhline(theta_on, color="0.4", lw=0.7, ls=":", label=f"onset threshold {theta_on:g}")
    ax.set_xlabel("session time [s] (ROS time since session start)")
    ax.set_ylabel("score")
    ax.set_ylim(0, 1.0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    ax.set_title(title, fontsize=9, pad=16)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
