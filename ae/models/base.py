"""What every architecture is: an `Autoencoder` built from a dataclass config, and the layer helpers they share."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

RECONSTRUCTION_LOSSES = ("mse", "bce", "l1")


def reconstruction_loss(name: str, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-pixel loss, always in fp32 and outside autocast (BCE is unsafe under CUDA autocast)."""
    with torch.autocast(output.device.type, enabled=False):
        output, target = output.float(), target.float()
        if name == "mse":
            return F.mse_loss(output, target)
        if name == "l1":
            return F.l1_loss(output, target)
        if name == "bce":
            return F.binary_cross_entropy(output.clamp(1e-6, 1 - 1e-6), target)
    raise ValueError(f"unknown loss {name!r}; known: {', '.join(RECONSTRUCTION_LOSSES)}")


class Autoencoder(nn.Module):
    """encode: (B, 1, 28, 28) in [0, 1] -> (B, latent_dim); decode: back, in [0, 1].

    Subclasses set `Config` (a dataclass with `latent_dim` and `image_size`) and declare what they
    can do: `losses` they train with (the first is their default), `closed_form` (trained by one
    `fit` on the whole training set, not by gradient steps), `generative` (`sample` draws new digits).
    """

    name = "?"
    Config: type = object
    losses: tuple[str, ...] = RECONSTRUCTION_LOSSES
    closed_form = False
    generative = False

    def __init__(self, config):
        super().__init__()
        self.config = config

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def image_size(self) -> int:
        return self.config.image_size

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def unclamped_output(self, x: torch.Tensor) -> torch.Tensor:
        """What the reconstruction loss sees: the output before any clamping."""
        return self(x)

    def training_loss(self, x: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
        """The objective of one batch; a model with terms of its own (the VAE) overrides it."""
        return reconstruction_loss(loss, self.unclamped_output(x), target)

    def loss_and_output(self, x: torch.Tensor, target: torch.Tensor, loss: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Validation's one pass: the batch's objective and the output users see (`self(x)`)."""
        raw = self.unclamped_output(x)
        return reconstruction_loss(loss, raw, target), self.clamped(raw)

    def clamped(self, raw: torch.Tensor) -> torch.Tensor:
        """What users see of an unclamped output: itself, for a model whose last layer squashes to [0, 1]."""
        return raw

    def config_dict(self) -> dict:
        return dataclasses.asdict(self.config)


class Clamped(Autoencoder):
    """A model whose last layer does not squash to [0, 1]: it trains on its raw output, so the
    loss always has a gradient, and `decode` clamps."""

    def unclamped_decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z):
        return self.clamped(self.unclamped_decode(z))

    def unclamped_output(self, x):
        return self.unclamped_decode(self.encode(x))

    def clamped(self, raw):
        return raw.clamp(0.0, 1.0)


class _ExpELU(torch.autograd.Function):
    """ELU (alpha 1) from exp: e = exp(min(x, 0)) is both the negative side plus one and the slope
    everywhere, so the backward pass is one multiply."""

    @staticmethod
    def forward(ctx, x):
        e = x.clamp(max=0).exp()
        ctx.save_for_backward(e)
        return (e - 1) + x.clamp(min=0)  # exactly x where x > 0

    @staticmethod
    def backward(ctx, grad):
        (e,) = ctx.saved_tensors
        return grad * e


class ELU(nn.ELU):
    """`nn.ELU` computed through exp on the CPU, where ATen's vectorised expm1 makes nn.ELU many
    times slower than exp (docs/performance.md); exported to ONNX as the standard Elu."""

    def forward(self, x):
        if x.device.type != "cpu" or self.alpha != 1.0 or self.inplace or torch.onnx.is_in_onnx_export():
            return super().forward(x)
        return _ExpELU.apply(x)


@dataclasses.dataclass
class CodeConfig:
    """For models whose only setting is the code size."""

    latent_dim: int = 32
    image_size: int = 28


def pixels(image_size: int) -> int:
    return image_size * image_size


def as_image(flat: torch.Tensor, image_size: int) -> torch.Tensor:
    return flat.view(-1, 1, image_size, image_size)  # (B, H*W) -> (B, 1, H, W)


def mlp(sizes, act: type[nn.Module], dropout: float = 0.0, last_act: bool = True) -> nn.Sequential:
    """Linear layers through `sizes`, each followed by `act` (and dropout between hidden layers)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        hidden = i < len(sizes) - 2
        layers.append(nn.Linear(n_in, n_out))
        if hidden or last_act:
            layers.append(act())
        if dropout and hidden:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
