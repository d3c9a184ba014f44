"""``microexp import DIR -o DATASET [--force] [--config YAML]``: AEDAT4 takes → dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from microexp.dataset.aedat4_import import import_aedat4
from microexp.dataset.config import load_import_config

__all__ = ["HELP", "configure", "run"]

HELP = "Import AEDAT4 takes named <movement>_<subject>_<take>[_(noise)].aedat4 into a dataset."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="folder searched recursively for *.aedat4")
    parser.add_argument("-o", "--output", required=True, type=Path, help="dataset directory")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="import config YAML (every key; template: config/dataset/import.yaml)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing dataset (never deletes a non-dataset directory)",
    )


def run(args: argparse.Namespace) -> int:
    cfg = load_import_config(args.config)
    report = import_aedat4(args.directory, args.output, config=cfg, force=args.force)
    print(report.text())
    print(f"dataset: {args.output}")
    if not report.ok:
        print(
            f"ERROR: {len(report.failures)} take(s) failed; partial results kept in {args.output}",
            file=sys.stderr,
        )
        return 1
    return 0
