"""What ``microexp train`` and ``microexp reconstruct`` share: ``--config / -o / --resume /
--no-progress``, where the folds run (``--ray-address / --workers / --no-ray``), the default run
directory (``runs/<config name>``), and the load-then-train call."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from microexp.cli._executor import add_executor_arguments, open_executor
from microexp.train.allocator import keep_large_blocks_in_heap

__all__ = ["add_training_run_arguments", "run_training"]

C = TypeVar("C")


def add_training_run_arguments(parser: argparse.ArgumentParser, *, config_help: str) -> None:
    parser.add_argument("--config", required=True, help=config_help)
    parser.add_argument("-o", "--out", help="run directory (default: runs/<config name>)")
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted run in --out"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_executor_arguments(parser)


def run_training(
    args: argparse.Namespace,
    *,
    load_config: Callable[[str], C],
    train: Callable[..., dict[str, Any]],
) -> tuple[dict[str, Any], Path]:
    """``train(load_config(--config), run dir, ...)``: the run's summary and its directory.
    Folds run on Ray unless ``--no-ray`` (then progress bars per epoch, else one over the folds),
    bars only when asked for and stderr is a terminal. Large blocks stay in glibc's heap
    (:mod:`microexp.train.allocator`: half the CPU of a training step otherwise goes to mmap)."""
    cfg = load_config(args.config)
    keep_large_blocks_in_heap()
    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    progress = not args.no_progress and sys.stderr.isatty()
    with open_executor(args, progress=progress, desc="folds") as executor:
        summary = train(cfg, out, resume=args.resume, progress=progress and args.no_ray,
                        executor=executor)  # fmt: skip
    return summary, out
