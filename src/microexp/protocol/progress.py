"""Crash-safe progress of a session: where the engine was, written atomically after each event."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from microexp.errors import ConfigError

__all__ = ["Progress", "ProgressStore", "State"]

State = Literal["running", "complete", "aborted"]
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Progress:
    plan_name: str
    plan_digest: str
    session_id: str
    subject_id: str
    state: State
    position: int  # -1: session sync prelude; k: the segment being run; n: finished
    attempts: dict[int, int] = field(default_factory=dict)  # segment index -> last attempt number
    events: int = 0  # events emitted so far (all runs of this session)
    updated_ns: int = 0  # stamp of the last event


class ProgressStore:
    """One JSON file; each save writes a temporary file in the same folder, fsyncs it and
    ``os.replace``-s it over the old one, so a crash leaves either the old or the new file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.is_file()

    def save(self, progress: Progress) -> None:
        d = asdict(progress)
        d["attempts"] = {str(k): v for k, v in progress.attempts.items()}
        d["version"] = _VERSION
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(d, f, sort_keys=True, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self) -> Progress:
        try:
            d = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigError(f"{self.path}: unreadable progress file: {err}") from err
        if d.get("version") != _VERSION:
            raise ConfigError(f"{self.path}: progress version {d.get('version')!r} != {_VERSION}")
        try:
            return Progress(
                plan_name=str(d["plan_name"]),
                plan_digest=str(d["plan_digest"]),
                session_id=str(d["session_id"]),
                subject_id=str(d["subject_id"]),
                state=d["state"],
                position=int(d["position"]),
                attempts={int(k): int(v) for k, v in d["attempts"].items()},
                events=int(d["events"]),
                updated_ns=int(d["updated_ns"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ConfigError(f"{self.path}: bad progress file: {err!r}") from err
