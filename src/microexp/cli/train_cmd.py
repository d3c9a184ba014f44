"""``microexp train --config config/train/NAME.yaml [-o RUNDIR] [--resume]``: LOSO training."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["HELP", "configure", "run"]

HELP = "Train and evaluate a model with leave-one-subject-out cross-validation (paper's recipe)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, help="training config YAML (config/train/*.yaml)"
    )
    parser.add_argument("-o", "--out", help="run directory (default: runs/<config name>)")
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted run in --out"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from microexp.train.config import load_train_config
    from microexp.train.loso import train_loso

    cfg = load_train_config(args.config)
    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    summary = train_loso(
        cfg, out, resume=args.resume, progress=not args.no_progress and sys.stderr.isatty()
    )
    print(f"{summary['model']} {summary['modality']}: {len(summary['folds'])} folds, "
          f"mean top-1 {100 * summary['mean_top1']:.2f} % (± {100 * summary['std_top1']:.2f}), "
          f"top-3 {100 * summary['mean_top3']:.2f} %")  # fmt: skip
    print(f"results in {out} (table5.md, results.json, confusion.png)")
    return 0
