"""The paper SNN built the naive spikingjelly way (docs/references.md#paper-snn): the reference that the
SNN benchmarks (snn_step.py, train_throughput.py) compare microexp's models with. Imported as a
sibling module (the benchmarks run as scripts)."""

from __future__ import annotations

from spikingjelly.activation_based import functional, layer, neuron, surrogate
from torch import nn

__all__ = ["reference_net"]


def reference_net(*, step_mode: str = "s") -> nn.Sequential:
    """Conv-BN-PLIF-pool x2, FC-PLIF x2, voting over 10 neurons per class (21 classes)."""

    def p() -> nn.Module:
        return neuron.ParametricLIFNode(surrogate_function=surrogate.ATan(), detach_reset=True)

    net = nn.Sequential(
        layer.Conv2d(2, 32, 3, padding=1, bias=False), layer.BatchNorm2d(32), p(), layer.MaxPool2d(2),
        layer.Conv2d(32, 32, 3, padding=1, bias=False), layer.BatchNorm2d(32), p(), layer.MaxPool2d(2),
        layer.Flatten(),
        layer.Dropout(0.2), layer.Linear(32 * 16 * 16, 512, bias=False), p(),
        layer.Dropout(0.2), layer.Linear(512, 210, bias=False), p(),
        layer.VotingLayer(10),
    )  # fmt: skip
    functional.set_step_mode(net, step_mode)
    return net
