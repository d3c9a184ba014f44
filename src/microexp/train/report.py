"""Result tables in the papers' layouts (Table 5, Table 6, the report's result) and figures
(confusion, Fig. 5 grid). Parameter counts are in Mi = 2^20, the paper's unit
(:mod:`microexp.models.params`).

Every table puts this run's figures beside the paper's, labelled as such; the paper's numbers are
quoted from Mastropasqua et al., ICCV Workshops 2025 (docs/references.md#paper-table5,
#paper-table6), never recomputed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from microexp.models.params import MEBI

__all__ = [
    "PAPER_PARAMS_MI",
    "PAPER_TABLE5",
    "PAPER_TABLE6",
    "REPORT_RESULT",
    "model_parameters",
    "save_confusion",
    "save_image_grid",
    "write_report_table",
    "write_result_tables",
    "write_table5",
    "write_table6",
]

PAPER_TABLE5: dict[tuple[str, str], tuple[float, float]] = {
    ("SNN", "events"): (51.23, 63.57),
    ("SNN", "rgb"): (23.12, 25.57),
    ("3DCNN", "events"): (44.89, 56.46),
    ("3DCNN", "rgb"): (17.06, 21.76),
}
"""(model, modality) → (LOSO accuracy %, top-3 %) as published (Table 5)."""

PAPER_PARAMS_MI: dict[str, float] = {"SNN": 4.11, "3DCNN": 13.06, "cVAE": 289.0}
"""Model → parameters as published (Table 5 "#Par.", Table 6 "Model Params."), in the paper's "M",
which is Mi = 2^20 (docs/references.md#param-unit). The paper gives one count per model."""

REPORT_RESULT: dict[str, float] = {"top1_best": 43.18, "top1_smoothed": 40.24, "top5_best": 95.45}
"""The report's SEW-ResNet on its 7 movements (%): best test top-1 over the training epochs, the
smoothed curve's best, best top-5 (Mayaud & Bouchy, docs/references.md#report-model)."""

PAPER_TABLE6: dict[str, dict[str, float]] = {
    "davis": {
        "mse": 0.0034,
        "rmse": 0.0566,
        "mae": 0.0399,
        "psnr": 25.31,
        "ssim": 0.7717,
        "ncc": 0.9613,
    },
    "evk4": {
        "mse": 0.0024,
        "rmse": 0.0471,
        "mae": 0.0340,
        "psnr": 26.89,
        "ssim": 0.8513,
        "ncc": 0.9744,
    },
}
"""Event camera → reconstruction metrics as published (Table 6)."""

_MODEL_NAMES = {"snn": "SNN", "c3d": "3DCNN", "sew": "SEW-ResNet"}


def _fmt(v: float, digits: int = 2) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def model_parameters(model_config: Mapping[str, Any]) -> int:
    """Parameters of the model a resolved config builds (built on the meta device: no memory)."""
    import torch

    from microexp.models.params import parameter_total
    from microexp.models.registry import build_model

    try:
        with torch.device("meta"):
            return parameter_total(build_model(model_config))
    except (RuntimeError, NotImplementedError):  # a layer that cannot live on meta
        return parameter_total(build_model(model_config))


def _mi(n: int | float | None) -> str:
    return "—" if n is None else f"{n / MEBI:.2f}" if isinstance(n, int) else f"{n:.2f}"


def write_table5(
    out_dir: Path,
    *,
    model: str,
    modality: str,
    top1: float,
    top3: float,
    top1_std: float,
    top3_std: float,
    n_folds: int,
    n_classes: int,
    n_params: int | None = None,
    best: tuple[float, float, float, float] | None = None,
) -> None:
    """``table5.md`` / ``table5.csv``: this run (mean ± std over folds, %) and the paper's rows.

    ``n_params``: this model's parameters (shown in Mi). ``best``: ``(top1, top3, top1_std,
    top3_std)`` of each fold's best epoch on its own test subject (needs ``eval_every_epoch``),
    shown as an extra, labelled row: it selects on the test data, so it is optimistic.
    """
    name = _MODEL_NAMES.get(model, model)
    rows = [
        ["this run (final epoch)", name, modality, _mi(n_params), _fmt(100 * top1),
         _fmt(100 * top3), _fmt(100 * top1_std), _fmt(100 * top3_std), str(n_folds),
         str(n_classes)],
    ]  # fmt: skip
    if best is not None:
        rows.append(
            ["this run (best epoch per fold, chosen on its test subject)", name, modality,
             _mi(n_params), *(_fmt(100 * v) for v in best), str(n_folds), str(n_classes)]
        )  # fmt: skip
    for (m, mod), (a, t3) in PAPER_TABLE5.items():
        rows.append(
            ["paper (Table 5)", m, mod, _mi(PAPER_PARAMS_MI[m]), _fmt(a), _fmt(t3), "—", "—", "7",
             "21"]
        )  # fmt: skip
    header = ["source", "model", "modality", "#Par. (Mi)", "accuracy %", "top-3 %", "acc. std",
              "top-3 std", "folds", "classes"]  # fmt: skip
    with (out_dir / "table5.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    lines = [
        "Leave-one-subject-out accuracy, layout of the paper's Table 5 (mean over folds).",
        "Rows marked 'paper' are the published figures (7 subjects, 21 AUs), not this run.",
        "#Par. in Mi = 2^20 parameters, the paper's unit (its SNN's 4.11M = 4,311,616 weights / 2^20).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    (out_dir / "table5.md").write_text("\n".join(lines))


def write_report_table(
    out_dir: Path,
    *,
    model: str,
    final: tuple[float, float],
    best: tuple[float, float] | None,
    n_folds: int,
    n_params: int | None = None,
) -> None:
    """``table_report.md`` / ``.csv``: the report's 7-movement result beside this run.

    ``final`` / ``best``: (top-1, top-5) mean over folds after the last epoch / at each fold's
    best epoch on its own test subject — the report's way (it quotes its best test accuracy over
    epochs), which selects on the test data and is optimistic.
    """
    name = _MODEL_NAMES.get(model, model)
    rows = [["this run, final epoch", name, _mi(n_params), _fmt(100 * final[0]),
             _fmt(100 * final[1]), str(n_folds)]]  # fmt: skip
    if best is not None:
        rows.append(["this run, best epoch per fold (chosen on its test subject)", name,
                     _mi(n_params), _fmt(100 * best[0]), _fmt(100 * best[1]), str(n_folds)])  # fmt: skip
    r = REPORT_RESULT
    rows.append(
        ["report, best epoch", "SEW-ResNet", "—", _fmt(r["top1_best"]), _fmt(r["top5_best"]), "—"]
    )
    rows.append(
        [
            "report, best of the smoothed curve",
            "SEW-ResNet",
            "—",
            _fmt(r["top1_smoothed"]),
            "—",
            "—",
        ]
    )
    header = ["source", "model", "#Par. (Mi)", "top-1 %", "top-5 %", "folds"]
    with (out_dir / "table_report.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    lines = [
        "The report's 7 movements (Mayaud & Bouchy): its SEW-ResNet result beside this run.",
        "The report quotes its best test accuracy over the training epochs; this run is shown both",
        "after the last epoch and at each fold's best epoch (leave-one-subject-out, mean over folds).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    (out_dir / "table_report.md").write_text("\n".join(lines))


def _best_over_epochs(
    histories: Sequence[Sequence[Mapping[str, Any]]], key: str
) -> list[float] | None:
    """Per fold, ``key`` of the epoch with the best test top-1 (None when not evaluated)."""
    out = []
    for history in histories:
        evals = [h for h in history if "test_top1" in h]
        if not evals:
            return None
        out.append(float(max(evals, key=lambda h: h["test_top1"])[key]))
    return out


def write_result_tables(
    out_dir: Path,
    summary: Mapping[str, Any],
    *,
    model_config: Mapping[str, Any],
    results: Sequence[Mapping[str, Any]],
) -> None:
    """Every table of a LOSO run: Table 5, and the report's table when the classes are its 7
    movements. ``results``: per fold, ``scores``, ``labels`` and ``history`` (the epoch stats;
    ``test_top1`` … when the recipe has ``eval_every_epoch``)."""
    from microexp.aus import MOVEMENT_CODES
    from microexp.train.metrics import topk_accuracy

    n_params = model_parameters(model_config)
    n_folds, classes = len(summary["folds"]), summary["classes"]
    histories = [r.get("history", []) for r in results]
    top1_b = _best_over_epochs(histories, "test_top1")
    top3_b = _best_over_epochs(histories, "test_top3")
    best = None
    if top1_b is not None and top3_b is not None:
        best = (float(np.mean(top1_b)), float(np.mean(top3_b)), float(np.std(top1_b)),
                float(np.std(top3_b)))  # fmt: skip
    write_table5(out_dir, model=summary["model"], modality=summary["modality"],
                 top1=summary["mean_top1"], top3=summary["mean_top3"],
                 top1_std=summary["std_top1"], top3_std=summary["std_top3"], n_folds=n_folds,
                 n_classes=len(classes), n_params=n_params, best=best)  # fmt: skip
    if set(classes) == set(MOVEMENT_CODES):
        final5 = [
            topk_accuracy(np.asarray(r["scores"], np.float64).reshape(-1, len(classes)),
                          np.asarray(r["labels"], np.int64), 5)
            for r in results
        ]  # fmt: skip
        top5_b = _best_over_epochs(histories, "test_top5")
        write_report_table(
            out_dir, model=summary["model"], n_folds=n_folds, n_params=n_params,
            final=(summary["mean_top1"], float(np.mean(final5))),
            best=None if top1_b is None or top5_b is None
            else (float(np.mean(top1_b)), float(np.mean(top5_b))),
        )  # fmt: skip


def write_table6(
    out_dir: Path, results: Mapping[str, Mapping[str, float]], *, n_params: int | None = None
) -> None:
    """``table6.md`` / ``table6.csv``: metrics per event camera, this run beside the paper's, and
    the "Model Params." row (Mi = 2^20; this run's model, the paper's 289M)."""
    metrics = ["mse", "rmse", "mae", "psnr", "ssim", "ncc"]
    header = ["metric"]
    cols: list[tuple[str, Mapping[str, float]]] = []
    for cam, res in results.items():
        cols.append((f"{cam} (this run)", res))
        if cam in PAPER_TABLE6:
            cols.append((f"{cam} (paper)", PAPER_TABLE6[cam]))
    header += [c for c, _ in cols]
    rows = [
        [m.upper() + (" (dB)" if m == "psnr" else "")]
        + [_fmt(r.get(m, float("nan")), 4) for _, r in cols]
        for m in metrics
    ]
    rows.append(
        ["Model Params. (Mi)"]
        + [
            _mi(PAPER_PARAMS_MI["cVAE"]) if c.endswith("(paper)") else _mi(n_params)
            for c, _ in cols
        ]
    )
    with (out_dir / "table6.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    lines = [
        "cVAE reconstruction (layout of the paper's Table 6). '(paper)' columns are published figures.",
        "Model Params. in Mi = 2^20 parameters (the paper's unit); the paper does not state the",
        "input size behind its 289M (see microexp.models.cvae).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    (out_dir / "table6.md").write_text("\n".join(lines))


def save_confusion(
    path: Path, cm: npt.NDArray[np.integer], classes: Sequence[str], *, title: str
) -> None:
    """Confusion matrix as CSV (``path.with_suffix('.csv')``) and PNG (row-normalised colours)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with path.with_suffix(".csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["true \\ predicted", *classes])
        for c, row in zip(classes, cm, strict=True):
            w.writerow([c, *map(int, row)])
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(2 + 0.45 * n, 1.5 + 0.45 * n))
    ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(range(n), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(n), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png"), dpi=120)
    plt.close(fig)


def save_image_grid(
    path: Path,
    events: npt.NDArray[np.floating],
    recon: npt.NDArray[np.floating],
    target: npt.NDArray[np.floating],
) -> None:
    """Rows of events | reconstruction | ground truth (like the paper's Fig. 5), PNG.

    ``events`` [N, 2, H, W] in [0, 1] shown red = ON, blue = OFF; ``recon`` / ``target`` [N, H, W].
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(recon)
    fig, axes = plt.subplots(n, 3, figsize=(6, 2 * n), squeeze=False)
    for i in range(n):
        rgb = np.zeros((*events.shape[2:], 3))
        rgb[..., 0], rgb[..., 2] = events[i, 0], events[i, 1]
        for ax, img, title in zip(
            axes[i],
            (rgb, recon[i], target[i]),
            ("events", "reconstruction", "ground truth"),
            strict=True,
        ):
            ax.imshow(img, cmap=None if img.ndim == 3 else "gray", vmin=0, vmax=1)
            ax.set_axis_off()
            if i == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
