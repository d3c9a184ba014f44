"""Classification and reconstruction metrics (numpy / scikit-image)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "ClassificationMetrics",
    "classification_metrics",
    "confusion_matrix",
    "reconstruction_metrics",
    "topk_accuracy",
]

ClassificationMetrics = dict[str, object]


def topk_accuracy(
    scores: npt.NDArray[np.floating], labels: npt.NDArray[np.integer], k: int
) -> float:
    """Fraction of rows whose label is among the ``k`` highest scores (ties: lower index first)."""
    if len(labels) == 0:
        return float("nan")
    k = min(k, scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(order == labels[:, None], axis=1)))


def confusion_matrix(
    labels: npt.NDArray[np.integer], predicted: npt.NDArray[np.integer], n: int
) -> npt.NDArray[np.int64]:
    """``m[true, predicted]`` counts."""
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (labels, predicted), 1)
    return m


def classification_metrics(
    scores: npt.NDArray[np.floating], labels: npt.NDArray[np.integer], classes: Sequence[str]
) -> ClassificationMetrics:
    """top-1, top-3, per-class accuracy (recall; NaN where a class has no clip), confusion."""
    n = len(classes)
    pred = np.argmax(scores, axis=1) if len(labels) else np.zeros(0, np.int64)
    cm = confusion_matrix(labels, pred, n)
    support = cm.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)
    return {
        "top1": topk_accuracy(scores, labels, 1),
        "top3": topk_accuracy(scores, labels, 3),
        "n": len(labels),
        "per_class": {c: float(a) for c, a in zip(classes, per_class, strict=True)},
        "support": {c: int(s) for c, s in zip(classes, support, strict=True)},
        "confusion": cm.tolist(),
    }


def reconstruction_metrics(
    recon: npt.NDArray[np.floating], target: npt.NDArray[np.floating]
) -> dict[str, float]:
    """MSE, RMSE, MAE, PSNR (dB), SSIM, NCC — means over images ``[N, H, W]`` in [0, 1].

    PSNR, SSIM and MSE from ``skimage.metrics`` (data_range 1); NCC is the zero-mean normalised
    cross-correlation per image (scikit-image has none).
    """
    from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

    r = np.asarray(recon, np.float64)
    t = np.asarray(target, np.float64)
    mse = np.array([mean_squared_error(a, b) for a, b in zip(t, r, strict=True)])
    psnr = np.array(
        [
            peak_signal_noise_ratio(a, b, data_range=1.0) if m > 0 else np.inf
            for a, b, m in zip(t, r, mse, strict=True)
        ]
    )
    ssim = np.array(
        [structural_similarity(a, b, data_range=1.0) for a, b in zip(t, r, strict=True)]
    )
    rc = r - r.mean(axis=(1, 2), keepdims=True)
    tc = t - t.mean(axis=(1, 2), keepdims=True)
    denom = np.sqrt((rc**2).sum(axis=(1, 2)) * (tc**2).sum(axis=(1, 2)))
    ncc = np.where(denom > 0, (rc * tc).sum(axis=(1, 2)) / np.where(denom > 0, denom, 1), 0.0)
    return {
        "mse": float(mse.mean()),
        "rmse": float(np.sqrt(mse).mean()),
        "mae": float(np.abs(r - t).mean()),
        "psnr": float(psnr[np.isfinite(psnr)].mean()) if np.isfinite(psnr).any() else float("inf"),
        "ssim": float(ssim.mean()),
        "ncc": float(ncc.mean()),
    }
