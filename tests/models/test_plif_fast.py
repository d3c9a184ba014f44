from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import functional, neuron, surrogate

from microexp.models.plif_fast import FastPLIFNode
from microexp.models.snn import PaperSNN, plif_sj_neuron


def _pair(w: float, decay_input: bool = True) -> tuple[neuron.ParametricLIFNode, FastPLIFNode]:
    kw = {"init_tau": 2.0, "v_reset": 0.0, "surrogate_function": surrogate.ATan(),
          "detach_reset": True, "step_mode": "m", "decay_input": decay_input}  # fmt: skip
    a, b = neuron.ParametricLIFNode(**kw), FastPLIFNode(**kw)
    with torch.no_grad():
        a.w.fill_(w)
        b.w.fill_(w)
    return a, b


@pytest.mark.parametrize("decay_input", [True, False])
@pytest.mark.parametrize("w", [-1.0, 0.0, 0.8])
def test_forward_identical_and_gradients_match_spikingjelly(w: float, decay_input: bool) -> None:
    g = torch.Generator().manual_seed(0)
    a, b = _pair(w, decay_input)
    # without decay_input the input is not scaled by 1/τ: a smaller drive gives the same activity
    x = (torch.randn(15, 3, 40, generator=g) * 1.5 + 0.6) * (1.0 if decay_input else 0.5)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    sa, sb = a(xa), b(xb)
    assert 0.05 < sa.mean() < 0.95
    assert torch.equal(sa, sb) and torch.equal(a.v, b.v)
    upstream = torch.randn(sa.shape, generator=g)
    (sa * upstream).sum().backward()
    (sb * upstream).sum().backward()
    torch.testing.assert_close(xb.grad, xa.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(b.w.grad, a.w.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("decay_input", [True, False])
def test_state_carries_across_calls_like_spikingjelly(decay_input: bool) -> None:
    a, b = _pair(0.2, decay_input)
    x = torch.rand(6, 2, 30) * 2
    with torch.no_grad():
        first = (a(x), b(x))
        second = (a(x), b(x))  # no reset: state carried
    assert torch.equal(*first) and torch.equal(*second) and not torch.equal(first[0], second[0])
    functional.reset_net(a)
    functional.reset_net(b)
    with torch.no_grad():
        assert torch.equal(a(x), b(x))


@pytest.mark.parametrize("decay_input", [True, False])
def test_paper_snn_training_step_matches_spikingjelly_neurons(decay_input: bool) -> None:
    torch.manual_seed(0)
    fast = PaperSNN(num_classes=5, dropout=0.0, decay_input=decay_input)
    ref = PaperSNN(
        num_classes=5, dropout=0.0, neuron_factory=plif_sj_neuron, decay_input=decay_input
    )
    assert isinstance(fast.net[2], FastPLIFNode) and fast.net[2]._fast_ok(torch.zeros(1))
    ref.load_state_dict(fast.state_dict())
    with torch.no_grad():
        for m in (fast, ref):
            for i in (0, 4, 10, 13):
                m.net[i].weight.mul_(4.0)
    x = (torch.rand(6, 3, 2, 64, 64) < 0.15).float() * 2
    y = torch.nn.functional.one_hot(torch.tensor([0, 3, 4]), 5).float()
    losses = []
    for m in (fast, ref):
        loss = torch.nn.functional.mse_loss(m.rates(x), y)
        loss.backward()
        losses.append(loss)
    assert torch.equal(losses[0], losses[1])
    for (name, pf), pr in zip(fast.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(pf.grad, pr.grad, rtol=1e-4, atol=1e-6, msg=name)
    assert any(float(p.grad.abs().sum()) > 0 for p in fast.parameters())
