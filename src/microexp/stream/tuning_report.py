"""Files of a threshold tuning run: the nested-LOSO table (CSV, Markdown), a plot, the chosen config.

Every figure in the table is out-of-sample: the row of subject S is scored with the setting chosen
on the other subjects (:func:`microexp.stream.tuning.nested_loso`).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from microexp.dataset.atomic import atomic_write_text
from microexp.stream.config import StreamConfig
from microexp.stream.tuning import NestedResult

__all__ = ["write_tuning_outputs"]

COLUMNS = [
    "held_out", "window_slices", "theta_on", "theta_off", "k_on", "m_off", "onset_top1_only",
    "inner_f1", "actions", "detected", "detection_accuracy", "top1_accuracy", "delay_median_ms",
    "delay_p90_ms", "false_onsets", "false_onsets_per_min", "f1",
]  # fmt: skip


def _cell(v: Any, digits: int = 2) -> str:
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.{digits}f}"
    return str(v)


def _rows(result: NestedResult) -> list[dict[str, Any]]:
    rows = []
    for f in result.folds:
        p, s = f.params, f.scores
        rows.append({
            "held_out": f.held_out, "window_slices": p.window_slices, "theta_on": p.theta_on,
            "theta_off": p.theta_off, "k_on": p.k_on, "m_off": p.m_off,
            "onset_top1_only": p.onset_top1_only, "inner_f1": f.inner_f1, "actions": s.actions,
            "detected": s.detected, "detection_accuracy": s.detection_accuracy,
            "top1_accuracy": s.top1_accuracy, "delay_median_ms": s.delay_median_ms,
            "delay_p90_ms": s.delay_p90_ms, "false_onsets": s.false_onsets,
            "false_onsets_per_min": s.false_onsets_per_min, "f1": f.f1,
        })  # fmt: skip
    return rows


def _markdown(result: NestedResult, command: str) -> str:
    pooled = result.pooled()
    lines = [
        "# Streaming thresholds, nested leave-one-subject-out",
        "",
        f"Command: `{command}`",
        "",
        f"{result.candidates} candidate settings. Each row: the setting chosen on the *other*",
        "subjects (best pooled onset F1), scored on the held-out subject with the model of the",
        "LOSO fold that never saw it. No figure here was tuned on the subject it scores.",
        "",
        "| held out | chosen on the others | inner F1 | detection | top-1 (window) | "
        "onset delay median / p90 | false onsets / min | F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for f in result.folds:
        s = f.scores
        lines.append(
            f"| {f.held_out} | {f.params.label()} | {f.inner_f1:.2f} | {s.detected}/{s.actions} | "
            f"{_cell(s.top1_accuracy)} | {_cell(s.delay_median_ms, 0)} / "
            f"{_cell(s.delay_p90_ms, 0)} ms | {_cell(s.false_onsets_per_min, 1)} | {f.f1:.2f} |"
        )
    lines += [
        f"| **pooled** | | | {pooled['detected']}/{pooled['actions']} "
        f"({100 * pooled['detection_accuracy']:.0f} %) | | | "
        f"{_cell(pooled['false_onsets_per_min'], 1)} | {pooled['f1']:.2f} |",
        "",
        f"Setting chosen on all subjects (what a config ships): {result.final.label()}. Its "
        "expected performance on a new subject is the pooled row above, not its own score on "
        "the subjects it was chosen on.",
        "",
    ]
    return "\n".join(lines)


def _plot(path: Path, result: NestedResult) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folds = result.folds
    x = np.arange(len(folds))
    fig, ax = plt.subplots(figsize=(1.6 + 1.1 * len(folds), 3.4))
    det = [f.scores.detection_accuracy for f in folds]
    ax.bar(x - 0.2, det, 0.4, label="detection (held out)", color="tab:blue")
    ax.bar(x + 0.2, [f.f1 for f in folds], 0.4, label="onset F1 (held out)", color="tab:green")
    ax.set_ylim(0, 1)
    ax.set_xticks(x, [f.held_out for f in folds])
    ax.set_ylabel("fraction")
    ax2 = ax.twinx()
    ax2.plot(x, [f.scores.false_onsets_per_min for f in folds], "o--", color="tab:red",
             label="false onsets / min")  # fmt: skip
    ax2.set_ylabel("false onsets / min", color="tab:red")
    ax2.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper right")
    ax.set_title("Streaming thresholds chosen on the other subjects", fontsize=9)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".partial.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def write_tuning_outputs(
    out: Path, result: NestedResult, *, base: StreamConfig, command: str
) -> dict[str, Path]:
    """``nested_loso.csv``, ``nested_loso.md``, ``nested_loso.png``, ``stream_selected.yaml``."""
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(_rows(result))
    paths = {
        "csv": out / "nested_loso.csv",
        "md": out / "nested_loso.md",
        "png": out / "nested_loso.png",
        "config": out / "stream_selected.yaml",
    }
    atomic_write_text(paths["csv"], buf.getvalue())
    atomic_write_text(paths["md"], _markdown(result, command))
    _plot(paths["png"], result)
    pooled = result.pooled()
    header = (
        f"# Chosen by `{command}` on all {len(result.folds)} subjects.\n"
        f"# Out-of-sample (nested leave-one-subject-out, nested_loso.md): detection "
        f"{pooled['detected']}/{pooled['actions']}, {pooled['false_onsets_per_min']:.1f} false "
        f"onsets/min, onset F1 {pooled['f1']:.2f}.\n"
    )
    body = yaml.safe_dump({"stream": result.final.apply(base).to_mapping()}, sort_keys=False)
    atomic_write_text(paths["config"], header + body)
    return paths
