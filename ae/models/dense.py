"""The dense seeds: one hidden layer (seed 000), a stacked ReLU one (seed 001), sigmoid units (seed 003)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ae.models.base import Autoencoder, Clamped, CodeConfig, as_image, mlp, pixels
from ae.models.registry import register, ship


@register("dense")
class Dense(Autoencoder):
    """Seed 000's feed-forward autoencoder: 784 -> 32 (ReLU) -> 784 (sigmoid), N(0, 1/sqrt(n)) init.

    As the seed: MSE, 20 epochs, the 48k/12k split. The write-up gives no batch size; ours is 256.
    """

    Config = CodeConfig

    def __init__(self, config: CodeConfig):
        super().__init__(config)
        n = pixels(config.image_size)
        self.encoder = nn.Linear(n, config.latent_dim)
        self.decoder = nn.Linear(config.latent_dim, n)
        for layer in (self.encoder, self.decoder):  # the seed's init: N(0, 1/sqrt(n_in)), zero bias
            nn.init.normal_(layer.weight, std=layer.in_features**-0.5)
            nn.init.zeros_(layer.bias)

    def encode(self, x):
        return F.relu(self.encoder(x.flatten(1)))  # (B, 1, 28, 28) -> (B, 784) -> (B, 32)

    def decode(self, z):
        return as_image(torch.sigmoid(self.decoder(z)), self.image_size)  # (B, 32) -> (B, 1, 28, 28)


@dataclass
class StackedConfig:
    latent_dim: int = 11
    hidden: tuple[int, ...] = (512, 256, 128)
    dropout: float = 0.2
    image_size: int = 28


@register("stacked")
class Stacked(Clamped):
    """Seed 001's stacked autoencoder: 784-512-256-128-11 and back, ReLU, dropout 0.2, L1, Adam 1e-3.

    As the seed, the output layer has no activation (ours clamps it to [0, 1] in `decode`). One
    change: the seed puts a ReLU on the 11-unit code too; ours is linear, so no code unit can die
    and interpolation moves through all of it. Trained 40 epochs, not 20: with L1 it was still
    improving at 20.
    """

    Config = StackedConfig
    losses = ("l1", "mse", "bce")

    def __init__(self, config: StackedConfig):
        super().__init__(config)
        sizes = [pixels(config.image_size), *config.hidden, config.latent_dim]
        self.encoder = mlp(sizes, nn.ReLU, config.dropout, last_act=False)
        self.decoder = mlp(sizes[::-1], nn.ReLU, config.dropout, last_act=False)

    def encode(self, x):
        return self.encoder(x.flatten(1))  # (B, 784) -> (B, 11)

    def unclamped_decode(self, z):
        return as_image(self.decoder(z), self.image_size)  # (B, 11) -> (B, 1, 28, 28)


@dataclass
class DenseSigmoidConfig:
    latent_dim: int = 32
    hidden: tuple[int, ...] = (512, 256)
    image_size: int = 28


@register("dense_sigmoid")
class DenseSigmoid(Autoencoder):
    """Seed 003's dense autoencoder: sigmoid units throughout, 784-512-256-32 and back, BCE, AdamW, batch 64.

    The write-up gives no learning rate or epoch count; ours are 3e-3 and 30 epochs, because
    sigmoid units learn slowly at Adam's usual 1e-3.
    """

    Config = DenseSigmoidConfig
    losses = ("bce", "mse", "l1")

    def __init__(self, config: DenseSigmoidConfig):
        super().__init__(config)
        sizes = [pixels(config.image_size), *config.hidden, config.latent_dim]
        self.encoder = mlp(sizes, nn.Sigmoid)
        self.decoder = mlp(sizes[::-1], nn.Sigmoid)

    def encode(self, x):
        return self.encoder(x.flatten(1))  # (B, 784) -> (B, 32), in (0, 1)

    def decode(self, z):
        return as_image(self.decoder(z), self.image_size)


ship("dense", dict(model="dense", loss="mse", epochs=20, batch_size=256))
ship("stacked", dict(model="stacked", loss="l1", lr=1e-3, epochs=40))
ship("dense_sigmoid", dict(model="dense_sigmoid", loss="bce", optimizer="adamw", lr=3e-3, epochs=30, batch_size=64))
