"""Dataset-level files, rebuilt from every finished clip: manifest, rejects, splits, summary."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from microexp.dataset.clipwriter import is_complete
from microexp.dataset.manifest import ClipRecord, RejectRecord, write_manifest, write_rejects
from microexp.dataset.provenance import write_dataset_json
from microexp.dataset.splits import write_splits
from microexp.dataset.summary import write_summary
from microexp.dataset.withdrawal import load_withdrawals

__all__ = ["collect_records", "finalize_dataset"]


def collect_records(out: Path) -> list[ClipRecord]:
    """The manifest row stored in each finished clip's label.json."""
    records = []
    for d in sorted((out / "clips").iterdir()) if (out / "clips").is_dir() else []:
        if d.is_dir() and is_complete(d):
            label = json.loads((d / "label.json").read_text(encoding="utf-8"))
            records.append(ClipRecord(**label["manifest"]))
    return records


def finalize_dataset(
    out: Path,
    *,
    kind: str,
    config: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
    rejects: Sequence[RejectRecord],
    extra: Mapping[str, Any] | None = None,
    histogram_png: bool = True,
) -> list[ClipRecord]:
    """Rebuild the dataset-level files; ``histogram_png=False`` leaves out ``clip_lengths.png``
    (a shared dataset holds no image file at all)."""
    records = collect_records(out)
    # withdrawals stay on record when an export is resumed (the subject's data stays out)
    withdrawals = load_withdrawals(out)
    kept = {"withdrawals": withdrawals} if withdrawals else {}
    write_manifest(out / "manifest.csv", records)
    write_rejects(out / "rejects.csv", rejects)
    write_splits(out / "splits.json", records)
    write_summary(out, records, histogram_png=histogram_png)
    write_dataset_json(
        out / "dataset.json",
        kind=kind,
        config=config,
        sources=sources,
        extra={"clips": len(records), "rejected": len(rejects), **(extra or {}), **kept},
    )
    return records
