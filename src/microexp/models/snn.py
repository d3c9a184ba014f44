"""The paper's PLIF spiking network (Mastropasqua et al. 2025), built with spikingjelly 2.0.

Layout (docs/references.md#paper-snn)::

    2 × [Conv2d 3×3 s1 p1, 32 maps, no bias → BatchNorm2d → PLIF → MaxPool 2×2]
    Flatten
    2 × [Dropout → Linear (no bias) → PLIF]     outputs 512, then classes × 10
    VotingLayer(10)                             → classes

Tensors are time-major ``[T, N, C, H, W]``. :meth:`PaperSNN.forward` runs a whole sequence
(multi-step mode, states reset before and after) and returns the per-step votes ``[T, N, K]``;
:meth:`PaperSNN.rates` averages them over the valid time steps (the paper's output).
:meth:`PaperSNN.step` / :meth:`PaperSNN.reset` stream one slice at a time with kept membrane
state; both modes give the same outputs (tested).

The layers sit in one ``nn.Sequential`` in the order of the naive spikingjelly build
(``bench/_snn_reference.py``), so a state dict of that build loads into :class:`PaperSNN`
(``model.net``) unchanged.

Charge equation (``decay_input``, a model config key; docs/references.md#plif-charge). With
1/τ = sigmoid(w) and V_reset = 0, spikingjelly's ``ParametricLIFNode`` offers both forms:

- ``decay_input=True`` (Fang et al. 2021, the PLIF paper; spikingjelly's default):
  H[t] = V[t−1] + (X[t] − V[t−1]) / τ — the input is scaled by 1/τ too;
- ``decay_input=False`` (the paper's Eq. 3 as printed, V_rest = V_reset = 0):
  H[t] = V[t−1] − V[t−1] / τ + X[t] — only the potential leaks.

The paper's configs keep ``decay_input: true``: the paper builds its PLIF after Fang et al.,
whose neuron (and spikingjelly's default) is the first form, and the paper's parameter count and
layout match that build; the printed Eq. 3 is kept as a switch (``decay_input: false``) to test
the other reading. Both forms step identically in single-step, multi-step and the fast paths
(tested against spikingjelly for each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from spikingjelly.activation_based import functional, layer, neuron, surrogate
from torch import nn

__all__ = [
    "NEURONS",
    "NeuronFactory",
    "PaperSNN",
    "count_parameters",
    "lif_neuron",
    "plif_neuron",
    "plif_sj_neuron",
    "time_average",
]

NeuronFactory = Callable[..., nn.Module]
"""Makes one neuron layer; called with no argument, or with ``decay_input=`` (see the factories)."""


def plif_neuron(*, decay_input: bool = True) -> nn.Module:
    """The paper's neuron: PLIF, 1/τ = sigmoid(w) with τ₀ = 2, V_reset = 0, ATan surrogate.

    A :class:`~microexp.models.plif_fast.FastPLIFNode`: spikingjelly's ``ParametricLIFNode``
    with a leaner multi-step (training) path; same parameters, state dict and outputs.
    ``decay_input``: the charge equation (module docstring)."""
    from microexp.models.plif_fast import FastPLIFNode

    return FastPLIFNode(
        init_tau=2.0,
        decay_input=decay_input,
        v_reset=0.0,
        surrogate_function=surrogate.ATan(),
        detach_reset=True,
    )


def plif_sj_neuron(*, decay_input: bool = True) -> nn.Module:
    """The paper's neuron as spikingjelly's own ``ParametricLIFNode`` (reference path)."""
    return neuron.ParametricLIFNode(
        init_tau=2.0,
        decay_input=decay_input,
        v_reset=0.0,
        surrogate_function=surrogate.ATan(),
        detach_reset=True,
    )


def lif_neuron(*, decay_input: bool = True) -> nn.Module:
    """A fixed-τ LIF (τ = 2) with the same surrogate and reset: an ablation of PLIF."""
    return neuron.LIFNode(
        tau=2.0,
        decay_input=decay_input,
        v_reset=0.0,
        surrogate_function=surrogate.ATan(),
        detach_reset=True,
    )


def if_neuron(*, decay_input: bool = True) -> nn.Module:
    """An integrate-and-fire neuron (no leak: H = V + X, so ``decay_input`` changes nothing)."""
    del decay_input
    return neuron.IFNode(v_reset=0.0, surrogate_function=surrogate.ATan(), detach_reset=True)


NEURONS: dict[str, NeuronFactory] = {
    "plif": plif_neuron,
    "plif_sj": plif_sj_neuron,
    "lif": lif_neuron,
    "if": if_neuron,
}
"""Neuron factories by config name (each takes ``decay_input=``)."""


def count_parameters(model: nn.Module) -> dict[str, int]:
    """Parameter counts: ``weights`` (conv/linear), ``batchnorm``, ``neuron`` (PLIF w), ``other``, ``total``."""
    out = {"weights": 0, "batchnorm": 0, "neuron": 0, "other": 0}
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if isinstance(module, nn.Conv2d | nn.Conv3d | nn.Linear | nn.ConvTranspose2d):
                key = "weights"
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                key = "batchnorm"
            elif isinstance(module, neuron.BaseNode):
                key = "neuron"
            else:
                key = "other"
            out[key] += p.numel()
    out["total"] = sum(out.values())
    return out


class PaperSNN(nn.Module):
    """The paper's PLIF SNN classifier (4,311,748 parameters with 21 classes at 64×64).

    ``decay_input`` selects the neurons' charge equation (module docstring); it is passed to
    ``neuron_factory`` for every spiking layer."""

    output_kind: Literal["rate", "logits"] = "rate"

    def __init__(
        self,
        *,
        num_classes: int = 21,
        in_channels: int = 2,
        size: int = 64,
        channels: int = 32,
        hidden: int = 512,
        votes_per_class: int = 10,
        dropout: float = 0.2,
        neuron_factory: NeuronFactory = plif_neuron,
        decay_input: bool = True,
    ) -> None:
        super().__init__()
        if size % 4:
            raise ValueError(f"size must be a multiple of 4 (two 2×2 pools), got {size}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.size = size
        self.decay_input = decay_input
        flat = channels * (size // 4) ** 2

        def spiking() -> nn.Module:
            return neuron_factory(decay_input=decay_input)

        self.net = nn.Sequential(
            layer.Conv2d(in_channels, channels, 3, padding=1, bias=False),
            layer.BatchNorm2d(channels),
            spiking(),
            layer.MaxPool2d(2),
            layer.Conv2d(channels, channels, 3, padding=1, bias=False),
            layer.BatchNorm2d(channels),
            spiking(),
            layer.MaxPool2d(2),
            layer.Flatten(),
            layer.Dropout(dropout),
            layer.Linear(flat, hidden, bias=False),
            spiking(),
            layer.Dropout(dropout),
            layer.Linear(hidden, num_classes * votes_per_class, bias=False),
            spiking(),
            layer.VotingLayer(votes_per_class),
        )
        self._mode: Literal["m", "s"] = "m"
        functional.set_step_mode(self.net, "m")

    # -- multi-step (training, offline evaluation) -------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Votes per time step ``[T, N, K]`` for a sequence ``[T, N, C, H, W]`` (fresh state)."""
        if x.ndim != 5:
            raise ValueError(f"expected [T, N, C, H, W], got shape {tuple(x.shape)}")
        self._set_mode("m")
        functional.reset_net(self.net)
        out: torch.Tensor = self.net(x)
        functional.reset_net(self.net)
        return out

    def rates(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Votes averaged over time ``[N, K]``; with ``lengths`` only over each clip's valid steps."""
        return time_average(self(x), lengths)

    # -- single-step (streaming) -------------------------------------------------------------
    def step(self, x: torch.Tensor) -> torch.Tensor:
        """Votes ``[N, K]`` for one slice ``[N, C, H, W]``, keeping membrane state."""
        if x.ndim != 4:
            raise ValueError(f"expected [N, C, H, W], got shape {tuple(x.shape)}")
        if self._mode != "s":
            self._set_mode("s")
            functional.reset_net(self.net)
        out: torch.Tensor = self.net(x)
        return out

    def reset(self) -> None:
        """Forget the membrane state (call between sequences when streaming)."""
        functional.reset_net(self.net)

    def _set_mode(self, mode: Literal["m", "s"]) -> None:
        if mode != self._mode:
            functional.set_step_mode(self.net, mode)
            self._mode = mode


def time_average(votes: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of ``[T, N, K]`` over T; with ``lengths`` [N], over the first ``lengths[n]`` steps."""
    if lengths is None:
        return votes.mean(0)
    t = votes.shape[0]
    steps = torch.arange(t, device=votes.device).unsqueeze(1)  # [T, 1]
    mask = (steps < lengths.to(votes.device).unsqueeze(0)).to(votes.dtype)  # [T, N]
    total = (votes * mask.unsqueeze(-1)).sum(0)
    return total / mask.sum(0).clamp_min(1).unsqueeze(-1)
