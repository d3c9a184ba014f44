"""How many pixels of the 64×64 face crop each simulated AU changes, beside a run's per-AU accuracy.

The footprint of an AU is the number of DAVIS pixels whose log intensity changes by more than a
contrast threshold (default 0.2, a typical DVS threshold) between the neutral face and the AU at
``--intensity``, scaled to the crop (face box = 2 × head half-height × (1 + 2 × 0.15 margin)),
averaged over the simulated subjects; crop size and margin are the exporter's defaults. With ``--per-class RUNDIR/per_class.csv`` (from
``microexp train``) it prints the accuracy next to it and plots accuracy against footprint.

Run: python bench/sim_au_footprint.py [--subjects 5] [--per-class RUN/per_class.csv] [--plot PNG]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from microexp.aus import CATALOG, PAPER_AU_CODES
from microexp.dataset.config import DetectorConfig, ExportConfig
from microexp.sim.au_motion import FaceParams, face_params
from microexp.sim.face import FaceRenderer
from microexp.sim.subject import Subject

WIDTH, HEIGHT = 346, 260  # DAVIS346
CROP, MARGIN = ExportConfig().crop_size, DetectorConfig().margin


class SubjectView:
    """One subject's renderer, neutral log image and crop scale (rendered once, reused per AU)."""

    def __init__(self, subject: Subject) -> None:
        self.renderer = FaceRenderer(subject, width=WIDTH, height=HEIGHT)
        self.neutral = np.log(self.renderer.render(FaceParams()) + 1e-3)
        box = subject.scale * HEIGHT * (1 + 2 * MARGIN)  # head height + the detector margin
        self.px_scale = (CROP / box) ** 2


def footprint(code: str, views: list[SubjectView], intensity: float, threshold: float) -> float:
    """Mean number of crop pixels whose log intensity moves by more than ``threshold``."""
    params = face_params(dict.fromkeys(CATALOG[code].au_numbers, intensity))
    counts = [
        (np.abs(np.log(v.renderer.render(params) + 1e-3) - v.neutral) > threshold).sum()
        * v.px_scale
        for v in views
    ]
    return float(np.mean(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=5, help="s01..sNN with seed N (the benchmark's)")
    parser.add_argument("--intensity", type=float, default=0.85, help="AU intensity (peak × expressiveness)")
    parser.add_argument("--threshold", type=float, default=0.2, help="log-intensity contrast threshold")
    parser.add_argument("--per-class", type=Path, help="per_class.csv of a microexp train run")
    parser.add_argument("--plot", type=Path, help="PNG: accuracy against footprint")
    args = parser.parse_args()
    views = [SubjectView(Subject.from_seed(f"s{i:02d}", seed=i)) for i in range(1, args.subjects + 1)]
    accuracy: dict[str, float] = {}
    if args.per_class:
        with args.per_class.open(newline="") as f:
            accuracy = {r["class"]: float(r["accuracy"]) for r in csv.DictReader(f) if r["accuracy"]}
    rows = sorted((footprint(c, views, args.intensity, args.threshold), c) for c in PAPER_AU_CODES)
    print(f"{'AU':6s} {'crop px changed':>16s}" + ("   accuracy" if accuracy else ""))
    for px, code in rows:
        acc = f"   {100 * accuracy[code]:7.1f} %" if code in accuracy else ""
        print(f"{code:6s} {px:16.1f}{acc}")
    if args.plot and accuracy:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        for px, code in rows:
            if code in accuracy:
                ax.scatter(px, 100 * accuracy[code], color="tab:blue")
                ax.annotate(code, (px, 100 * accuracy[code]), fontsize=8, xytext=(3, 3),
                            textcoords="offset points")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel(f"pixels of the {CROP}×{CROP} crop the AU changes (log scale)")
        ax.set_ylabel("LOSO accuracy (%)")
        ax.set_title(f"Per-AU LOSO accuracy vs motion footprint (run {args.per_class.parent.name})", fontsize=9)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
