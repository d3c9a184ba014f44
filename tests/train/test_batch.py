"""``microexp batch``: a LOSO run and a cVAE run as one pool of Ray fold jobs give the same tables
as the two runs made one after the other in this process."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from microexp.cli.main import main
from microexp.errors import ConfigError
from microexp.train.batch import load_batch_config

REPO = Path(__file__).resolve().parents[2]


def test_batch_of_a_table5_and_a_table6_run_equals_the_runs_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the smoke configs generate their datasets under runs/datasets
    batch = REPO / "config/batch/smoke.yaml"
    assert (
        main(["batch", "--config", str(batch), "-o", "out", "--workers", "2", "--no-progress"]) == 0
    )
    printed = capsys.readouterr().out
    assert "snn/fold_s01 done" in printed and "cvae/fold_s01 done" in printed
    assert (
        "snn: snn events, 3 folds, mean top-1" in printed and "cvae: cVAE davis -> davis" in printed
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each Ray job has
    try:
        assert main(["train", "--config", str(REPO / "config/train/smoke.yaml"), "-o", "snn",
                     "--no-ray", "--no-progress"]) == 0  # fmt: skip
        assert main(["reconstruct", "--config", str(REPO / "config/train/cvae_smoke.yaml"), "-o",
                     "cvae", "--no-ray", "--no-progress"]) == 0  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    for name in ("table5.md", "folds.csv", "confusion.csv", "results.json"):
        assert (tmp_path / "out/snn" / name).read_bytes() == (tmp_path / "snn" / name).read_bytes()
    for name in ("table6.md", "results.json"):
        assert (tmp_path / "out/cvae" / name).read_bytes() == (
            tmp_path / "cvae" / name
        ).read_bytes()


def test_batch_config_errors(tmp_path: Path) -> None:
    p = tmp_path / "b.yaml"
    run = {"name": "a", "kind": "train", "config": "x.yaml"}
    p.write_text(yaml.safe_dump({"runs": [run, run]}))
    with pytest.raises(ConfigError, match="names must be unique"):
        load_batch_config(p)
    p.write_text(yaml.safe_dump({"runs": [{**run, "kind": "fit"}]}))
    with pytest.raises(ConfigError, match=r"runs\[0\]\.kind: 'fit' is not one of"):
        load_batch_config(p)
