"""``microexp sweep --config config/sweep/NAME.yaml [-o OUT] [--resume]``: a hyperparameter sweep
on Ray Tune with nested leave-one-subject-out (configurations chosen on inner folds only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from microexp.cli._executor import add_executor_arguments

__all__ = ["HELP", "configure", "run"]

HELP = "Hyperparameter sweep (Ray Tune, ASHA) with nested leave-one-subject-out."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="sweep config YAML (config/sweep/*.yaml)")
    parser.add_argument("-o", "--out", help="output directory (default: runs/sweep_<config name>)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted sweep")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_executor_arguments(parser, no_ray=False)


def run(args: argparse.Namespace) -> int:
    from microexp.cli._executor import ray_options
    from microexp.distributed.cluster import ray_session
    from microexp.distributed.ray_executor import RayExecutor
    from microexp.sweep.config import load_sweep_config
    from microexp.sweep.nested import run_sweep
    from microexp.train.allocator import keep_large_blocks_in_heap

    cfg = load_sweep_config(args.config)
    keep_large_blocks_in_heap()
    out = Path(args.out) if args.out else Path("runs") / f"sweep_{Path(args.config).stem}"
    options = ray_options(args)
    with ray_session(options) as session:
        workers = max(1, int(session.cpus) // options.cpus_per_job)
        bar = not args.no_progress and sys.stderr.isatty()
        executor = RayExecutor(options, progress=bar, desc="outer test folds",
                               echo=None if bar else lambda line: print(line, file=sys.stderr))  # fmt: skip
        res = run_sweep(cfg, out, executor=executor, options=options, workers=workers,
                        resume=args.resume)  # fmt: skip
    for f in res["folds"]:
        print(f"outer fold {f['outer_subject']}: sample {f['winner']} {f['params']} wins "
              f"(inner top-1 {100 * f['inner_top1']:.1f} %), outer test top-1 {100 * f['outer_top1']:.1f} %")  # fmt: skip
    print(f"mean outer test top-1 {100 * res['mean_outer_top1']:.1f} % "
          f"(± {100 * res['std_outer_top1']:.1f}); report in {out / 'report.md'}")  # fmt: skip
    return 0
