"""Fixtures: a tiny synthetic dataset in the documented format, and a matching config file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from microexp.train.synthetic import SyntheticSpec, write_synthetic_dataset


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 subjects × 3 labels × 2 clips, 5–8 slices, DAVIS events + grey, webcam RGB (seeded)."""
    root = tmp_path_factory.mktemp("tiny_dataset")
    return write_synthetic_dataset(
        root,
        SyntheticSpec(subjects=("s01", "s02", "s03"), labels=("AU2", "AU12", "AU26"),
                      clips_per_label=2, t_min=5, t_max=8, rgb_camera="webcam", seed=3),
    )  # fmt: skip


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a training config YAML (a small SNN run on ``dataset`` unless overridden)."""

    def write(dataset: Path, name: str = "run.yaml", **overrides: object) -> Path:
        cfg: dict[str, object] = {
            "dataset": str(dataset),
            "camera": "davis",
            "modality": "events",
            "classes": "from_dataset",
            "model": {"name": "snn"},
            "train": {"epochs": 2, "batch_size": 4, "max_clip_len": 6, "max_steps_per_epoch": 2},
            "seed": 0,
            "device": "cpu",
        }
        cfg.update(overrides)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(cfg))
        return path

    return write
