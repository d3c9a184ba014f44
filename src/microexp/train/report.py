"""Result tables in the paper's layouts (Table 5, Table 6) and figures (confusion, Fig. 5 grid).

Every table puts this run's figures beside the paper's, labelled as such; the paper's numbers are
quoted from REFERENCE.md §1 (Mastropasqua et al. 2025), never recomputed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "PAPER_TABLE5",
    "PAPER_TABLE6",
    "save_confusion",
    "save_image_grid",
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
) -> None:
    """``table5.md`` / ``table5.csv``: this run (mean ± std over folds, %) and the paper's rows."""
    name = _MODEL_NAMES.get(model, model)
    rows = [
        ["this run", name, modality, _fmt(100 * top1), _fmt(100 * top3), _fmt(100 * top1_std),
         _fmt(100 * top3_std), str(n_folds), str(n_classes)],
    ]  # fmt: skip
    for (m, mod), (a, t3) in PAPER_TABLE5.items():
        rows.append(["paper (Table 5)", m, mod, _fmt(a), _fmt(t3), "—", "—", "7", "21"])
    header = [
        "source",
        "model",
        "modality",
        "accuracy %",
        "top-3 %",
        "acc. std",
        "top-3 std",
        "folds",
        "classes",
    ]
    with (out_dir / "table5.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    lines = [
        "Leave-one-subject-out accuracy, layout of the paper's Table 5 (mean over folds).",
        "Rows marked 'paper' are the published figures (7 subjects, 21 AUs), not this run.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    (out_dir / "table5.md").write_text("\n".join(lines))


def write_table6(out_dir: Path, results: Mapping[str, Mapping[str, float]]) -> None:
    """``table6.md`` / ``table6.csv``: metrics per event camera, this run beside the paper's."""
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
    with (out_dir / "table6.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    lines = [
        "cVAE reconstruction (layout of the paper's Table 6). '(paper)' columns are published figures.",
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
