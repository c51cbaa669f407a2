"""A variational autoencoder: codes that look like random normal numbers, so random numbers decode into digits."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ae.models.base import Autoencoder, pixels, reconstruction_loss
from ae.models.registry import register, ship


@dataclass
class VaeConfig:
    latent_dim: int = 16
    width: int = 32
    image_size: int = 28


@register("vae")
class Vae(Autoencoder):
    """A convolutional variational autoencoder (Kingma and Welling): encode gives the mean, sample() new digits."""

    Config = VaeConfig
    losses = ("elbo",)  # binary cross-entropy plus the KL divergence to N(0, I)
    generative = True

    def __init__(self, config: VaeConfig):
        super().__init__(config)
        w, s = config.width, config.image_size // 4
        self.code_shape = (2 * w, s, s)
        flat = 2 * w * s * s
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1),
            nn.ReLU(),  # (B, 32, 14, 14)
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1),
            nn.ReLU(),  # (B, 64, 7, 7)
            nn.Flatten(),  # (B, 3136)
        )
        self.to_stats = nn.Linear(flat, 2 * config.latent_dim)  # mean and log-variance
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, flat),
            nn.ReLU(),
            nn.Unflatten(1, self.code_shape),  # (B, 64, 7, 7)
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1),
            nn.ReLU(),  # (B, 32, 14, 14)
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1),
            nn.Sigmoid(),  # (B, 1, 28, 28)
        )

    def stats(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.to_stats(self.features(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def encode(self, x):
        return self.stats(x)[0]

    def decode(self, z):
        return self.decoder(z)

    def training_loss(self, x, target, loss="elbo"):
        """The negative ELBO per pixel: BCE of a sampled reconstruction plus the KL term spread over the pixels."""
        mu, logvar = self.stats(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).float().sum(1).mean()
        return reconstruction_loss("bce", self.decode(z), target) + kl / pixels(self.image_size)

    def loss_and_output(self, x, target, loss="elbo"):
        return self.training_loss(x, target, loss), self(x)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.latent_dim, generator=generator).to(self.to_stats.weight.device)
        return self.decode(z)


ship("vae16", dict(model="vae", model_config={"latent_dim": 16}, epochs=20))
