"""A small SEW-ResNet (Fang et al. 2021) for 64×64 event frames — the report's model family.

The report (Mayaud & Bouchy) used spikingjelly's SEW-ResNet without stating its size; this is a
small one for 64×64 crops: a stem (conv 3×3, 32 maps, BN, spiking neuron), three stages of one
SEW basic block each (32, 64, 128 maps; stride 1, 2, 2; element-wise ADD connection, spiking
downsample path where the shape changes), global average pooling and a linear read-out whose
output is averaged over time. Built from spikingjelly ``activation_based`` layers in multi-step
mode, time-major ``[T, N, C, H, W]``, neuron type and charge equation (``decay_input``, see
:mod:`microexp.models.snn`) injectable. 307,984 parameters (7 classes).
"""

from __future__ import annotations

from typing import Literal

import torch
from spikingjelly.activation_based import functional, layer
from torch import nn

from microexp.models.snn import NeuronFactory, plif_neuron, time_average

__all__ = ["SEWBlock", "SEWResNet"]


def _conv_bn(c_in: int, c_out: int, stride: int) -> list[nn.Module]:
    return [
        layer.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        layer.BatchNorm2d(c_out),
    ]


class SEWBlock(nn.Module):
    """SEW basic block: ``SN(BN(conv(SN(BN(conv(s)))))) + shortcut(s)`` (ADD connection)."""

    def __init__(self, c_in: int, c_out: int, stride: int, neuron_factory: NeuronFactory) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn(c_in, c_out, stride),
            neuron_factory(),
            *_conv_bn(c_out, c_out, 1),
            neuron_factory(),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                layer.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                layer.BatchNorm2d(c_out),
                neuron_factory(),
            )

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(s) + self.shortcut(s)
        return out


class SEWResNet(nn.Module):
    """Small SEW-ResNet classifier; ``forward`` returns per-step outputs ``[T, N, K]``."""

    output_kind: Literal["rate", "logits"] = "logits"

    def __init__(
        self,
        *,
        num_classes: int = 7,
        in_channels: int = 2,
        widths: tuple[int, ...] = (32, 64, 128),
        dropout: float = 0.2,
        neuron_factory: NeuronFactory = plif_neuron,
        decay_input: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.decay_input = decay_input

        def spiking() -> nn.Module:
            return neuron_factory(decay_input=decay_input)

        blocks: list[nn.Module] = [*_conv_bn(in_channels, widths[0], 1), spiking()]
        c = widths[0]
        for i, w in enumerate(widths):
            blocks.append(SEWBlock(c, w, 1 if i == 0 else 2, spiking))
            c = w
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            layer.AdaptiveAvgPool2d(1),
            layer.Flatten(),
            layer.Dropout(dropout),
            layer.Linear(c, num_classes),
        )
        functional.set_step_mode(self, "m")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-step outputs ``[T, N, K]`` for ``[T, N, C, H, W]`` (fresh state each call)."""
        if x.ndim != 5:
            raise ValueError(f"expected [T, N, C, H, W], got shape {tuple(x.shape)}")
        functional.reset_net(self)
        out: torch.Tensor = self.head(self.features(x))
        functional.reset_net(self)
        return out

    def rates(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Outputs averaged over (valid) time ``[N, K]``."""
        return time_average(self(x), lengths)
