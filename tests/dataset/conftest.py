"""Fixtures: session bags written into tmp dirs, and the real shared recordings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

SHARED_REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def sample_aedat4() -> Path:
    path = SHARED_REAL / "tonic_sample_aedat4" / "sample.aedat4"
    if not path.is_file():
        pytest.skip(f"shared real data absent: {path}")
    return path
