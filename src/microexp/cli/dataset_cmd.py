"""``microexp dataset withdraw SUBJECT DATASET [--bags DIR ...] [--dry-run]``: a subject leaves."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from microexp.dataset.subject_bags import find_subject_bags
from microexp.dataset.withdrawal import withdraw_subject

__all__ = ["HELP", "configure", "run"]

HELP = "Dataset upkeep: withdraw a subject (clips, crops, frames; manifest, splits, summary)."


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    w = sub.add_parser(
        "withdraw",
        help="remove a subject's clips, crops and frames, rewrite manifest, splits and summary, "
        "and record the withdrawal in dataset.json",
    )
    w.add_argument("subject", help="subject id as the dataset names it (re-keyed in a shared one)")
    w.add_argument("dataset", type=Path, help="dataset directory")
    w.add_argument(
        "--bags",
        nargs="+",
        type=Path,
        metavar="DIR",
        default=[],
        help="folders (or bags) to search for the subject's source bags, by the consent / "
        "session info inside them; they are listed for deletion, not deleted",
    )
    w.add_argument("--dry-run", action="store_true", help="say what would go; change nothing")


def run(args: argparse.Namespace) -> int:
    w = withdraw_subject(args.dataset, args.subject, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    size = sum(f["bytes"] for f in w.files)
    print(
        f"{args.dataset}: {verb} {len(w.clip_dirs)} clip(s) ({len(w.files)} files, {size:,} bytes)"
        f", {w.rejects} reject row(s), {len(w.sources)} source bag record(s) of {args.subject}"
    )
    print(f"  {'would rewrite' if args.dry_run else 'rewrote'}: {', '.join(w.rewritten)}")
    if not args.dry_run:
        print(
            f"  recorded in dataset.json: withdrawals[-1] at {w.record['withdrawn_utc']} "
            "(the subject as a salted sha256, each removed file's sha256)"
        )
    for s in w.shared_as:
        print(
            f"  shared as {s['subject']} in {s['dataset']}: ask its recipients to run "
            f"`microexp dataset withdraw {s['subject']} DATASET`"
        )
    for m in w.mentions:
        print(f"  WARNING {m} still names {args.subject} (not a microexp file): edit it by hand")
    status = 0
    if args.bags:
        found = find_subject_bags(args.subject, args.bags)
        print(f"source bags of {args.subject} ({found.scanned} bag(s) scanned), to delete:")
        for bag, what in found.matches:
            print(f"  {bag}  (named by its {what})")
        if not found.matches:
            print("  none found")
        for bag, why in found.unreadable:
            print(f"ERROR: {bag}: not readable, check it by hand: {why}", file=sys.stderr)
            status = 1
    return status
