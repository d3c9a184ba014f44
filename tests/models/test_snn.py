from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import layer, neuron, surrogate
from torch import nn

from microexp.models.params import MEBI, format_params
from microexp.models.snn import PaperSNN, count_parameters, lif_neuron, time_average


def _reference_net(*, decay_input: bool = True) -> nn.Sequential:
    """The naive spikingjelly build of bench/_snn_reference.py, with either charge equation."""

    def p() -> nn.Module:
        return neuron.ParametricLIFNode(
            decay_input=decay_input, surrogate_function=surrogate.ATan(), detach_reset=True
        )

    return nn.Sequential(
        layer.Conv2d(2, 32, 3, padding=1, bias=False), layer.BatchNorm2d(32), p(), layer.MaxPool2d(2),
        layer.Conv2d(32, 32, 3, padding=1, bias=False), layer.BatchNorm2d(32), p(), layer.MaxPool2d(2),
        layer.Flatten(),
        layer.Dropout(0.2), layer.Linear(32 * 16 * 16, 512, bias=False), p(),
        layer.Dropout(0.2), layer.Linear(512, 210, bias=False), p(),
        layer.VotingLayer(10),
    )  # fmt: skip


def test_parameter_count_matches_paper_and_reference() -> None:
    counts = count_parameters(PaperSNN())
    assert counts["weights"] == 4_311_616
    # the paper's "4.11M" is 4.11 Mi (2^20): the unit of every count in this repository
    assert f"{counts['weights'] / MEBI:.2f}" == "4.11"
    assert f"{counts['total'] / MEBI:.2f}" == "4.11"
    assert format_params(counts["total"]) == "4.11 Mi"
    assert counts["batchnorm"] == 128
    assert counts["neuron"] == 4  # one w per PLIF layer
    assert counts["total"] == 4_311_748
    assert counts["total"] == sum(p.numel() for p in _reference_net().parameters())


@pytest.mark.parametrize("decay_input", [True, False])
def test_reference_state_dict_loads_and_gives_same_outputs(make_snn, counts, decay_input) -> None:
    ours = make_snn(seed=3, gain=5.0 if decay_input else 2.5, decay_input=decay_input)
    ref = _reference_net(decay_input=decay_input).eval()
    ref.load_state_dict(ours.net.state_dict())
    from spikingjelly.activation_based import functional

    functional.set_step_mode(ref, "m")
    x = counts(12, 2)
    with torch.no_grad():
        expected = ref(x)
        got = ours(x)
    assert got.shape == (12, 2, 21)
    assert got.mean() > 0.02  # the output layer fires, so the comparison means something
    assert torch.equal(got, expected)


def test_the_two_charge_equations_differ(counts) -> None:
    """decay_input=True scales the input by 1/τ, False does not: same weights, other spikes."""
    x = counts(12, 2)
    torch.manual_seed(0)
    a = PaperSNN(decay_input=True).eval()
    b = PaperSNN(decay_input=False).eval()
    b.load_state_dict(a.state_dict())
    assert all(n.decay_input for n in a.modules() if isinstance(n, neuron.ParametricLIFNode))
    assert not any(n.decay_input for n in b.modules() if isinstance(n, neuron.ParametricLIFNode))
    with torch.no_grad():
        assert not torch.equal(a.net[:3](x), b.net[:3](x))


@pytest.mark.parametrize("t", [1, 7, 19])
def test_variable_length_shapes(t: int) -> None:
    m = PaperSNN(num_classes=7).eval()
    with torch.no_grad():
        out = m(torch.zeros(t, 2, 2, 64, 64))
        rates = m.rates(torch.zeros(t, 2, 2, 64, 64), torch.tensor([t, 1]))
    assert out.shape == (t, 2, 7)
    assert rates.shape == (2, 7)


def test_bad_input_rank_rejected() -> None:
    with pytest.raises(ValueError, match=r"\[T, N, C, H, W\]"):
        PaperSNN()(torch.zeros(3, 2, 64, 64))


@pytest.mark.parametrize("decay_input", [True, False])
def test_single_step_equals_multi_step(make_snn, counts, decay_input) -> None:
    snn = make_snn(gain=5.0 if decay_input else 2.5, decay_input=decay_input)
    x = counts(40, 3)
    with torch.no_grad():
        multi = snn(x)
        snn.reset()
        single = torch.stack([snn.step(x[t]) for t in range(x.shape[0])])
    assert multi.mean() > 0.02  # the output layer fires, so the comparison means something
    assert torch.equal(single, multi)


def test_state_is_kept_between_steps_and_cleared_by_reset(snn: PaperSNN, counts) -> None:
    x = counts(10, 1)
    with torch.no_grad():
        first = torch.stack([snn.step(x[t]) for t in range(10)])
        continued = torch.stack([snn.step(x[t]) for t in range(10)])
        snn.reset()
        again = torch.stack([snn.step(x[t]) for t in range(10)])
    assert torch.equal(first, again)
    assert not torch.equal(first, continued)  # kept membrane state changes the response


def test_multi_step_calls_are_independent(snn: PaperSNN, counts) -> None:
    x = counts(15, 2, seed=4)
    with torch.no_grad():
        a = snn(x)
        snn(counts(15, 2, seed=5))
        b = snn(x)
    assert torch.equal(a, b)


def test_time_average_respects_lengths() -> None:
    votes = torch.arange(12, dtype=torch.float32).view(4, 3, 1)  # [T=4, N=3, K=1]
    out = time_average(votes, torch.tensor([4, 2, 1]))
    assert out.flatten().tolist() == [(0 + 3 + 6 + 9) / 4, (1 + 4) / 2, 2.0]
    assert torch.equal(time_average(votes), votes.mean(0))


def test_neuron_type_is_injectable() -> None:
    m = PaperSNN(neuron_factory=lif_neuron)
    assert sum(isinstance(mod, neuron.LIFNode) for mod in m.modules()) == 4
    assert not any(isinstance(mod, neuron.ParametricLIFNode) for mod in m.modules())
    assert count_parameters(m)["neuron"] == 0


def test_training_step_reduces_loss_on_fixed_batch(counts) -> None:
    torch.manual_seed(0)
    m = PaperSNN(num_classes=4, dropout=0.0)
    x = counts(4, 4, seed=2, density=0.3)
    y = torch.nn.functional.one_hot(torch.arange(4), 4).float()
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    losses = []
    for _ in range(4):
        loss = torch.nn.functional.mse_loss(m.rates(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert all(p.grad is not None for p in m.parameters())
