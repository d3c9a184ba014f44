"""What a sweep reports: for each outer fold, which configuration won on the inner folds, with its
inner score, and the outer test score of that configuration (``sweep.csv``, ``report.md``,
``results.json``, ``sweep.png``)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_sweep_report"]


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def write_sweep_report(
    out: Path, *, selections: Sequence[dict[str, Any]], tests: Sequence[dict[str, Any]],
    configs: Sequence[dict[str, Any]], search: Sequence[str], base: str,
) -> dict[str, Any]:  # fmt: skip
    """Write the report files into ``out``; return the summary (``results.json``)."""
    rows: list[dict[str, Any]] = []
    for sel, test in zip(selections, tests, strict=True):
        rows.append({"outer_subject": sel["outer_subject"], "winner": sel["winner"], "params": sel["params"],
                     "inner_top1": sel["inner_top1"], "outer_top1": test["metrics"]["top1"],
                     "outer_top3": test["metrics"]["top3"], "outer_clips": test["metrics"]["n"]})  # fmt: skip
    outer = np.array([r["outer_top1"] for r in rows])
    summary: dict[str, Any] = {"base": base, "configurations": list(configs), "folds": rows,
               "mean_outer_top1": float(outer.mean()), "std_outer_top1": float(outer.std()),
               "mean_outer_top3": float(np.mean([r["outer_top3"] for r in rows]))}  # fmt: skip
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    with (out / "sweep.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "outer_subject",
                "sample",
                *search,
                "inner_top1",
                "inner_top3",
                "epochs",
                "chosen",
                "outer_top1",
            ]
        )
        for sel, row in zip(selections, rows, strict=True):
            for t in sel["trials"]:
                chosen = t["sample"] == sel["winner"]
                w.writerow([sel["outer_subject"], t["sample"], *(_fmt(t["params"][k]) for k in search),
                            f"{t['inner_top1']:.4f}", f"{t['inner_top3']:.4f}", t["epochs"], int(chosen),
                            f"{row['outer_top1']:.4f}" if chosen else ""])  # fmt: skip
    lines = [
        f"# Sweep with nested leave-one-subject-out ({base})", "",
        "Each configuration was scored on the inner folds only (the held-out subject never reached a "
        "trial); the winner was then trained on all inner subjects and tested once on the held-out subject.",
        "", "| held-out subject | winning sample | " + " | ".join(search) + " | inner top-1 % | outer test top-1 % | outer top-3 % |",
        "|" + "---|" * (len(search) + 5),
        *(f"| {r['outer_subject']} | {r['winner']} | " + " | ".join(_fmt(r["params"][k]) for k in search)
          + f" | {100 * r['inner_top1']:.1f} | {100 * r['outer_top1']:.1f} | {100 * r['outer_top3']:.1f} |" for r in rows),
        "", f"Outer test top-1 over {len(rows)} fold(s): **{100 * summary['mean_outer_top1']:.1f} %** "
        f"± {100 * summary['std_outer_top1']:.1f}; top-3 {100 * summary['mean_outer_top3']:.1f} %.",
        "Every trial: `sweep.csv`; plot: `sweep.png`.", "",
    ]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines))
    _plot(out / "sweep.png", selections, rows)
    return summary


def _plot(path: Path, selections: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.5 + 1.2 * len(rows), 3.5))
    for i, (sel, row) in enumerate(zip(selections, rows, strict=True)):
        scores = [100 * t["inner_top1"] for t in sel["trials"]]
        ax.scatter(
            [i] * len(scores),
            scores,
            color="0.6",
            s=14,
            label="trial, inner top-1" if i == 0 else None,
        )
        ax.scatter([i], [100 * row["inner_top1"]], color="C0", marker="*", s=120,
                   label="winner, inner top-1" if i == 0 else None)  # fmt: skip
        ax.scatter([i], [100 * row["outer_top1"]], color="C3", marker="x", s=60,
                   label="winner, outer test top-1" if i == 0 else None)  # fmt: skip
    ax.set_xticks(range(len(rows)), [r["outer_subject"] for r in rows])
    ax.set_xlabel("held-out subject (outer fold)")
    ax.set_ylabel("top-1 %")
    ax.set_ylim(-5, 105)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
