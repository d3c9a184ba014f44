"""The demo's output directory: its layout, its marker file, and the refusal to clobber.

A demo directory holds a marker file (:data:`MARKER`) written before anything else. ``microexp
demo`` refuses a non-empty directory; with ``force`` it accepts one only when the marker says a
previous demo made it, and then removes only the demo's own entries (:data:`DEMO_ENTRIES`),
leaving anything else a user put there untouched.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from microexp import __version__
from microexp.errors import OutputExistsError

__all__ = ["DEMO_ENTRIES", "MARKER", "DemoLayout", "is_demo_dir", "prepare_demo_dir"]

log = logging.getLogger(__name__)

MARKER = ".microexp-demo.json"
DEMO_ENTRIES = ("bags", "inspect", "dataset", "runs", "infer", "report", "demo.json", "demo.log")


@dataclass(frozen=True, slots=True)
class DemoLayout:
    """Where each step of the demo writes, under one root."""

    root: Path

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    @property
    def bags(self) -> Path:
        return self.root / "bags"

    def bag(self, subject: str) -> Path:
        return self.bags / subject

    @property
    def inspect(self) -> Path:
        return self.root / "inspect"

    @property
    def dataset(self) -> Path:
        return self.root / "dataset"

    @property
    def run(self) -> Path:
        return self.root / "runs" / "snn"

    @property
    def infer(self) -> Path:
        return self.root / "infer"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def summary(self) -> Path:
        """``demo.json``: config, per-step timings, per-subject sim facts, headline numbers."""
        return self.root / "demo.json"

    @property
    def log(self) -> Path:
        return self.root / "demo.log"


def is_demo_dir(path: Path) -> bool:
    """True when ``path`` holds a readable demo marker."""
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == "microexp-demo"


def prepare_demo_dir(root: Path, *, force: bool) -> DemoLayout:
    """Create ``root`` (or clear a previous demo's outputs there with ``force``); write the marker."""
    layout = DemoLayout(root)
    if root.exists() and not root.is_dir():
        raise OutputExistsError(f"{root}: exists and is not a directory")
    entries = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    if entries:
        if not force:
            raise OutputExistsError(
                f"{root}: directory is not empty ({', '.join(entries[:5])}"
                f"{', ...' if len(entries) > 5 else ''}); use --force to redo a previous demo "
                "there, or another -o"
            )
        if not is_demo_dir(root):
            raise OutputExistsError(
                f"{root}: not empty and has no {MARKER}, so it is not a previous demo's output; "
                "refusing to delete anything there even with --force"
            )
        for name in DEMO_ENTRIES:
            p = root / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()
        others = sorted(set(entries) - set(DEMO_ENTRIES) - {MARKER})
        if others:
            log.warning("%s: left alone (not demo outputs): %s", root, ", ".join(others))
    root.mkdir(parents=True, exist_ok=True)
    layout.marker.write_text(
        json.dumps(
            {
                "kind": "microexp-demo",
                "microexp_version": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        + "\n",
        encoding="utf-8",
    )
    return layout
