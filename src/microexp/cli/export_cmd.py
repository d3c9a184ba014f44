"""``microexp export BAG [BAG ...] -o DATASET [--force] [--config YAML] [--modalities LIST]
[--share --private LAB_DATASET]``: session bags → dataset, as each subject's consent allows.

The bags of a private export are exported side by side, one Ray job per bag (``--workers``,
``--ray-address``; ``--no-ray``, a single bag or ``--share``: one after the other in this
process)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from microexp.cli._executor import add_executor_arguments, open_executor
from microexp.consent.scope import parse_modalities
from microexp.dataset.config import load_export_config
from microexp.dataset.consent_policy import ExportPolicy
from microexp.dataset.export import export_bags
from microexp.dataset.share import ShareKeys
from microexp.errors import ConfigError

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
    parser.add_argument(
        "--modalities",
        metavar="LIST",
        help="comma list of events, grey, rgb to write, each only where the subject's consent "
        "allows it (default: every modality for a private export, events with --share)",
    )
    parser.add_argument(
        "--share",
        action="store_true",
        help="a dataset to leave the lab: the sharing consent decides, events and labels only by "
        "default (no frames, no crops), no notes or bag paths, subject and session ids re-keyed, "
        "times from each session's start",
    )
    parser.add_argument(
        "--private",
        type=Path,
        metavar="LAB_DATASET",
        help="with --share: the lab's private export, which keeps the table of re-keyed ids",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_executor_arguments(parser)


def run(args: argparse.Namespace) -> int:
    cfg = load_export_config(args.config)
    today = dt.date.today()
    mods = (
        parse_modalities(
            [m.strip() for m in args.modalities.split(",") if m.strip()], where="--modalities"
        )
        if args.modalities
        else None
    )
    keys = None
    if args.share:
        if args.private is None:
            raise ConfigError(
                "--share needs --private LAB_DATASET: the lab's own export, where the table of "
                "re-keyed subject ids is kept (never in the shared dataset)"
            )
        keys = ShareKeys(private=args.private, shared=args.output)
        policy = ExportPolicy.share(today=today, modalities=mods)
    elif args.private is not None:
        raise ConfigError("--private is only used with --share")
    else:
        policy = ExportPolicy.private(today=today, modalities=mods)
    progress = not args.no_progress and sys.stderr.isatty()
    if len(args.bags) == 1 or keys is not None:
        args.no_ray = True  # one job, or one table of re-keyed ids: no executor to start
    with open_executor(args, progress=progress, desc="bags") as executor:
        report = export_bags(args.bags, args.output, config=cfg, force=args.force,
                             progress=progress and args.no_ray, policy=policy, share=keys,
                             executor=None if args.no_ray else executor)  # fmt: skip
    print(report.text())
    print(f"dataset: {args.output}")
    if not report.ok:
        print(
            f"ERROR: {len(report.failures)} problem(s); partial results kept in {args.output}",
            file=sys.stderr,
        )
        return 1
    return 0
