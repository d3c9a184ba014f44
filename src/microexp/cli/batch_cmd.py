"""``microexp batch --config config/batch/NAME.yaml -o OUT [--dataset DIR] [--resume]``: several
training / reconstruction runs (whole Table-5 and Table-6 runs), every fold one job in one pool."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from microexp.cli._executor import add_executor_arguments, open_executor

__all__ = ["HELP", "configure", "run"]

HELP = "Several training/reconstruction runs as one pool of fold jobs (Table 5 and Table 6)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="batch config YAML (config/batch/*.yaml)")
    parser.add_argument("-o", "--out", required=True, help="output directory (OUT/<run name>/)")
    parser.add_argument("--dataset", help="dataset directory for every run (replaces theirs)")
    parser.add_argument("--resume", action="store_true", help="continue interrupted runs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_executor_arguments(parser)


def _headline(name: str, s: dict[str, Any]) -> str:
    if "mean_top1" in s:
        return (f"{name}: {s['model']} {s['modality']}, {len(s['folds'])} folds, mean top-1 "
                f"{100 * s['mean_top1']:.2f} % (± {100 * s['std_top1']:.2f}), top-3 {100 * s['mean_top3']:.2f} %")  # fmt: skip
    m = s["mean_prior"]
    return (f"{name}: cVAE {s['event_camera']} -> {s['target_camera']}, {len(s['folds'])} folds, "
            f"MSE {m['mse']:.4f} PSNR {m['psnr']:.2f} dB SSIM {m['ssim']:.4f}")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from microexp.train.allocator import keep_large_blocks_in_heap
    from microexp.train.batch import load_batch_config, plan_batch
    from microexp.train.plan import run_plans

    cfg = load_batch_config(args.config)
    keep_large_blocks_in_heap()
    plans = plan_batch(cfg, args.out, dataset=args.dataset, resume=args.resume)
    progress = not args.no_progress and sys.stderr.isatty()

    def done(job: Any, _result: Any, seconds: float) -> None:
        print(f"  {job.key} done ({seconds:.1f} s)", flush=True)

    with open_executor(args, progress=progress, desc="folds") as executor:
        summaries = run_plans(plans, executor, on_done=done)
    for r, s in zip(cfg.runs, summaries, strict=True):
        print(_headline(r.name, s))
    print(f"results in {Path(args.out)}/<run> (table5.md / table6.md, results.json)")
    return 0
