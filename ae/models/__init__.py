"""Every architecture, one registry, one encode/decode API.

    model = build("conv", latent_dim=32)
    z = model.encode(x)        # (B, 1, 28, 28) in [0, 1] -> (B, latent_dim), always flat
    x_hat = model.decode(z)    # (B, latent_dim) -> (B, 1, 28, 28) in [0, 1]

A flat latent for every model is what lets interpolation, the code bars and the map treat all of
them alike. A file per family; adding an architecture is one file imported at the bottom here.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools

import torch
from torch import nn

from ae.models.base import RECONSTRUCTION_LOSSES, Autoencoder, Clamped, reconstruction_loss
from ae.models.registry import Recipe, architectures, register, ship, shipped

MAX_LATENT = 784  # a free code as large as the image; beyond it nothing is compressed
MAX_PARAMETERS = 64_000_000  # 256 MB of float32, the most a checkpoint may hold (checkpoints.MAX_BYTES)

__all__ = [
    "RECONSTRUCTION_LOSSES",
    "Autoencoder",
    "Clamped",
    "Recipe",
    "available",
    "build",
    "count_parameters",
    "device_of",
    "for_inference",
    "model_class",
    "origin",
    "reconstruction_loss",
    "register",
    "settings",
    "ship",
    "shipped",
]


def available() -> list[str]:
    return list(architectures())


def model_class(name: str) -> type[Autoencoder]:
    try:
        return architectures()[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(available())}") from None


def settings(name: str) -> dict:
    """The settings a user may change (config fields of a plain number type), with their defaults."""
    fields = dataclasses.fields(model_class(name).Config)
    return {f.name: f.default for f in fields if f.name != "image_size" and type(f.default) in (int, float)}


def build(name: str, **config) -> Autoencoder:
    """A fresh model of architecture `name`; unknown or fixed config keys raise ValueError."""
    cls = model_class(name)
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    unknown = set(config) - fields
    if unknown:
        fixed = "; its code size is fixed by the architecture" if "latent_dim" in unknown else ""
        raise ValueError(f"{name} takes no {', '.join(sorted(unknown))}{fixed} (it takes {', '.join(sorted(fields))})")
    size = config.get("latent_dim", 1)
    if not isinstance(size, int) or not 1 <= size <= MAX_LATENT:
        raise ValueError(f"the code size must be a whole number from 1 to {MAX_LATENT}, not {size!r}")
    with torch.device("meta"):  # sized without allocating: a huge config is refused, not attempted
        size = count_parameters(cls(cls.Config(**config)))
    if size > MAX_PARAMETERS:
        raise ValueError(f"this {name} would have {size:,} parameters; the most allowed is {MAX_PARAMETERS:,}")
    return cls(cls.Config(**config))


def origin(name: str) -> str:
    """One line on where an architecture comes from: the first line of its docstring."""
    return (model_class(name).__doc__ or name).strip().splitlines()[0]


def count_parameters(model: nn.Module) -> int:
    """Learned numbers: trainable parameters, or for a closed-form model (PCA) its fitted buffers."""
    params = sum(p.numel() for p in model.parameters())
    return params or sum(b.numel() for b in model.buffers())


def device_of(model: nn.Module) -> torch.device:
    return next(itertools.chain(model.parameters(), model.buffers())).device


def for_inference(model: Autoencoder) -> Autoencoder:
    """An eval-mode copy for the app, faster for one image: every BatchNorm folded into the
    convolution before it, and channels-last weights. Outputs equal to 1e-5 (tests/test_models.py)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = copy.deepcopy(model).eval()
    for seq in model.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        for i in range(len(seq) - 1):
            conv, norm = seq[i], seq[i + 1]
            if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(norm, nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(conv, norm, transpose=isinstance(conv, nn.ConvTranspose2d))
                seq[i + 1] = nn.Identity()
    return model.to(memory_format=torch.channels_last)


# The families register themselves on import, in the order the app lists them.
from ae.models import conv_seeds, dense, ours, pca, vae  # noqa: E402, F401
