"""``microexp reconstruct --config config/train/cvae_<camera>.yaml [-o RUNDIR] [--resume]``."""

from __future__ import annotations

import argparse

from microexp.cli._training_run import add_training_run_arguments, run_training

__all__ = ["HELP", "configure", "run"]

HELP = (
    "Train the conditional VAE that reconstructs grey frames from event frames (paper's Table 6)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_training_run_arguments(
        parser, config_help="reconstruction config YAML (config/train/cvae_*.yaml)"
    )


def run(args: argparse.Namespace) -> int:
    from microexp.train.config import load_reconstruct_config
    from microexp.train.reconstruct import train_reconstruction

    s, out = run_training(args, load_config=load_reconstruct_config, train=train_reconstruction)
    m = s["mean_prior"]
    print(f"cVAE {s['event_camera']} -> {s['target_camera']} ({s['parameters']:,} parameters), "
          f"{len(s['folds'])} folds: MSE {m['mse']:.4f} PSNR {m['psnr']:.2f} dB SSIM {m['ssim']:.4f} NCC {m['ncc']:.4f}")  # fmt: skip
    print(f"results in {out} (table6.md, results.json, fold_*/grid.png)")
    return 0
