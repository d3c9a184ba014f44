"""A subject withdraws: every clip, crop and frame of theirs leaves the dataset.

:func:`withdraw_subject` removes the subject's clip directories, rewrites ``manifest.csv``,
``rejects.csv``, ``splits.json``, ``summary.md/.csv``, the provenance (``dataset.json``
sources and consent records, ``.microexp_state.json``) and, in a lab's private export, its
entries in the table of re-keyed ids (:mod:`.share`), each file atomically. Every other file
stays byte for byte as it was.

The withdrawal is recorded in ``dataset.json["withdrawals"]`` without naming the subject: when,
how many clips, and per removed file its name inside the clip, size and sha256; the subject as
``sha256(salt:subject)`` with a fresh salt, so whoever knows the id can check that it was
withdrawn (and the export refuses it again, :func:`withdrawn_on`) while the record names nobody.
Deleting a file does not erase its blocks on disk: that, like backups, is the storage's job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microexp.dataset.atomic import atomic_write_json, remove_tree
from microexp.dataset.manifest import (
    ClipRecord,
    RejectRecord,
    read_manifest,
    read_rejects,
    safe_token,
    write_manifest,
    write_rejects,
)
from microexp.dataset.output import STATE_FILE
from microexp.dataset.provenance import file_sha256
from microexp.dataset.share import MAPPING_FILE
from microexp.dataset.splits import write_splits
from microexp.dataset.summary import HISTOGRAM_PNG, write_summary
from microexp.errors import ConfigError

__all__ = ["Withdrawal", "load_withdrawals", "withdraw_subject", "withdrawn_on"]

log = logging.getLogger(__name__)

_TEXT_SUFFIXES = {".json", ".csv", ".md", ".txt", ".yaml", ".yml", ".log"}


def _digest(salt: str, subject: str) -> str:
    return hashlib.sha256(f"{salt}:{subject}".encode()).hexdigest()


def load_withdrawals(dataset: Path) -> list[dict[str, Any]]:
    """``dataset.json["withdrawals"]`` (empty when there is no dataset.json or none)."""
    path = Path(dataset) / "dataset.json"
    if not path.is_file():
        return []
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ConfigError(f"{path}: not JSON: {err}") from err
    return list(meta.get("withdrawals", [])) if isinstance(meta, dict) else []


def withdrawn_on(subject: str, withdrawals: list[dict[str, Any]]) -> str:
    """The UTC time ``subject`` withdrew (a record's digest matches), or ``""``."""
    for w in withdrawals:
        if w.get("status") == "complete" and _digest(w["salt"], subject) == w["subject_sha256"]:
            return str(w["withdrawn_utc"])
    return ""


@dataclass
class Withdrawal:
    """What a withdrawal removed (or, with ``dry_run``, would remove)."""

    subject: str
    dataset: Path
    clip_dirs: list[Path] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    rejects: int = 0
    sources: list[str] = field(default_factory=list)  # bag names dropped from the provenance
    shared_as: list[dict[str, str]] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)  # other text files still naming the id
    record: dict[str, Any] = field(default_factory=dict)


def _subject_clips(dataset: Path, subject: str) -> list[Path]:
    """Clip directories of ``subject``: finished ones by their label.json, unfinished ones
    (``.partial`` or without label) by the subject token that starts every clip id."""
    token = safe_token(subject) + "_"
    out = []
    clips = dataset / "clips"
    for d in sorted(clips.iterdir()) if clips.is_dir() else []:
        if not d.is_dir():
            continue
        label = d / "label.json"
        if label.is_file():
            try:
                owner = json.loads(label.read_text(encoding="utf-8")).get("subject")
            except ValueError as err:
                raise ConfigError(f"{label}: not JSON: {err}") from err
            if owner == subject:
                out.append(d)
        elif d.name.startswith(token):
            out.append(d)
    return out


def _files(clip_dirs: list[Path]) -> list[dict[str, Any]]:
    out = []
    for k, d in enumerate(clip_dirs, 1):
        for f in sorted(p for p in d.rglob("*") if p.is_file()):
            out.append(
                {
                    "clip": f"clip-{k}",
                    "file": str(f.relative_to(d)),
                    "bytes": f.stat().st_size,
                    "sha256": file_sha256(f),
                }
            )
    return out


def _mentions(dataset: Path, subject: str) -> list[str]:
    """Text files of the dataset that still name ``subject`` as a token (files of the lab's own
    that microexp does not know of, e.g. notes: the CLI lists them)."""
    pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(subject)}(?![A-Za-z0-9])".encode())
    found = []
    for f in sorted(p for p in dataset.rglob("*") if p.is_file()):
        if f.suffix.lower() in _TEXT_SUFFIXES and pattern.search(f.read_bytes()):
            found.append(str(f.relative_to(dataset)))
    return found


