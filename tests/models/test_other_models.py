from __future__ import annotations

import pytest
import torch

from microexp.models.c3d import C3D
from microexp.models.cvae import CVAE, cvae_loss, cvae_parameter_count
from microexp.models.params import format_params, mebi
from microexp.models.sew_resnet import SEWResNet


def _n(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_c3d_parameter_count_near_paper() -> None:
    n = _n(C3D(num_classes=21, in_channels=2))
    assert n == 13_253_685
    # in the paper's unit (Mi = 2^20, as its SNN's 4.11M): 12.64 Mi against "13.06M", −3.2 %
    assert format_params(n) == "12.64 Mi"
    assert mebi(n) / 13.06 - 1 == pytest.approx(-0.032, abs=0.001)


@pytest.mark.parametrize("t", [1, 5, 20])
def test_c3d_variable_length(t: int) -> None:
    m = C3D(num_classes=7, in_channels=3).eval()
    with torch.no_grad():
        assert m(torch.rand(t, 2, 3, 64, 64)).shape == (2, 7)


@pytest.mark.parametrize("t", [1, 6])
def test_sew_resnet_shapes_and_independent_calls(t: int) -> None:
    torch.manual_seed(0)
    m = SEWResNet(num_classes=7).eval()
    x = torch.rand(t, 2, 2, 64, 64) * 3
    with torch.no_grad():
        a = m(x)
        b = m(x)
    assert a.shape == (t, 2, 7)
    assert torch.equal(a, b)
    assert m.rates(x).shape == (2, 7)


def test_cvae_shapes_loss_and_count() -> None:
    torch.manual_seed(0)
    m = CVAE(size=64, cond_channels=2)
    assert _n(m) == 135_874_753
    assert format_params(_n(m)) == "129.58 Mi"
    x, c = torch.rand(4, 1, 64, 64), torch.rand(4, 2, 64, 64)
    recon, mu, logvar = m(x, c)
    assert recon.shape == x.shape and mu.shape == (4, 32) and logvar.shape == (4, 32)
    assert recon.min() >= 0.0 and recon.max() <= 1.0
    total, mse, kl = cvae_loss(recon, x, mu, logvar)
    assert torch.isclose(total, mse + kl)
    assert m.reconstruct(c).shape == x.shape


def test_cvae_training_reduces_loss() -> None:
    torch.manual_seed(0)
    m = CVAE(size=16, cond_channels=2, width=8)
    c = torch.rand(8, 2, 16, 16)
    x = c.mean(1, keepdim=True)  # target depends on the condition
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    first = last = 0.0
    for i in range(12):
        recon, mu, logvar = m(x, c)
        loss = cvae_loss(recon, x, mu, logvar)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if i == 0 else first
        last = loss.item()
    assert last < first


@pytest.mark.parametrize(("size", "cond"), [(64, 2), (92, 1), (80, 2), (16, 1)])
def test_cvae_closed_form_count_equals_the_built_model(size: int, cond: int) -> None:
    with torch.device("meta"):  # no memory for the 290 M weights
        m = CVAE(size=size, cond_channels=cond)
    assert cvae_parameter_count(height=size, width=size, cond_channels=cond) == _n(m)


def test_cvae_sizes_that_reach_the_papers_289m() -> None:
    """The paper's Table 6 count is reached only at a larger condition than our 64x64 crops."""
    count = cvae_parameter_count
    assert count(height=64, width=64, cond_channels=2) / 289e6 < 0.5
    assert f"{mebi(count(height=80, width=108, cond_channels=1)):.2f}" == "288.03"
    assert f"{count(height=92, width=92, cond_channels=1) / 1e6:.1f}" == "289.9"
    assert f"{count(height=68, width=88, cond_channels=2) / 1e6:.1f}" == "288.9"
    # the example the docstring used to give (1-channel 128x96) is twice the paper's size
    assert count(height=128, width=96, cond_channels=1) > 600e6
