"""``microexp report DIR``: rebuild a demo's HTML report from the outputs on disk."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["HELP", "configure", "run"]

HELP = "Rebuild the HTML report of a `microexp demo` directory from its outputs (plots only)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="a directory written by `microexp demo`")


def run(args: argparse.Namespace) -> int:
    from microexp.demo.workspace import is_demo_dir
    from microexp.errors import MicroexpError
    from microexp.report.demo_report import build_demo_report

    if not is_demo_dir(args.directory):
        raise MicroexpError(f"{args.directory}: not a microexp demo directory (no demo marker)")
    page = build_demo_report(args.directory)
    print(f"report: {page}")
    return 0
