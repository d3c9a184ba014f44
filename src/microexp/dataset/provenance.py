"""``dataset.json``: format version, microexp version, config and source files with sha256."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from microexp import __version__
from microexp.dataset.atomic import atomic_write_json

__all__ = [
    "FORMAT_VERSION",
    "file_sha256",
    "source_entry",
    "write_dataset_json",
]

FORMAT_VERSION = 1


def file_sha256(path: Path, *, chunk_bytes: int = 8 << 20) -> str:
    """sha256 of a file, or of every file under a directory (sorted relative paths, then bytes)."""
    h = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            while block := fh.read(chunk_bytes):
                h.update(block)
    return h.hexdigest()


def source_entry(path: Path) -> dict[str, Any]:
    p = Path(path)
    size = (
        sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        if p.is_dir()
        else p.stat().st_size
    )
    return {"path": str(p.resolve()), "name": p.name, "bytes": size, "sha256": file_sha256(p)}


def write_dataset_json(
    path: Path,
    *,
    kind: str,
    config: Mapping[str, Any],
    sources: Iterable[Mapping[str, Any]],
    extra: Mapping[str, Any] | None = None,
) -> None:
    atomic_write_json(
        path,
        {
            "format_version": FORMAT_VERSION,
            "kind": kind,  # "export" (bags) or "import" (aedat4)
            "microexp_version": __version__,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": dict(config),
            "sources": list(sources),
            **(dict(extra) if extra else {}),
        },
    )
