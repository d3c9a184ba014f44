"""Re-keyed ids for a dataset that leaves the lab (``microexp export --share``).

Every subject and session of a shared dataset gets a random id (``sub-3fa29c1d``,
``ses-91b0e4a2``), fresh for each shared dataset, so two releases cannot be joined on it. The
table that maps them back is kept only in the lab's private export
(``<private>/share_mappings.json``, owner-only permissions): it is what a lab needs to tell
recipients which shared subject withdrew. The shared dataset never holds it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

from microexp.dataset.atomic import atomic_write_json
from microexp.errors import ConfigError

__all__ = ["MAPPING_FILE", "ShareKeys", "is_shared_dataset"]

MAPPING_FILE = "share_mappings.json"
_NOTE = (
    "microexp: lab ids -> re-keyed ids of each shared dataset made from this export. Private: "
    "never ship this file; `microexp dataset withdraw` reads it to name a withdrawn subject's "
    "shared ids."
)


def is_shared_dataset(dataset: Path) -> bool:
    """True when ``dataset/dataset.json`` says it was made with ``--share``."""
    try:
        meta = json.loads((Path(dataset) / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "share" in meta


def _inside(a: Path, b: Path) -> bool:
    return a == b or b in a.parents


class ShareKeys:
    """The re-keyed ids of one shared dataset, stored in the lab's private export."""

    def __init__(self, *, private: Path, shared: Path) -> None:
        self.private = Path(private).resolve()
        self.shared = Path(shared).resolve()
        if _inside(self.shared, self.private) or _inside(self.private, self.shared):
            raise ConfigError(
                f"--private {self.private} and the shared dataset {self.shared} must not contain "
                "each other"
            )
        if not (self.private / "dataset.json").is_file():
            raise ConfigError(
                f"--private {self.private}: not a microexp dataset (no dataset.json); export the "
                "lab's private dataset first: it keeps the table of re-keyed ids"
            )
        if is_shared_dataset(self.private):
            raise ConfigError(f"--private {self.private}: this is a shared dataset, not the lab's")
        self.path = self.private / MAPPING_FILE
        self._doc = self._load()
        share = self._doc["shares"].setdefault(
            str(self.shared),
            {"created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             "subjects": {}},
        )  # fmt: skip
        self._subjects: dict[str, Any] = share["subjects"]

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"note": _NOTE, "shares": {}}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(f"{self.path}: unreadable table of re-keyed ids: {err}") from err
        if not isinstance(doc, dict) or not isinstance(doc.get("shares"), dict):
            raise ConfigError(f"{self.path}: not a table of re-keyed ids (no 'shares' mapping)")
        return doc

    def _taken(self) -> set[str]:
        out = set()
        for entry in self._subjects.values():
            out.add(entry["id"])
            out.update(entry["sessions"].values())
        return out

    def _new(self, prefix: str) -> str:
        taken = self._taken()
        while True:
            token = f"{prefix}-{secrets.token_hex(4)}"
            if token not in taken:
                return token

    def subject(self, subject: str) -> str:
        """The shared id of lab subject ``subject`` (created and saved on first use)."""
        if subject not in self._subjects:
            self._subjects[subject] = {"id": self._new("sub"), "sessions": {}}
            self.save()
        return str(self._subjects[subject]["id"])

    def session(self, subject: str, session: str) -> str:
        """The shared id of ``subject``'s session ``session``."""
        self.subject(subject)
        sessions = self._subjects[subject]["sessions"]
        if session not in sessions:
            sessions[session] = self._new("ses")
            self.save()
        return str(sessions[session])

    def save(self) -> None:
        """Write the table atomically (before any shared file that uses a new id)."""
        atomic_write_json(self.path, self._doc)
        self.path.chmod(0o600)