def _share_entries(dataset: Path, subject: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The private table of re-keyed ids without ``subject``, and the subject's shared ids."""
    path = dataset / MAPPING_FILE
    if not path.is_file():
        return {}, []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ConfigError(f"{path}: not JSON: {err}") from err
    shared_as = []
    for shared, entry in doc.get("shares", {}).items():
        ids = entry.get("subjects", {}).pop(subject, None)
        if ids is not None:
            shared_as.append({"dataset": shared, "subject": str(ids["id"])})
    return doc, shared_as


def withdraw_subject(
    dataset: Path, subject: str, *, dry_run: bool = False, now: dt.datetime | None = None
) -> Withdrawal:
    """Remove ``subject`` from ``dataset``; see the module docstring. Raises
    :class:`ConfigError` when ``dataset`` is not a dataset or holds nothing of ``subject``."""
    dataset = Path(dataset)
    meta_path = dataset / "dataset.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{dataset}: not a microexp dataset ({meta_path}: {err})") from err
    w = Withdrawal(subject=subject, dataset=dataset)
    w.clip_dirs = _subject_clips(dataset, subject)
    manifest = dataset / "manifest.csv"
    records = read_manifest(manifest) if manifest.is_file() else []
    rejects = read_rejects(dataset / "rejects.csv")
    keep_records = [r for r in records if r.subject != subject]
    keep_rejects = [r for r in rejects if r.subject != subject]
    w.rejects = len(rejects) - len(keep_rejects)
    dropped = _their_sources(meta, subject, records, rejects)
    w.sources = [str(s["name"]) for s in dropped]
    consent = [c for c in meta.get("consent", []) if c.get("subject") == subject]
    if not (w.clip_dirs or len(keep_records) < len(records) or w.rejects or consent or dropped):
        when = withdrawn_on(subject, meta.get("withdrawals", []))
        hint = f"; it was withdrawn on {when}" if when else ""
        raise ConfigError(f"{dataset}: nothing of subject {subject!r} in this dataset{hint}")
    share_doc, w.shared_as = _share_entries(dataset, subject)
    w.files = _files(w.clip_dirs)
    w.record = _record(w, meta, len(dropped), now=now)
    histogram = (dataset / HISTOGRAM_PNG).is_file()  # the summary's plot, where there is one
    w.rewritten += ["manifest.csv", "rejects.csv", "splits.json", "summary.csv", "summary.md",
                    "dataset.json", STATE_FILE] + ([MAPPING_FILE] if w.shared_as else []) + (
                    [HISTOGRAM_PNG] if histogram else [])  # fmt: skip
    if dry_run:
        return w
    history = [h for h in meta.get("withdrawals", []) if h.get("status") == "complete"]
    meta["withdrawals"] = [*history, w.record]  # an interrupted run's record is replaced
    atomic_write_json(meta_path, meta)  # first: the withdrawal is on record before data goes
    write_manifest(manifest, keep_records)
    write_rejects(dataset / "rejects.csv", keep_rejects)
    write_splits(dataset / "splits.json", keep_records)
    write_summary(dataset, keep_records, histogram_png=histogram)
    _rewrite_state(dataset, {str(s.get("sha256")) for s in dropped})
    if w.shared_as:
        atomic_write_json(dataset / MAPPING_FILE, share_doc)
        (dataset / MAPPING_FILE).chmod(0o600)
    for d in w.clip_dirs:
        remove_tree(d)
    meta["sources"] = [s for s in meta.get("sources", []) if s not in dropped]
    meta["consent"] = [c for c in meta.get("consent", []) if c.get("subject") != subject]
    meta["clips"], meta["rejected"] = len(keep_records), len(keep_rejects)
    w.record["status"] = "complete"
    meta["withdrawals"] = [*history, w.record]
    atomic_write_json(meta_path, meta)
    log.info("%s: subject withdrawn (record %s)", dataset, w.record["subject_sha256"][:12])
    w.mentions = _mentions(dataset, subject)
    return w


def _their_sources(
    meta: dict[str, Any], subject: str, records: list[ClipRecord], rejects: list[RejectRecord]
) -> list[dict[str, Any]]:
    """The ``dataset.json`` sources (bags) that hold nothing but ``subject``'s sessions."""
    theirs: set[str] = set()
    others: set[str] = set()
    for rows in (records, rejects):
        for r in rows:
            (theirs if r.subject == subject else others).add(r.source)
    for c in meta.get("consent", []):
        (theirs if c.get("subject") == subject else others).add(c["source"])
    return [s for s in meta.get("sources", []) if s.get("name") in theirs - others]


def _record(
    w: Withdrawal, meta: dict[str, Any], sources: int, *, now: dt.datetime | None
) -> dict[str, Any]:
    """The ``withdrawals`` entry; a run that stopped half-way left one ("in progress") whose
    salt and list of removed files carry over."""
    salt = secrets.token_hex(16)
    counts = {"clips": len(w.clip_dirs), "rejects": w.rejects, "sources": sources}
    interrupted = next(
        (h for h in meta.get("withdrawals", []) if h.get("status") != "complete"
         and _digest(h["salt"], w.subject) == h["subject_sha256"]),
        None,
    )  # fmt: skip
    if interrupted is not None:
        salt = interrupted["salt"]
        seen = {(f["file"], f["sha256"]) for f in interrupted["files"]}
        w.files = [
            *interrupted["files"],
            *(f for f in w.files if (f["file"], f["sha256"]) not in seen),
        ]
        w.shared_as = w.shared_as or interrupted.get("shared_as", [])
        counts = {k: max(v, int(interrupted[k])) for k, v in counts.items()}
    stamp = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    return {
        "withdrawn_utc": stamp,
        "subject_sha256": _digest(salt, w.subject),
        "salt": salt,
        **counts,
        "files": w.files,
        "shared_as": w.shared_as,
        "status": "in progress",
    }


def _rewrite_state(dataset: Path, dropped_sha256: set[str]) -> None:
    """The resume fingerprint without the withdrawn bags (resuming with them is then refused)."""
    path = dataset / STATE_FILE
    if not path.is_file():
        return
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ConfigError(f"{path}: not JSON: {err}") from err
    state["sources"] = [
        s for s in state.get("sources", []) if s.get("sha256") not in dropped_sha256
    ]
    atomic_write_json(path, state)
