from __future__ import annotations

import pytest
import torch

from microexp.models.c3d import C3D
from microexp.models.cvae import CVAE, cvae_loss
from microexp.models.sew_resnet import SEWResNet


def _n(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_c3d_parameter_count_near_paper() -> None:
    n = _n(C3D(num_classes=21, in_channels=2))
    assert n == 13_253_685
    assert abs(n - 13.06e6) / 13.06e6 < 0.02


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
