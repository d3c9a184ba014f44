from __future__ import annotations

from pathlib import Path

import pytest

from microexp.errors import ConfigError
from microexp.train.config import load_reconstruct_config, load_train_config

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "config" / "train").glob("*.yaml")))
def test_shipped_configs_load(name: str) -> None:
    path = REPO / "config" / "train" / name
    cfg = load_reconstruct_config(path) if name.startswith("cvae") else load_train_config(path)
    assert cfg.dataset


def test_paper_recipe_is_the_default(write_config, tmp_path) -> None:
    path = write_config(tmp_path, train={})
    r = load_train_config(path).train
    assert (r.epochs, r.batch_size, r.lr, r.loss, r.scheduler) == (100, 8, 1e-3, "mse", "cosine")


def test_paper_configs_follow_the_paper() -> None:
    snn = load_train_config(REPO / "config/train/paper_snn.yaml")
    c3d = load_train_config(REPO / "config/train/paper_c3d.yaml")
    assert snn.model["name"] == "snn" and snn.train.lr == 1e-3 and snn.classes == "paper"
    assert c3d.model["name"] == "c3d" and c3d.train.lr == 1e-4
    assert load_train_config(REPO / "config/train/paper_snn_rgb.yaml").modality == "rgb"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"optimiser": "sgd"}, r"run\.yaml: optimiser: unknown key"),
        ({"train": {"epochs": 2, "lr_max": 3}}, r"run\.yaml: train\.lr_max: unknown key"),
        ({"modality": "depth"}, r"run\.yaml: modality: 'depth' is not one of"),
        ({"train": {"batch_size": "eight"}}, r"run\.yaml: train\.batch_size: expected int"),
        ({"classes": "all_of_them"}, r"run\.yaml: classes: 'all_of_them'"),
        ({"model": {"neuron": "plif"}}, r"run\.yaml: model\.name: missing required key"),
        ({"device": "tpu"}, r"run\.yaml: device: 'tpu' is not one of"),
    ],
)
def test_bad_configs_rejected_naming_file_and_key(write_config, tmp_path, overrides, match) -> None:
    with pytest.raises(ConfigError, match=match):
        load_train_config(write_config(tmp_path, **overrides))


def test_missing_required_key_named(tmp_path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text("dataset: d\ncamera: davis\nmodel: {name: snn}\n")
    with pytest.raises(ConfigError, match=r"partial\.yaml: modality: missing required key"):
        load_train_config(path)


def test_invalid_yaml_and_missing_file(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: invalid YAML"):
        load_train_config(bad)
    with pytest.raises(ConfigError, match=r"absent\.yaml: cannot read config"):
        load_train_config(tmp_path / "absent.yaml")


def test_reconstruct_config_unknown_nested_key(tmp_path) -> None:
    path = tmp_path / "cvae.yaml"
    path.write_text("dataset: d\nevent_camera: evk4\nmodel: {latent: 32, depth: 3}\n")
    with pytest.raises(ConfigError, match=r"cvae\.yaml: model\.depth: unknown key"):
        load_reconstruct_config(path)
