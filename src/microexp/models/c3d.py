"""C3D-style 3D-CNN baseline (after Tran et al. 2015), adapted to variable clip length.

The paper states only "C3D adapted to variable clip length, 13.06M parameters". This build keeps
C3D's shape — 8 conv layers 3×3×3 (pad 1) in 5 stages with max pooling, first pool spatial only,
then fc6 / fc7 / fc8 with dropout — at half of C3D's widths (32, 64, 128², 256², 256²) for 64×64
crops. Variable length: temporal pooling uses ``ceil_mode`` (a 1-frame clip still passes) and an
adaptive average pool to ``(1, 2, 2)`` before fc6, so any T ≥ 1 works with the same weights.
fc width 2048 (a round width) puts the total near the paper's figure: with 21 classes and 2 input
channels the model has 13,253,685 parameters = 13.25 M = 12.64 Mi against the paper's "13.06M"
(its exact layer widths are not published; fc width 2008 would give 13.06 M, 2130 13.06 Mi).
Input is time-major ``[T, N, C, H, W]`` like the SNN; output logits ``[N, K]``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

__all__ = ["C3D"]

_WIDTHS = ((32,), (64,), (128, 128), (256, 256), (256, 256))


class C3D(nn.Module):
    """3D-CNN classifier; see the module docstring for the layout."""

    output_kind: Literal["rate", "logits"] = "logits"

    def __init__(
        self,
        *,
        num_classes: int = 21,
        in_channels: int = 2,
        fc_width: int = 2048,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_channels = in_channels
        layers: list[nn.Module] = []
        c = in_channels
        for stage, widths in enumerate(_WIDTHS):
            for w in widths:
                layers += [nn.Conv3d(c, w, 3, padding=1), nn.ReLU(inplace=True)]
                c = w
            kernel = (1, 2, 2) if stage == 0 else (2, 2, 2)
            layers.append(nn.MaxPool3d(kernel, kernel, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d((1, 2, 2))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c * 4, fc_width),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(fc_width, fc_width),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(fc_width, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, K]`` for a clip ``[T, N, C, H, W]``."""
        if x.ndim != 5:
            raise ValueError(f"expected [T, N, C, H, W], got shape {tuple(x.shape)}")
        out: torch.Tensor = self.classifier(self.pool(self.features(x.permute(1, 2, 0, 3, 4))))
        return out
