"""The install-time warm-up compiles every numba path and leaves numba's cache on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

import microexp
from microexp.warmup import warm_jit_caches


def test_every_numba_path_is_compiled_and_cached() -> None:
    pytest.importorskip("numba")
    seconds = warm_jit_caches()
    assert list(seconds) == ["evt3 decoder", "count frames", "stream framer", "clip frames"]
    src = Path(microexp.__file__).parent
    for module in ("events/_evt3_numba", "events/_frames_numba", "stream/_framer_numba",
                   "dataset/representation"):  # fmt: skip
        folder, name = (src / module).parent, (src / module).name
        assert list((folder / "__pycache__").glob(f"{name}.*.nbi")), module
