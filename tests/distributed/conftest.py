"""Fixtures of the Ray tests: a tiny synthetic dataset, a smoke training config, and one embedded
Ray instance (loopback, 2 CPUs, its own temp dir) shared by the tests of a module."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from raykit import SMOKE_TRAIN

from microexp.distributed.cluster import RayOptions, RaySession, ray_session
from microexp.train.config import TrainConfig, load_train_config
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


@pytest.fixture
def smoke_config(tiny_dataset: Path, tmp_path: Path) -> TrainConfig:
    """The smoke training config (a real YAML file) on the tiny dataset."""
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump({**SMOKE_TRAIN, "dataset": str(tiny_dataset)}))
    return load_train_config(path)


@pytest.fixture(scope="module")
def ray_local() -> Iterator[RaySession]:
    """An embedded Ray instance for the module's tests (shut down after them), in a temp dir of
    its own with a short path (Ray's AF_UNIX socket paths must stay under 108 bytes)."""
    temp = tempfile.mkdtemp(prefix="mxray")
    try:
        with ray_session(RayOptions(workers=2, temp_dir=temp)) as session:
            yield session
    finally:
        shutil.rmtree(temp, ignore_errors=True)
