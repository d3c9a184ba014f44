"""Dataset summary like the paper's Table 2: clips per label and sensor, subjects, durations."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from microexp.dataset.atomic import atomic_write_text
from microexp.dataset.manifest import ClipRecord

__all__ = ["summary_rows", "write_summary"]


def _row(group: str, name: str, sel: Sequence[ClipRecord]) -> dict[str, object]:
    durations = [r.duration_s for r in sel]
    return {
        "group": group,
        "name": name,
        "subjects": len({r.subject for r in sel}),
        "clips": len(sel),
        "mean_s": round(sum(durations) / len(durations), 3) if durations else 0.0,
        "min_s": round(min(durations), 3) if durations else 0.0,
        "max_s": round(max(durations), 3) if durations else 0.0,
    }


def summary_rows(records: Sequence[ClipRecord]) -> list[dict[str, object]]:
    """One row per sensor: subjects, clips, mean/min/max duration; then one row per label."""
    sensors = sorted({s for r in records for s in r.sensors.split(";") if s})
    rows = [
        _row("sensor", sensor, [r for r in records if sensor in r.sensors.split(";")])
        for sensor in sensors
    ]
    rows += [
        _row("label", label, [r for r in records if r.label == label])
        for label in sorted({r.label for r in records})
    ]
    return rows


def write_summary(directory: Path, records: Sequence[ClipRecord]) -> None:
    """Write ``summary.csv`` and ``summary.md`` into ``directory``."""
    rows = summary_rows(records)
    cols = ["group", "name", "subjects", "clips", "mean_s", "min_s", "max_s"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(directory / "summary.csv", buf.getvalue())
    subjects = len({r.subject for r in records})
    lines = [
        "# Dataset summary",
        "",
        f"{len(records)} clips, {subjects} subjects "
        f"(like Table 2 of Mastropasqua et al. 2025: clips per sensor, mean duration).",
        "",
        "| Sensor / label | Subjects | Clips | Mean (s) | Min (s) | Max (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = r["name"] if r["group"] == "sensor" else f"label {r['name']}"
        lines.append(
            f"| {name} | {r['subjects']} | {r['clips']} | {r['mean_s']} | {r['min_s']} | {r['max_s']} |"
        )
    atomic_write_text(directory / "summary.md", "\n".join(lines) + "\n")
