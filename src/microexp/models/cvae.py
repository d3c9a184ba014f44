"""Conditional VAE reconstructing a grey frame from an accumulated event frame (paper §cVAE).

As the paper describes it (docs/references.md#paper-cvae): the encoder q(z | x, c) takes the
target frame x and the condition c (the accumulated per-polarity event frame) stacked as channels,
2 conv + ReLU, then FC → μ and FC → log σ² (latent 32); the decoder takes z concatenated with the
*flattened* condition, FC + transposed convs, sigmoid. Loss: MSE + KL.

Parameter count (:func:`cvae_parameter_count`; Mi = 2^20, :mod:`microexp.models.params`): the
decoder's first FC, ``(latent + C·H·W) × 64·(H/4)·(W/4)``, holds almost all of it, so the count
grows as ≈ 4·C·(H·W)² with C condition channels. At 64×64 with the 2-channel condition used here:
135,874,753 = 129.58 Mi. The paper's Table 6 gives "289M" (docs/references.md#paper-table6)
without its input size, condition channels or widths. With this layout, 289 Mi (the paper's unit
for the SNN) needs about 8,640 condition pixels with one channel (80×108: 288.03 Mi) or about
6,100 with two (76×80: 284.35 Mi; 80×80 gives 314.93 Mi); read as 10^6, 289 M is a 1-channel
condition at 92×92 (289.9 M) or a 2-channel one at 68×88 (288.9 M). A 2-channel 64×64 condition,
the paper's 64×64 crops, gives less than half the paper's count. Evaluation quotes the
reconstruction from the condition alone (:meth:`CVAE.reconstruct`, z = 0, the prior's mean); the
posterior one (z = μ(x, c), which sees the target) is reported beside it
(:mod:`microexp.train.reconstruct`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CVAE", "cvae_loss", "cvae_parameter_count"]


class CVAE(nn.Module):
    """Conditional VAE over ``size``×``size`` frames; condition ``[N, Cc, S, S]``, target ``[N, 1, S, S]``."""

    def __init__(
        self,
        *,
        size: int = 64,
        cond_channels: int = 2,
        target_channels: int = 1,
        latent: int = 32,
        width: int = 32,
    ) -> None:
        super().__init__()
        if size % 4:
            raise ValueError(f"size must be a multiple of 4, got {size}")
        self.size, self.latent = size, latent
        self.cond_channels, self.target_channels = cond_channels, target_channels
        s4 = size // 4
        self._hidden = (2 * width, s4, s4)
        flat = 2 * width * s4 * s4
        self.encoder = nn.Sequential(
            nn.Conv2d(target_channels + cond_channels, width, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Flatten(),
        )
        self.fc_mu = nn.Linear(flat, latent)
        self.fc_logvar = nn.Linear(flat, latent)
        self.fc_dec = nn.Linear(latent + cond_channels * size * size, flat)
        self.decoder = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, target_channels, 4, stride=2, padding=1),
            nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(torch.cat([x, c], 1))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.fc_dec(torch.cat([z, c.flatten(1)], 1)).view(-1, *self._hidden)
        out: torch.Tensor = self.decoder(h)
        return out

    def forward(
        self, x: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(reconstruction, μ, log σ²)``; z sampled in training, z = μ in eval."""
        mu, logvar = self.encode(x, c)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decode(z, c), mu, logvar

    @torch.no_grad()
    def reconstruct(self, c: torch.Tensor) -> torch.Tensor:
        """Frame from the condition alone (z = 0, the prior's mean) — what inference can do."""
        z = torch.zeros(c.shape[0], self.latent, device=c.device, dtype=c.dtype)
        return self.decode(z, c)


def cvae_parameter_count(
    *, height: int, width: int, cond_channels: int = 2, latent: int = 32, maps: int = 32
) -> int:
    """Parameters of this layout for an ``height``×``width`` frame (closed form, also non-square;
    equals ``CVAE(size=s, ...)`` for ``height == width == s``, tested)."""
    if height % 4 or width % 4:
        raise ValueError(f"height and width must be multiples of 4, got {height}x{width}")
    flat = 2 * maps * (height // 4) * (width // 4)
    encoder = (1 + cond_channels) * maps * 16 + maps + maps * 2 * maps * 16 + 2 * maps
    heads = 2 * (flat * latent + latent)
    fc_dec = (latent + cond_channels * height * width) * flat + flat
    decoder = 2 * maps * maps * 16 + maps + maps * 16 + 1
    return encoder + heads + fc_dec + decoder


def cvae_loss(
    recon: torch.Tensor,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    beta: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(total, mse, kl)``: MSE (mean over pixels) + β·KL (mean over the batch, per latent dim)."""
    mse = F.mse_loss(recon, x)
    kl = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
    return mse + beta * kl, mse, kl
