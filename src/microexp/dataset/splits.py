"""Leave-one-subject-out (LOSO) splits of a dataset's clips."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from microexp.dataset.atomic import atomic_write_json
from microexp.dataset.manifest import ClipRecord

__all__ = ["loso_splits", "write_splits"]


def loso_splits(records: Iterable[ClipRecord]) -> dict[str, list[dict[str, Any]]]:
    """``{"loso": [{"test_subject": S, "train": [ids], "test": [ids]}, ...]}``, subjects sorted.

    Every subject is the test subject of exactly one fold; a fold's train set holds every clip
    of the other subjects. With one subject the fold has an empty train set (kept, so the
    structure is uniform; training code skips it).
    """
    by_subject: dict[str, list[str]] = {}
    for r in records:
        by_subject.setdefault(r.subject, []).append(r.clip_id)
    folds = []
    for subject in sorted(by_subject):
        test = sorted(by_subject[subject])
        train = sorted(c for s, ids in by_subject.items() if s != subject for c in ids)
        folds.append({"test_subject": subject, "train": train, "test": test})
    return {"loso": folds}


def write_splits(path: Path, records: Iterable[ClipRecord]) -> None:
    atomic_write_json(path, loso_splits(records))
