"""``microexp reconstruct --config config/train/cvae_<camera>.yaml [-o RUNDIR] [--resume]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["HELP", "configure", "run"]

HELP = (
    "Train the conditional VAE that reconstructs grey frames from event frames (paper's Table 6)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, help="reconstruction config YAML (config/train/cvae_*.yaml)"
    )
    parser.add_argument("-o", "--out", help="run directory (default: runs/<config name>)")
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted run in --out"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from microexp.train.config import load_reconstruct_config
    from microexp.train.reconstruct import train_reconstruction

    cfg = load_reconstruct_config(args.config)
    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    s = train_reconstruction(
        cfg, out, resume=args.resume, progress=not args.no_progress and sys.stderr.isatty()
    )
    m = s["mean_prior"]
    print(f"cVAE {s['event_camera']} -> {s['target_camera']} ({s['parameters']:,} parameters), "
          f"{len(s['folds'])} folds: MSE {m['mse']:.4f} PSNR {m['psnr']:.2f} dB SSIM {m['ssim']:.4f} NCC {m['ncc']:.4f}")  # fmt: skip
    print(f"results in {out} (table6.md, results.json, fold_*/grid.png)")
    return 0
