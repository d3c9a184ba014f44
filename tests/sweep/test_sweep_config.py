from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from microexp.errors import ConfigError
from microexp.sweep.config import apply_params, load_sweep_config, sample_configs

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, **over: object) -> Path:
    data: dict[str, object] = {
        "train": str(REPO / "config/train/smoke.yaml"),
        "search": {"lr": {"loguniform": [1e-4, 1e-2]}, "max_clip_len": {"choice": [6, 10]},
                   "dropout": {"uniform": [0.0, 0.5]}},
        "samples": 5,
    }  # fmt: skip
    data.update(over)
    p = tmp_path / "sweep.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_smoke_config_loads_and_resolves_its_training_config() -> None:
    cfg = load_sweep_config(REPO / "config/sweep/smoke.yaml")
    assert cfg.train.model["name"] == "snn" and cfg.scheduler.name == "asha"
    assert [p.name for p in cfg.search] == ["lr", "max_clip_len", "dropout"]


def test_samples_are_seeded_and_inside_their_ranges(tmp_path: Path) -> None:
    cfg = load_sweep_config(_write(tmp_path))
    a, b = sample_configs(cfg), sample_configs(cfg)
    assert a == b and len(a) == 5 and len({c["lr"] for c in a}) == 5
    for c in a:
        assert 1e-4 <= c["lr"] <= 1e-2 and c["max_clip_len"] in (6, 10)
        assert 0.0 <= c["dropout"] <= 0.5
    other = load_sweep_config(_write(tmp_path, seed=1))
    assert sample_configs(other) != a
    t = apply_params(cfg.train, a[0])
    assert t.train.lr == a[0]["lr"] and t.train.max_clip_len == a[0]["max_clip_len"]
    assert t.model["dropout"] == a[0]["dropout"] and t.train.epochs == cfg.train.train.epochs


@pytest.mark.parametrize(
    ("over", "match"),
    [
        (
            {"search": {"momentum": {"uniform": [0, 1]}}},
            r"search\.momentum: unknown hyperparameter",
        ),
        ({"search": {"lr": {"gaussian": [0, 1]}}}, r"search\.lr: 'gaussian' is not one of"),
        ({"search": {"lr": {"loguniform": [0.0, 1e-2]}}}, r"search\.lr\.loguniform: bad range"),
        ({"search": {"lr": {"uniform": [1e-2]}}}, r"expected \[low, high\]"),
        ({"search": {}}, r"search: nothing to search"),
        ({"samples": 0}, r"samples: must be >= 1"),
        ({"colour": "red"}, r"colour: unknown key"),
        ({"train": "nowhere.yaml"}, r"nowhere\.yaml: cannot read config"),
    ],
)
def test_bad_sweep_configs_name_the_key(
    tmp_path: Path, over: dict[str, object], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        load_sweep_config(_write(tmp_path, **over))
