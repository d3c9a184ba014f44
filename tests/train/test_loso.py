from __future__ import annotations

import csv
import json

import pytest
import torch

from microexp.cli.main import main
from microexp.dataset.torch_dataset import ClipDataset, collate_clips, loso_folds, read_clips
from microexp.errors import ConfigError, OutputExistsError
from microexp.models.registry import build_model
from microexp.train.config import load_train_config
from microexp.train.loso import resolve_classes, train_loso


def test_loso_folds_leave_each_subject_out_once(tiny_dataset) -> None:
    clips = read_clips(tiny_dataset)
    by_id = {c.clip_id: c.subject for c in clips}
    for folds in (loso_folds(tiny_dataset), loso_folds(tiny_dataset.parent / "nowhere", clips)):
        assert sorted(f.test_subject for f in folds) == ["s01", "s02", "s03"]
        for f in folds:
            assert {by_id[c] for c in f.test} == {f.test_subject}
            assert f.test_subject not in {by_id[c] for c in f.train}
            assert set(f.train) | set(f.test) == set(by_id)
        assert sorted(c for f in folds for c in f.test) == sorted(by_id)  # each clip tested once


def test_class_resolution(tiny_dataset) -> None:
    clips = read_clips(tiny_dataset)
    assert resolve_classes("from_dataset", clips) == ("AU2", "AU12", "AU26")  # catalog order
    assert len(resolve_classes("paper", clips)) == 21
    assert len(resolve_classes("report", clips)) == 7
    assert resolve_classes(["AU26", "AU2"], clips) == ("AU26", "AU2")


def test_smoke_train_end_to_end_via_cli(tiny_dataset, write_config, tmp_path, capsys) -> None:
    cfg = write_config(
        tiny_dataset,
        train={"epochs": 2, "batch_size": 4, "max_clip_len": 4, "max_steps_per_epoch": 1},
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "-o", str(out), "--no-progress"]) == 0
    assert "mean top-1" in capsys.readouterr().out
    for name in ("config.yaml", "train.log", "results.json", "folds.csv", "per_class.csv",
                 "confusion.csv", "confusion.png", "table5.md", "table5.csv"):  # fmt: skip
        assert (out / name).is_file(), name
    res = json.loads((out / "results.json").read_text())
    assert [f["test_subject"] for f in res["folds"]] == ["s01", "s02", "s03"]
    assert sum(f["n"] for f in res["folds"]) == 18
    assert 0.0 <= res["mean_top1"] <= res["mean_top3"] <= 1.0
    assert res["pooled"]["confusion"] and sum(map(sum, res["pooled"]["confusion"])) == 18
    table = (out / "table5.md").read_text()
    # #Par. in Mi: the tiny run's 3-class SNN has 4,311,616 + 128 + 4 - 512·(210 - 30) weights
    n = 4_311_748 - 512 * 180
    assert f"| this run (final epoch) | SNN | events | {n / 2**20:.2f} |" in table
    assert "| paper (Table 5) | SNN | events | 4.11 | 51.23 | 63.57 |" in table
    assert "| paper (Table 5) | 3DCNN | rgb | 13.06 | 17.06 | 21.76 |" in table
    assert "best epoch" not in table  # no per-epoch evaluation asked for
    # an existing run directory is not overwritten
    assert main(["train", "--config", str(cfg), "-o", str(out), "--no-progress"]) == 1
    assert "use --resume" in capsys.readouterr().err


def test_best_over_epochs_row_needs_per_epoch_evaluation(
    tiny_dataset, write_config, tmp_path
) -> None:
    cfg = load_train_config(write_config(
        tiny_dataset, folds=["s01", "s03"], train={"epochs": 3, "batch_size": 4, "max_clip_len": 4,
                                                   "lr": 3e-3, "max_steps_per_epoch": 2,
                                                   "eval_every_epoch": True},
    ))  # fmt: skip
    res = train_loso(cfg, tmp_path / "run", progress=False)
    best = []
    for fold in res["folds"]:
        ckpt = torch.load(
            tmp_path / f"run/fold_{fold['test_subject']}/checkpoint.pt", weights_only=True
        )
        history = ckpt["history"]
        assert [sorted(k for k in h if k.startswith("test_")) for h in history] == [
            ["test_top1", "test_top3", "test_top5"]
        ] * 3
        assert (
            history[-1]["test_top1"] == fold["top1"]
        )  # the last epoch's evaluation is the final one
        best.append(max(h["test_top1"] for h in history))
    rows = {r[0]: r for r in csv.reader((tmp_path / "run" / "table5.csv").open())}
    chosen = rows["this run (best epoch per fold, chosen on its test subject)"]
    assert float(chosen[4]) == pytest.approx(100 * sum(best) / 2, abs=0.01)
    assert float(chosen[4]) >= float(rows["this run (final epoch)"][4])


