"""What ``microexp train`` and ``microexp reconstruct`` share: ``--config / -o / --resume /
--no-progress``, the default run directory (``runs/<config name>``), and the load-then-train call."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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


def run_training(
    args: argparse.Namespace,
    *,
    load_config: Callable[[str], C],
    train: Callable[..., dict[str, Any]],
) -> tuple[dict[str, Any], Path]:
    """``train(load_config(--config), run dir, ...)``: the run's summary and its directory.
    Progress bars only when asked for and stderr is a terminal. Large blocks stay in glibc's heap
    (:mod:`microexp.train.allocator`: half the CPU of a training step otherwise goes to mmap)."""
    cfg = load_config(args.config)
    keep_large_blocks_in_heap()
    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    summary = train(
        cfg, out, resume=args.resume, progress=not args.no_progress and sys.stderr.isatty()
    )
    return summary, out
