"""Our own: a small convolutional autoencoder with batch norm and SiLU around a dense bottleneck, any code size."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ae.models.base import Autoencoder
from ae.models.registry import register, ship


@dataclass
class ConvConfig:
    latent_dim: int = 32
    width: int = 32
    code_channels: int = 16
    image_size: int = 28


def block(c_in: int, c_out: int, stride: int = 1, up: bool = False) -> nn.Sequential:
    """Conv (or a 2x transposed conv), batch norm, SiLU."""
    if up:
        conv = nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False)
    else:
        conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.SiLU())


@register("conv")
class Conv(Autoencoder):
    """Our own: a small convolutional autoencoder with batch norm and SiLU around a dense bottleneck, any code size."""

    Config = ConvConfig

    def __init__(self, config: ConvConfig):
        super().__init__(config)
        w, k, s = config.width, config.code_channels, config.image_size // 4
        self.code_shape = (k, s, s)
        self.encoder = nn.Sequential(
            block(1, w),  # (B, 32, 28, 28)
            block(w, 2 * w, stride=2),  # (B, 64, 14, 14)
            block(2 * w, 2 * w),
            block(2 * w, 4 * w, stride=2),  # (B, 128, 7, 7)
            block(4 * w, 4 * w),
            nn.Conv2d(4 * w, k, 1),  # (B, 16, 7, 7)
            nn.Flatten(),  # (B, 784)
            nn.Linear(k * s * s, config.latent_dim),  # (B, 32)
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, k * s * s),
            nn.Unflatten(1, self.code_shape),  # (B, 16, 7, 7)
            block(k, 4 * w),  # (B, 128, 7, 7)
            block(4 * w, 4 * w),
            block(4 * w, 2 * w, up=True),  # (B, 64, 14, 14)
            block(2 * w, 2 * w),
            block(2 * w, w, up=True),  # (B, 32, 28, 28)
            nn.Conv2d(w, 1, 3, padding=1),
            nn.Sigmoid(),  # (B, 1, 28, 28)
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


CONV = dict(model="conv", schedule="onecycle", lr=3e-3)
for k in (2, 32, 128):
    ship(f"conv{k}", dict(CONV, model_config={"latent_dim": k}, epochs=20))
ship("conv32_denoise", dict(CONV, model_config={"latent_dim": 32}, epochs=8, noise="mixed", noise_level=0.8))
