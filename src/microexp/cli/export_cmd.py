"""``microexp export BAG [BAG ...] -o DATASET [--force] [--config YAML]``: session bags → dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from microexp.dataset.config import load_export_config
from microexp.dataset.export import export_bags

__all__ = ["HELP", "configure", "run"]

HELP = "Export session bags to a dataset: one clip per valid segment, crops, manifest, LOSO splits."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bags", nargs="+", type=Path, help="session bags (folders or .mcap/.db3)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="dataset directory")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="export config YAML (every key; template: config/dataset/export.yaml)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing dataset (never deletes a non-dataset directory)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    cfg = load_export_config(args.config)
    report = export_bags(
        args.bags,
        args.output,
        config=cfg,
        force=args.force,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    print(report.text())
    print(f"dataset: {args.output}")
    if not report.ok:
        print(
            f"ERROR: {len(report.failures)} problem(s); partial results kept in {args.output}",
            file=sys.stderr,
        )
        return 1
    return 0
