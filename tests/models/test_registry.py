from __future__ import annotations

import pytest
import torch

from microexp.errors import ConfigError
from microexp.models import C3D, CVAE, PaperSNN, SEWResNet, build_model
from microexp.models.snn import count_parameters


@pytest.mark.parametrize(
    ("config", "cls"),
    [
        ({"name": "snn", "num_classes": 7, "neuron": "lif"}, PaperSNN),
        ({"name": "c3d", "num_classes": 5, "in_channels": 1}, C3D),
        ({"name": "sew", "num_classes": 7, "widths": [8, 16], "neuron": "plif"}, SEWResNet),
        ({"name": "cvae", "size": 32}, CVAE),
    ],
)
def test_build_each_model(config, cls) -> None:
    assert isinstance(build_model(config), cls)


def test_build_paper_snn_default() -> None:
    m = build_model({"name": "snn"})
    assert count_parameters(m)["total"] == 4_311_748


def test_same_config_and_state_rebuilds_same_outputs() -> None:
    cfg = {"name": "sew", "num_classes": 3, "widths": [8, 16]}
    torch.manual_seed(0)
    a = build_model(cfg).eval()
    b = build_model(cfg).eval()
    b.load_state_dict(a.state_dict())
    x = torch.rand(4, 1, 2, 64, 64) * 2
    with torch.no_grad():
        assert torch.equal(a(x), b(x))


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"name": "resnet"}, "unknown model name 'resnet'"),
        ({"name": "snn", "neuron": "izhikevich"}, "unknown neuron 'izhikevich'"),
        ({"name": "c3d", "hidden": 3}, r"unknown key\(s\) \['hidden'\]"),
    ],
)
def test_bad_config_rejected(config, match) -> None:
    with pytest.raises(ConfigError, match=match):
        build_model(config, where="run.yaml:model")
