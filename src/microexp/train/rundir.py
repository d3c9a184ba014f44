"""The run directory that ``train_loso`` and ``train_reconstruction`` write: refused when it holds
an earlier run (unless resuming), and its ``train.log`` fed by the microexp loggers meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from microexp.errors import OutputExistsError

__all__ = ["open_run_dir", "run_log"]


def open_run_dir(out_dir: str | Path, *, resume: bool) -> Path:
    """``out_dir``, created; an existing non-empty one only with ``resume``."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not resume:
        raise OutputExistsError(
            f"{out}: run directory exists and is not empty (use --resume or another -o)"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextmanager
def run_log(out: Path) -> Iterator[None]:
    """Within the block, INFO and above of the ``microexp`` loggers also go to ``out/train.log``."""
    handler = logging.FileHandler(out / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.setLevel(logging.INFO)
    pkg_log = logging.getLogger("microexp")
    old_level = pkg_log.level
    pkg_log.addHandler(handler)
    if pkg_log.getEffectiveLevel() > logging.INFO:
        pkg_log.setLevel(logging.INFO)
    try:
        yield
    finally:
        pkg_log.removeHandler(handler)
        pkg_log.setLevel(old_level)
        handler.close()
