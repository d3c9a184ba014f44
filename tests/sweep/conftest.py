"""Fixtures of the sweep tests: a tiny synthetic dataset and an embedded Ray instance."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from microexp.distributed.cluster import RayOptions, RaySession, ray_session
from microexp.train.synthetic import SyntheticSpec, write_synthetic_dataset


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 subjects × 3 labels × 2 clips, 5–8 slices, DAVIS events (seeded)."""
    root = tmp_path_factory.mktemp("tiny_dataset")
    return write_synthetic_dataset(
        root,
        SyntheticSpec(subjects=("s01", "s02", "s03"), labels=("AU2", "AU12", "AU26"),
                      clips_per_label=2, t_min=5, t_max=8, seed=3),
    )  # fmt: skip


@pytest.fixture(scope="module")
def ray_local() -> Iterator[RaySession]:
    """An embedded Ray instance (2 CPUs) in a short temp dir (AF_UNIX paths < 108 bytes)."""
    temp = tempfile.mkdtemp(prefix="mxray")
    try:
        with ray_session(RayOptions(workers=2, temp_dir=temp)) as session:
            yield session
    finally:
        shutil.rmtree(temp, ignore_errors=True)