def test_training_reduces_loss_over_epochs(tiny_dataset, write_config, tmp_path) -> None:
    cfg = load_train_config(write_config(
        tiny_dataset, folds=["s01"], train={"epochs": 3, "batch_size": 4, "max_clip_len": 4, "lr": 3e-3,
                                           "max_steps_per_epoch": 2},
    ))  # fmt: skip
    res = train_loso(cfg, tmp_path / "run", progress=False)
    ckpt = torch.load(tmp_path / "run/fold_s01/checkpoint.pt", weights_only=True)
    losses = [h["loss"] for h in ckpt["history"]]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert res["folds"][0]["n"] == 6


def test_checkpoint_alone_rebuilds_model_with_same_outputs(
    tiny_dataset, write_config, tmp_path
) -> None:
    cfg = load_train_config(
        write_config(
            tiny_dataset,
            folds=["s02"],
            model={"name": "sew", "widths": [8, 16]},
            train={"epochs": 1, "batch_size": 4, "max_clip_len": 6, "max_steps_per_epoch": 1},
        )
    )
    train_loso(cfg, tmp_path / "run", progress=False)
    ckpt = torch.load(tmp_path / "run/fold_s02/checkpoint.pt", weights_only=True)
    assert ckpt["done"] and ckpt["classes"] == ["AU2", "AU12", "AU26"]
    model = build_model(ckpt["config"]["model"]).eval()
    model.load_state_dict(ckpt["model_state"])
    ds = ClipDataset(tiny_dataset, camera="davis", classes=ckpt["classes"], max_len=6,
                     clip_ids=list(loso_folds(tiny_dataset)[1].test))  # fmt: skip
    x, lengths, _ = collate_clips([ds[i] for i in range(len(ds))])
    with torch.no_grad():
        rates = model.rates(x, lengths).numpy()
    torch.testing.assert_close(
        torch.tensor(rates), torch.tensor(ckpt["result"]["scores"], dtype=torch.float32)
    )


@pytest.mark.slow  # two training runs (~8 s on 2 cores)
def test_resume_after_interruption_equals_uninterrupted_run(
    tiny_dataset, write_config, tmp_path
) -> None:
    cfg = load_train_config(write_config(tiny_dataset, folds=["s01", "s02"], train={
        "epochs": 3, "batch_size": 4, "max_clip_len": 4, "max_steps_per_epoch": 1, "crop": "random"}))  # fmt: skip
    full = train_loso(cfg, tmp_path / "full", progress=False)

    def interrupt(subject: str, epoch: int, _stats: dict[str, float]) -> None:
        if subject == "s02" and epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_loso(cfg, tmp_path / "cut", progress=False, on_epoch_end=interrupt)
    ckpt = torch.load(tmp_path / "cut/fold_s02/checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 2 and not ckpt["done"]
    assert not (tmp_path / "cut/results.json").exists()
    with pytest.raises(OutputExistsError):
        train_loso(cfg, tmp_path / "cut", progress=False)
    resumed = train_loso(cfg, tmp_path / "cut", resume=True, progress=False)
    assert resumed["folds"] == full["folds"]
    assert resumed["pooled"]["confusion"] == full["pooled"]["confusion"]
    a = torch.load(tmp_path / "full/fold_s02/checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "cut/fold_s02/checkpoint.pt", weights_only=True)
    for k, v in a["model_state"].items():
        torch.testing.assert_close(b["model_state"][k], v, rtol=0, atol=0)


def test_resume_with_changed_config_rejected(tiny_dataset, write_config, tmp_path) -> None:
    cfg = load_train_config(
        write_config(tiny_dataset, folds=["s01"], train={"epochs": 1, "max_steps_per_epoch": 1})
    )
    train_loso(cfg, tmp_path / "run", progress=False)
    other = load_train_config(
        write_config(tiny_dataset, folds=["s01"], train={"epochs": 2, "max_steps_per_epoch": 1})
    )
    with pytest.raises(ConfigError, match="different config"):
        train_loso(other, tmp_path / "run", resume=True, progress=False)


def test_unknown_fold_subject_rejected(tiny_dataset, write_config, tmp_path) -> None:
    cfg = load_train_config(write_config(tiny_dataset, folds=["s99"]))
    with pytest.raises(ConfigError, match=r"unknown test subject\(s\) \['s99'\]"):
        train_loso(cfg, tmp_path / "run", progress=False)


@pytest.mark.parametrize(
    ("modality", "camera", "model"), [("rgb", "webcam", "c3d"), ("grey", "davis", "snn")]
)
def test_frame_modalities_train(
    tiny_dataset, write_config, tmp_path, modality, camera, model
) -> None:
    cfg = load_train_config(write_config(
        tiny_dataset, modality=modality, camera=camera, folds=["s03"], model={"name": model},
        train={"epochs": 1, "batch_size": 4, "max_clip_len": 5, "max_steps_per_epoch": 1, "lr": 1e-4},
    ))  # fmt: skip
    res = train_loso(cfg, tmp_path / "run", progress=False)
    assert res["modality"] == modality and res["folds"][0]["n"] == 6
