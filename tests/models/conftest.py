"""Shared fixtures: a PaperSNN whose layers actually spike, and seeded event-count sequences."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from microexp.models.snn import PaperSNN


def active_snn(
    *, seed: int = 0, gain: float = 5.0, num_classes: int = 21, decay_input: bool = True
) -> PaperSNN:
    """An eval-mode PaperSNN with non-trivial BatchNorm statistics and weights scaled by ``gain``
    so that every layer fires (a freshly initialised net is nearly silent on sparse input).
    ``decay_input=False`` (no 1/τ on the input) needs a smaller gain for the same activity."""
    torch.manual_seed(seed)
    m = PaperSNN(num_classes=num_classes, decay_input=decay_input).eval()
    with torch.no_grad():
        for bn in (m.net[1], m.net[5]):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 2.0)
            bn.bias.uniform_(0.0, 0.5)
        for i in (0, 4, 10, 13):
            m.net[i].weight.mul_(gain)
        for node in (m.net[2], m.net[6], m.net[11], m.net[14]):
            node.w.uniform_(-1.0, 1.0)  # distinct τ per layer
    return m


def event_counts(t: int, n: int, *, seed: int = 1, density: float = 0.1) -> torch.Tensor:
    """Sparse per-polarity count frames ``[T, N, 2, 64, 64]`` with counts 1..3."""
    g = torch.Generator().manual_seed(seed)
    active = torch.rand(t, n, 2, 64, 64, generator=g) < density
    return (active * torch.randint(1, 4, (t, n, 2, 64, 64), generator=g)).float()


@pytest.fixture
def snn() -> PaperSNN:
    return active_snn()


@pytest.fixture
def make_snn() -> Callable[..., PaperSNN]:
    return active_snn


@pytest.fixture
def counts() -> Callable[..., torch.Tensor]:
    return event_counts
