"""The dataset directory's lifecycle: refuse to overwrite, resume a matching export, --force."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from microexp.dataset.atomic import atomic_write_json, remove_tree
from microexp.dataset.clipwriter import DONE_MARKER
from microexp.errors import OutputExistsError

__all__ = ["STATE_FILE", "clear_partials", "prepare_output"]

log = logging.getLogger(__name__)

STATE_FILE = ".microexp_state.json"
"""Written first: what this dataset is being made from (kind, config, sources)."""


def _fingerprint(
    kind: str, config: Mapping[str, Any], sources: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "config": json.loads(json.dumps(config)),
        "sources": sorted(
            ({"name": s["name"], "bytes": s["bytes"], "sha256": s["sha256"]} for s in sources),
            key=lambda s: (s["name"], s["sha256"]),
        ),
    }


def prepare_output(
    out: Path,
    *,
    kind: str,
    config: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
    force: bool,
) -> bool:
    """Make ``out`` ready; True when resuming an interrupted or finished export of the same input.

    - missing or empty: created;
    - made by microexp from the same sources with the same config: resumed (finished clips are
      skipped) unless ``force``;
    - anything else: :class:`OutputExistsError`, unless ``force`` and ``out`` is a microexp
      dataset (it is then deleted and rebuilt). A directory that is not a microexp dataset is
      never deleted.
    """
    out = Path(out)
    want = _fingerprint(kind, config, sources)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        state_path = out / STATE_FILE
        is_dataset = state_path.is_file() or (out / "dataset.json").is_file()
        if not is_dataset:
            raise OutputExistsError(
                f"{out}: exists, is not empty and is not a microexp dataset; choose another -o "
                "(it is never deleted, even with --force)"
            )
        if force:
            log.warning("%s: --force: deleting the existing dataset", out)
            remove_tree(out)
        else:
            try:
                have = json.loads(state_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                have = None
            if have != want:
                raise OutputExistsError(
                    f"{out}: a dataset made from other sources or another config exists; "
                    "use --force to replace it or choose another -o"
                )
            clear_partials(out)
            return True
    out.mkdir(parents=True, exist_ok=True)
    (out / "clips").mkdir(exist_ok=True)
    atomic_write_json(out / STATE_FILE, want)
    return False


def clear_partials(out: Path) -> None:
    """Remove clip directories left half-written by an interrupted run."""
    clips = out / "clips"
    if not clips.is_dir():
        return
    for d in clips.iterdir():
        if d.is_dir() and (d.name.endswith(".partial") or not (d / DONE_MARKER).is_file()):
            log.info("removing unfinished clip %s", d)
            remove_tree(d)
