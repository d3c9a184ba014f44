"""The dataset manifest (one row per clip) and the rejects list (one row per segment left out)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from microexp.dataset.atomic import atomic_write_text

__all__ = [
    "MANIFEST_COLUMNS",
    "REJECT_COLUMNS",
    "ClipRecord",
    "RejectRecord",
    "make_clip_id",
    "read_manifest",
    "read_rejects",
    "safe_token",
    "write_manifest",
    "write_rejects",
]


@dataclass(frozen=True, slots=True)
class ClipRecord:
    """One row of ``manifest.csv`` (column order = field order)."""

    clip_id: str
    subject: str
    session: str
    label: str
    au_numbers: str  # "6;12"
    attempt: int
    start_ns: int
    end_ns: int
    duration_s: float
    sensors: str  # "davis;evk4;webcam"
    lighting: str
    lux: float
    glasses: bool
    events_davis: int
    events_evk4: int
    noisy: bool
    source: str  # bag or aedat4 file name
    dir: str  # "clips/<clip_id>"


MANIFEST_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ClipRecord))


@dataclass(frozen=True, slots=True)
class RejectRecord:
    source: str
    subject: str
    session: str
    segment_index: int
    attempt: int
    label: str
    reason: str


REJECT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(RejectRecord))

_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def safe_token(text: str) -> str:
    """``text`` reduced to characters safe in file names (others become ``-``)."""
    token = _UNSAFE.sub("-", text.strip()).strip("-.")
    return token or "x"


def make_clip_id(
    *, subject: str, session: str, label: str, segment_index: int, attempt: int
) -> str:
    """``<subject>_<session>_<label>_<segment index>_<attempt>`` with safe characters only."""
    return "_".join(
        [
            safe_token(subject),
            safe_token(session),
            safe_token(label),
            str(segment_index),
            str(attempt),
        ]
    )


def _to_csv(columns: Sequence[str], rows: Iterable[dict[str, object]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def write_manifest(path: Path, records: Iterable[ClipRecord]) -> None:
    rows = sorted((asdict(r) for r in records), key=lambda r: str(r["clip_id"]))
    atomic_write_text(path, _to_csv(MANIFEST_COLUMNS, rows))


def write_rejects(path: Path, records: Iterable[RejectRecord]) -> None:
    atomic_write_text(path, _to_csv(REJECT_COLUMNS, (asdict(r) for r in records)))


def _parse(cls: type, row: dict[str, str]) -> object:
    kwargs: dict[str, object] = {}
    for f in fields(cls):
        raw = row[f.name]
        if f.type in ("int", int):
            kwargs[f.name] = int(raw)
        elif f.type in ("float", float):
            kwargs[f.name] = float(raw)
        elif f.type in ("bool", bool):
            kwargs[f.name] = raw == "True"
        else:
            kwargs[f.name] = raw
    return cls(**kwargs)


def read_manifest(path: Path) -> list[ClipRecord]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [_parse(ClipRecord, row) for row in csv.DictReader(fh)]  # type: ignore[misc]


def read_rejects(path: Path) -> list[RejectRecord]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [_parse(RejectRecord, row) for row in csv.DictReader(fh)]  # type: ignore[misc]
