from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from stream_testkit import LABELS, SNN_MODEL_CONFIG, lively_snn, save_snn_checkpoint

from microexp.errors import ConfigError, OutputExistsError
from microexp.models.snn import PaperSNN
from microexp.stream.export import export_torchscript, load_torchscript
from microexp.stream.predictor import Predictor, load_checkpoint_model


def _clip(seed: int, t: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.random((t, 2, 64, 64)) < 0.08) * rng.integers(1, 5, (t, 2, 64, 64))).astype(
        np.float32
    )


def test_predictor_rebuilds_the_model_from_the_checkpoint_alone(
    snn: PaperSNN, tmp_path: Path
) -> None:
    ckpt = save_snn_checkpoint(snn, tmp_path / "snn.pt", slice_us=33_000)
    predictor = Predictor.from_checkpoint(ckpt)
    assert predictor.classes == LABELS and predictor.config["slice_us"] == 33_000
    frames = _clip(1)
    expected = Predictor(snn, classes=LABELS, backend="module").run_clip(frames)
    got = np.stack([predictor.step(f) for f in frames])
    assert expected.any()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    predictor.reset()  # a reset starts the same sequence again
    np.testing.assert_allclose(predictor.step(frames[0]), got[0], rtol=0, atol=0)


@pytest.mark.parametrize("decay_input", [True, False])
def test_exported_torchscript_step_equals_the_multi_step_model(
    snn: PaperSNN, tmp_path: Path, decay_input: bool
) -> None:
    if not decay_input:
        snn = lively_snn(decay_input=False)
    ckpt = save_snn_checkpoint(snn, tmp_path / "snn.pt", slice_us=33_000)
    rebuilt, _, _ = load_checkpoint_model(ckpt)
    assert getattr(rebuilt, "decay_input", None) is decay_input
    out = export_torchscript(ckpt, tmp_path / "deploy" / "snn_step.pt")
    module, meta = load_torchscript(out)
    assert meta["classes"] == list(LABELS) and meta["config"]["model"]["name"] == "snn"
    frames = _clip(2, t=15)
    with torch.no_grad():
        expected = snn(torch.from_numpy(frames).unsqueeze(1))[:, 0].numpy()
        module.reset()
        got = np.stack([module(torch.from_numpy(f).unsqueeze(0))[0].numpy() for f in frames])
        module.reset()
        again = module(torch.from_numpy(frames[0]).unsqueeze(0))[0].numpy()
    assert expected.any()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(again, got[0])
    with pytest.raises(OutputExistsError, match=r"snn_step.pt"):
        export_torchscript(ckpt, out)


def test_bad_checkpoints_name_the_file_and_the_problem(snn: PaperSNN, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_checkpoint_model(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match=r"junk.pt: cannot read checkpoint"):
        load_checkpoint_model(tmp_path / "junk.pt")
    torch.save(
        {"config": {"model": SNN_MODEL_CONFIG}, "model_state": snn.state_dict()},
        tmp_path / "nocls.pt",
    )
    with pytest.raises(ConfigError, match=r"nocls.pt: checkpoint has no class list"):
        load_checkpoint_model(tmp_path / "nocls.pt")
    torch.save(
        {
            "config": {"model": SNN_MODEL_CONFIG},
            "classes": ["a", "b"],
            "model_state": snn.state_dict(),
        },
        tmp_path / "n.pt",
    )
    with pytest.raises(ConfigError, match="2 classes for a model with 5 outputs"):
        load_checkpoint_model(tmp_path / "n.pt")
    cfg = {**SNN_MODEL_CONFIG, "num_classes": 7}
    torch.save(
        {"config": {"model": cfg}, "classes": list("abcdefg"), "model_state": snn.state_dict()},
        tmp_path / "s.pt",
    )
    with pytest.raises(ConfigError, match=r"s.pt: model state does not fit"):
        load_checkpoint_model(tmp_path / "s.pt")
