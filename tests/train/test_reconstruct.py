from __future__ import annotations

import json

import torch
import yaml

from microexp.cli.main import main
from microexp.models.registry import build_model


def test_reconstruct_cli_end_to_end(tiny_dataset, tmp_path, capsys) -> None:
    cfg = {
        "dataset": str(tiny_dataset), "event_camera": "davis", "target_camera": "davis",
        "window_slices": 2, "model": {"latent": 8, "width": 2, "size": 64}, "epochs": 1,
        "batch_size": 16, "folds": ["s01", "s03"], "max_steps_per_epoch": 1, "device": "cpu",
    }  # fmt: skip
    path = tmp_path / "cvae_davis.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    assert main(["reconstruct", "--config", str(path), "-o", str(out), "--no-progress"]) == 0
    assert "PSNR" in capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    assert [f["test_subject"] for f in res["folds"]] == ["s01", "s03"]
    for key in ("mse", "rmse", "mae", "psnr", "ssim", "ncc"):
        assert key in res["mean_prior"] and key in res["mean_posterior"]
    assert 0 < res["mean_prior"]["mse"] < 0.5
    table = (out / "table6.md").read_text()
    assert "davis (paper)" in table and "0.7717" in table
    assert (out / "fold_s01/grid.png").read_bytes()[:4] == b"\x89PNG"
    ckpt = torch.load(out / "fold_s03/checkpoint.pt", weights_only=True)
    model = build_model(ckpt["config"]["model"])
    model.load_state_dict(ckpt["model_state"])
    assert sum(p.numel() for p in model.parameters()) == res["parameters"]
    # resume of a finished run re-uses the folds
    assert (
        main(["reconstruct", "--config", str(path), "-o", str(out), "--resume", "--no-progress"])
        == 0
    )
    assert json.loads((out / "results.json").read_text())["folds"] == res["folds"]
