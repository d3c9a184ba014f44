"""``microexp demo [-o DIR] [--config YAML] [--subjects N] [--force]``: the whole stack, no hardware.

Simulates a few subjects into rosbag2 bags, inspects and exports them, trains the paper's SNN
with leave-one-subject-out CV, replays a held-out subject's bag through the streaming engine and
writes an HTML report (see :mod:`microexp.demo.pipeline`).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import shlex
import sys
from pathlib import Path

__all__ = ["HELP", "configure", "run"]

HELP = "Run the whole pipeline on simulated subjects: bags, dataset, LOSO SNN, live replay, report."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("demo"), help="output directory (default: ./demo)"
    )
    parser.add_argument(
        "--config", type=Path, help="demo config YAML (default: config/demo/default.yaml)"
    )
    parser.add_argument(
        "--subjects", type=int, help="number of simulated subjects (overrides the config)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="redo a previous demo in DIR (only its own outputs are removed)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _pct(v: float | None) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f} %"


def run(args: argparse.Namespace) -> int:
    # idle OpenMP threads must sleep, not spin: on a busy 2-core machine spinning workers made
    # batch-1 steps ~10x slower (set before torch loads; spawned workers inherit it)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from microexp.demo.config import default_config_path, load_demo_config
    from microexp.demo.pipeline import run_demo
    from microexp.errors import ConfigError

    cfg_path = args.config or default_config_path()
    cfg = load_demo_config(cfg_path)
    if args.subjects is not None:
        if args.subjects < 2:
            raise ConfigError(f"--subjects: leave-one-subject-out needs >= 2, got {args.subjects}")
        cfg = dataclasses.replace(cfg, subjects=args.subjects)
    progress = not args.no_progress and sys.stderr.isatty()
    print(
        f"microexp demo -> {args.output} (config {cfg_path}, {cfg.subjects} subjects)", flush=True
    )
    result = run_demo(
        cfg, args.output, force=args.force, progress=progress,
        echo=lambda line: print(line, flush=True),
        command=" ".join(["microexp demo", shlex.join(sys.argv[2:]) if sys.argv[1:2] == ["demo"] else ""]).strip(),
    )  # fmt: skip
    h, lay = result.headline, result.layout
    print(f"\ndone in {result.wall_s:.1f} s (CPU {result.cpu_s:.1f} s). Outputs in {lay.root}:")
    for path, what in (
        (lay.bags, "rosbag2 MCAP bags, one per subject"), (lay.inspect, "microexp inspect JSON per bag"),
        (lay.dataset, "dataset: clips, crops, event frames, manifest.csv, splits.json, summary.md"),
        (lay.run, "LOSO run: checkpoints, results.json, table5.md, confusion.png"),
        (lay.infer, "live replay: predictions.csv, truth.csv, scores.json"),
        (lay.report / "index.html", "report (open in a browser)"),
    ):  # fmt: skip
        print(f"  {path}  {what}")
    print(
        f"headline: {h.get('clips')} clips; LOSO top-1 {_pct(h.get('top1'))}, top-3 "
        f"{_pct(h.get('top3'))} (chance {_pct(h.get('chance'))}); replay of {h.get('infer_subject')}: "
        f"onset delay median {_ms(h.get('onset_delay_ms'))}, detection {_pct(h.get('detection_accuracy'))}"
    )
    return 0


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0f} ms"
