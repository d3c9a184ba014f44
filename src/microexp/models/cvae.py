"""Conditional VAE reconstructing a grey frame from an accumulated event frame (paper §cVAE).

As the paper describes it (REFERENCE.md §1): the encoder q(z | x, c) takes the target frame x and
the condition c (the accumulated per-polarity event frame) stacked as channels, 2 conv + ReLU,
then FC → μ and FC → log σ² (latent 32); the decoder takes z concatenated with the *flattened*
condition, FC + transposed convs, sigmoid. Loss: MSE + KL.

Parameter count: at 64×64 with a 2-channel condition this has 135,874,753 parameters, almost all
in the decoder's first FC ((32 + 2·64·64) × 64·16·16). The paper reports 289M without giving its
resolution or widths; the flattened condition makes the count grow with the image area, so the
paper's model was presumably built at a larger input (e.g. a 1-channel condition at ~128×96 or a
wider FC). Both sizes are constructor arguments.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CVAE", "cvae_loss"]


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
