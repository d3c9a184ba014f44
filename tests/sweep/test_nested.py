"""The nested-LOSO sweep on Ray Tune: the configuration of an outer fold is chosen on the inner
folds only. Proof by behaviour: replacing the held-out subject's data changes nothing that the
trials measured (inner scores and training losses, to the last bit), only the outer test score."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import yaml

from microexp.cli.main import main
from microexp.distributed.cluster import RayOptions, RaySession
from microexp.distributed.ray_executor import RayExecutor
from microexp.sweep.config import load_sweep_config
from microexp.sweep.nested import run_sweep

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, dataset: Path, name: str) -> Path:
    train = yaml.safe_load((REPO / "config/train/smoke.yaml").read_text())
    # the 3D-CNN: its softmax answers every input (a smoke-trained SNN's rates are all 0, and
    # then the loss would not depend on the data at all)
    train.update(dataset=str(dataset), synthetic=None, model={"name": "c3d"})
    train["train"].update(epochs=2, max_steps_per_epoch=2, max_clip_len=6)
    (tmp_path / f"{name}_train.yaml").write_text(yaml.safe_dump(train))
    sweep = yaml.safe_load((REPO / "config/sweep/smoke.yaml").read_text())
    sweep.update(train=f"{name}_train.yaml", samples=2, outer_folds=["s01"])
    sweep["search"]["max_clip_len"] = {"choice": [4, 6]}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(sweep))
    return path


def _scramble_subject(dataset: Path, subject: str, out: Path) -> Path:
    """A copy of ``dataset`` whose ``subject`` has other event frames (same shapes)."""
    shutil.copytree(dataset, out)
    rng = np.random.default_rng(7)
    n = 0
    for f in sorted(out.glob(f"clips/{subject}_*/evframes_davis.npy")):
        a = np.load(f)
        np.save(f, rng.integers(0, 4, a.shape, dtype=a.dtype))
        n += 1
    assert n == 6
    return out


def test_selection_never_sees_the_held_out_subject(
    ray_local: RaySession, tiny_dataset: Path, tmp_path: Path, capsys
) -> None:
    cfg_a = _config(tmp_path, tiny_dataset, "a")
    assert main(["sweep", "--config", str(cfg_a), "-o", str(tmp_path / "a"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "outer fold s01: sample" in printed and "mean outer test top-1" in printed

    scrambled = _scramble_subject(tiny_dataset, "s01", tmp_path / "scrambled")
    cfg_b = load_sweep_config(_config(tmp_path, scrambled, "b"))
    options = RayOptions(workers=2)
    res_b = run_sweep(
        cfg_b, tmp_path / "b", executor=RayExecutor(options), options=options, workers=2
    )

    sel_a = json.loads((tmp_path / "a/outer_s01/selection.json").read_text())
    sel_b = json.loads((tmp_path / "b/outer_s01/selection.json").read_text())
    assert sel_a["inner_subjects"] == sel_b["inner_subjects"] == ["s02", "s03"]
    assert len(sel_a["trials"]) == 2 and sel_a["trials"] == sel_b["trials"]  # bit-identical
    assert sel_a["winner"] == sel_b["winner"]
    assert {t["params"]["max_clip_len"] for t in sel_a["trials"]} <= {4, 6}
    assert len({t["loss"] for t in sel_a["trials"]}) == 2  # the losses do depend on the data
    # the outer test did read s01: its predictions differ on the scrambled subject
    pred_a = (tmp_path / "a/outer_s01/test/predictions.csv").read_text()
    pred_b = (tmp_path / "b/outer_s01/test/predictions.csv").read_text()
    assert pred_a != pred_b
    assert res_b["folds"][0]["outer_subject"] == "s01"

    report = (tmp_path / "a/report.md").read_text()
    winner = sel_a["winner"]
    row = next(r for r in report.splitlines() if r.startswith("| s01 |"))
    assert row.startswith(f"| s01 | {winner} |")
    with (tmp_path / "a/sweep.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["chosen"]) for r in rows] == [int(t["sample"] == winner) for t in sel_a["trials"]]
    chosen = next(r for r in rows if r["chosen"] == "1")
    res_a = json.loads((tmp_path / "a/results.json").read_text())
    assert float(chosen["outer_top1"]) == round(res_a["folds"][0]["outer_top1"], 4)
    assert (tmp_path / "a/sweep.png").stat().st_size > 1000

    # resuming a finished sweep runs no trial again and reports the same
    first = {
        n: (tmp_path / "a" / n).read_bytes() for n in ("report.md", "sweep.csv", "results.json")
    }
    tune_dir = tmp_path / "a/tune/outer_s01"
    before = sorted(p.name for p in tune_dir.iterdir())
    assert main(["sweep", "--config", str(cfg_a), "-o", str(tmp_path / "a"), "--resume",
                 "--no-progress"]) == 0  # fmt: skip
    assert sorted(p.name for p in tune_dir.iterdir()) == before
    assert {n: (tmp_path / "a" / n).read_bytes() for n in first} == first
    assert "selection already done" in (tmp_path / "a/train.log").read_text()
