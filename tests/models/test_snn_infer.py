from __future__ import annotations

import pytest
import torch

from microexp.models.snn import PaperSNN, lif_neuron
from microexp.models.snn_infer import FastSNN


@pytest.mark.parametrize("sparse_fc", [True, False, 0.25])
@pytest.mark.parametrize(("gain", "decay_input"), [(5.0, True), (7.0, True), (2.5, False)])
def test_fast_path_equals_spikingjelly_over_a_sequence(
    make_snn, counts, gain, decay_input, sparse_fc
) -> None:
    model = make_snn(seed=7, gain=gain, decay_input=decay_input)
    x = counts(30, 1, seed=8)
    with torch.no_grad():
        expected = model(x)
    fast = FastSNN.from_trained(model, sparse_fc=sparse_fc)
    got = fast.run(x)
    assert expected.mean() > 0.02
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_fast_path_batched_and_uint8_input(make_snn, counts) -> None:
    model = make_snn(seed=9)
    x = counts(20, 3, seed=10)
    with torch.no_grad():
        expected = model(x)
    fast = FastSNN.from_trained(model)
    got = torch.stack([fast.step(x[t].to(torch.uint8)) for t in range(20)])
    assert not torch.equal(got, torch.zeros_like(got))
    # fresh state after reset
    fast.reset()
    again = fast.run(x)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(again, expected, rtol=0, atol=1e-6)


def test_fast_path_lif_neurons(counts) -> None:
    torch.manual_seed(0)
    model = PaperSNN(neuron_factory=lif_neuron).eval()
    with torch.no_grad():
        for i in (0, 4, 10, 13):
            model.net[i].weight.mul_(5.0)
    x = counts(30, 1, seed=3)
    with torch.no_grad():
        expected = model(x)
    torch.testing.assert_close(FastSNN.from_trained(model).run(x), expected, rtol=0, atol=1e-6)
    assert expected.sum() > 0


def test_unsupported_reset_rejected() -> None:
    model = PaperSNN()
    model.net[2].v_reset = None
    with pytest.raises(ValueError, match="v_reset"):
        FastSNN.from_trained(model)
