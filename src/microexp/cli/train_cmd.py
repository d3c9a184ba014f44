"""``microexp train --config config/train/NAME.yaml [-o RUNDIR] [--resume]``: LOSO training."""

from __future__ import annotations

import argparse

from microexp.cli._training_run import add_training_run_arguments, run_training

__all__ = ["HELP", "configure", "run"]

HELP = "Train and evaluate a model with leave-one-subject-out cross-validation (paper's recipe)."


def configure(parser: argparse.ArgumentParser) -> None:
    add_training_run_arguments(parser, config_help="training config YAML (config/train/*.yaml)")


def run(args: argparse.Namespace) -> int:
    from microexp.train.config import load_train_config
    from microexp.train.loso import train_loso

    summary, out = run_training(args, load_config=load_train_config, train=train_loso)
    print(f"{summary['model']} {summary['modality']}: {len(summary['folds'])} folds, "
          f"mean top-1 {100 * summary['mean_top1']:.2f} % (± {100 * summary['std_top1']:.2f}), "
          f"top-3 {100 * summary['mean_top3']:.2f} %")  # fmt: skip
    print(f"results in {out} (table5.md, results.json, confusion.png)")
    return 0
