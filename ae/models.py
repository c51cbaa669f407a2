"""Every architecture, one registry, one encode/decode API.

    model = build("conv", latent_dim=32)
    z = model.encode(x)        # (B, 1, 28, 28) in [0, 1] -> (B, latent_dim), always flat
    x_hat = model.decode(z)    # (B, latent_dim) -> (B, 1, 28, 28) in [0, 1]

A flat latent for every model is what lets interpolation, the latent bar chart and the map treat
all of them alike. `training_output` is what the training loop optimises: usually the
reconstruction itself; the VAE adds its KL term, conv_bn_elu trains on its unclamped output.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

_REGISTRY: dict[str, type[Autoencoder]] = {}
MAX_LATENT = 784  # a free code as large as the image; beyond it nothing is compressed


def register(name: str):
    def deco(cls):
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def available() -> list[str]:
    return list(_REGISTRY)


def model_class(name: str) -> type[Autoencoder]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(_REGISTRY)}") from None


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
    return cls(cls.Config(**config))


def origin(name: str) -> str:
    """One line on where an architecture comes from: the first line of its docstring."""
    return (model_class(name).__doc__ or name).strip().splitlines()[0]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


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
            conv, bn = seq[i], seq[i + 1]
            if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(bn, nn.BatchNorm2d):
                seq[i] = fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, nn.ConvTranspose2d))
                seq[i + 1] = nn.Identity()
    return model.to(memory_format=torch.channels_last)


class Autoencoder(nn.Module):
    name = "?"
    Config: type = object
    default_loss = "mse"

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

    def training_output(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(what the reconstruction loss sees, an extra loss term or None)."""
        return self(x), None

    def config_dict(self) -> dict:
        return dataclasses.asdict(self.config)


class _Clamped(Autoencoder):
    """A model whose last layer is not a squashing one: it trains on its raw output (so the loss
    always has a gradient) and `decode` clamps to [0, 1]."""

    def raw_decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z):
        return self.raw_decode(z).clamp(0.0, 1.0)

    def training_output(self, x):
        return self.raw_decode(self.encode(x)), None


def _pixels(image_size: int) -> int:
    return image_size * image_size


def _image(flat: torch.Tensor, image_size: int) -> torch.Tensor:
    return flat.view(-1, 1, image_size, image_size)  # (B, H*W) -> (B, 1, H, W)


def _mlp(sizes, act: type[nn.Module], dropout: float = 0.0, last_act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or last_act:
            layers.append(act())
            if dropout and i < len(sizes) - 2:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


# ---- dense seeds -------------------------------------------------------------------------------


@dataclass
class CodeConfig:
    """For models whose only setting is the code size."""

    latent_dim: int = 32
    image_size: int = 28


@register("dense")
class Dense(Autoencoder):
    """One hidden layer, the Keras blog's first autoencoder: 784 -> 32 (ReLU) -> 784 (sigmoid)."""

    Config = CodeConfig

    def __init__(self, config: CodeConfig):
        super().__init__(config)
        n = _pixels(config.image_size)
        self.encoder = nn.Linear(n, config.latent_dim)
        self.decoder = nn.Linear(config.latent_dim, n)
        for layer in (self.encoder, self.decoder):  # the seed's init: N(0, 1/sqrt(n_in)), zero bias
            nn.init.normal_(layer.weight, std=layer.in_features**-0.5)
            nn.init.zeros_(layer.bias)

    def encode(self, x):
        return F.relu(self.encoder(x.flatten(1)))  # (B, 1, 28, 28) -> (B, 784) -> (B, 32)

    def decode(self, z):
        return _image(torch.sigmoid(self.decoder(z)), self.image_size)


@dataclass
class StackedConfig:
    latent_dim: int = 11
    hidden: tuple[int, ...] = (512, 256, 128)
    dropout: float = 0.2
    image_size: int = 28


@register("stacked")
class Stacked(_Clamped):
    """A stacked dense autoencoder, 784-512-256-128-11 and back, ReLU and dropout 0.2, trained with L1.

    Two changes from the seed: the 11-unit code is linear (no code unit can die, and interpolation
    moves through all of it), and the output is linear, clamped by `decode`: with a sigmoid output
    the L1 loss pushes every pixel to black in the first epoch, where the sigmoid saturates and
    nothing learns again (measured: test MSE stuck at 0.113, the all-black image).
    """

    Config = StackedConfig

    def __init__(self, config: StackedConfig):
        super().__init__(config)
        sizes = [_pixels(config.image_size), *config.hidden, config.latent_dim]
        self.encoder = _mlp(sizes, nn.ReLU, config.dropout, last_act=False)
        self.decoder = _mlp(sizes[::-1], nn.ReLU, config.dropout, last_act=False)

    def encode(self, x):
        return self.encoder(x.flatten(1))  # (B, 784) -> (B, 11)

    def raw_decode(self, z):
        return _image(self.decoder(z), self.image_size)


@dataclass
class DenseSigmoidConfig:
    latent_dim: int = 32
    hidden: tuple[int, ...] = (512, 256)
    image_size: int = 28


@register("dense_sigmoid")
class DenseSigmoid(Autoencoder):
    """A deep dense autoencoder with sigmoid units throughout, 784-512-256-32 and back, trained with BCE."""

    Config = DenseSigmoidConfig
    default_loss = "bce"

    def __init__(self, config: DenseSigmoidConfig):
        super().__init__(config)
        sizes = [_pixels(config.image_size), *config.hidden, config.latent_dim]
        self.encoder = _mlp(sizes, nn.Sigmoid)
        self.decoder = _mlp(sizes[::-1], nn.Sigmoid)

    def encode(self, x):
        return self.encoder(x.flatten(1))  # (B, 784) -> (B, 32), in (0, 1)

    def decode(self, z):
        return _image(self.decoder(z), self.image_size)


# ---- convolutional seeds -----------------------------------------------------------------------


@dataclass
class SmallConvConfig:
    channels: int = 16
    code_channels: int = 4
    image_size: int = 28

    @property
    def latent_dim(self) -> int:
        return self.code_channels * (self.image_size // 4) ** 2


class _SmallConv(Autoencoder):
    """Shared encoder of the two 7x7x4-code seeds: two conv + ReLU + 2x2 max-pool stages."""

    Config = SmallConvConfig

    def __init__(self, config: SmallConvConfig):
        super().__init__(config)
        c, k = config.channels, config.code_channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 14, 14)
            nn.Conv2d(c, k, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 4, 7, 7)
        )  # fmt: skip
        self.code_shape = (k, config.image_size // 4, config.image_size // 4)

    def encode(self, x):
        return self.encoder(x).flatten(1)  # (B, 4, 7, 7) -> (B, 196)

    def decode(self, z):
        return self.decoder(z.view(-1, *self.code_shape))


@register("conv_transpose")
class ConvTranspose(_SmallConv):
    """The PyTorch tutorial's convolutional autoencoder: a 7x7x4 code, transposed-conv decoder."""

    def __init__(self, config: SmallConvConfig):
        super().__init__(config)
        c, k = config.channels, config.code_channels
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(k, c, 2, stride=2), nn.ReLU(),  # (B, 16, 14, 14)
            nn.ConvTranspose2d(c, 1, 2, stride=2), nn.Sigmoid(),  # (B, 1, 28, 28)
        )  # fmt: skip


@register("conv_upsample")
class ConvUpsample(_SmallConv):
    """Its twin with nearest-neighbour upsampling and plain convolutions in the decoder."""

    def __init__(self, config: SmallConvConfig):
        super().__init__(config)
        c, k = config.channels, config.code_channels
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(k, c, 3, padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, 1, 3, padding=1), nn.Sigmoid(),
        )  # fmt: skip


@dataclass
class KerasConvConfig:
    channels: int = 32
    image_size: int = 28

    @property
    def latent_dim(self) -> int:
        return self.channels * (self.image_size // 4) ** 2


@register("keras_conv")
class KerasConv(Autoencoder):
    """The Keras denoising tutorial's model: two 32-filter conv + pool stages, a 7x7x32 code."""

    Config = KerasConvConfig
    default_loss = "bce"

    def __init__(self, config: KerasConvConfig):
        super().__init__(config)
        c = config.channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 7, 7)
        )  # fmt: skip
        self.decoder = nn.Sequential(  # Keras' Conv2DTranspose(strides=2, padding="same")
            nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 28x28
            nn.Conv2d(c, 1, 3, padding=1), nn.Sigmoid(),
        )  # fmt: skip
        self.code_shape = (c, config.image_size // 4, config.image_size // 4)

    def encode(self, x):
        return self.encoder(x).flatten(1)  # (B, 32, 7, 7) -> (B, 1568)

    def decode(self, z):
        return self.decoder(z.view(-1, *self.code_shape))


def _conv_bn_elu(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, transpose: bool = False) -> list[nn.Module]:
    if transpose:  # kernel 4, stride 2, padding 1 doubles the size exactly
        conv = nn.ConvTranspose2d(c_in, c_out, kernel, stride=stride, padding=1)
    else:
        conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2)
    return [conv, nn.BatchNorm2d(c_out), nn.ELU()]


@dataclass
class ConvBnEluConfig:
    latent_dim: int = 128
    encoder_channels: tuple[int, ...] = (16, 32, 64)
    code_channels: int = 11
    decoder_channels: tuple[int, int, int] = (48, 26, 12)
    image_size: int = 28


@register("conv_bn_elu")
class ConvBnElu(_Clamped):
    """A convolutional autoencoder with batch norm and ELU and a 128-d code: 28 layers, 194,499 parameters.

    The seed published only its layer table (Conv2d 1->16 ... ELU-28) and parameter count; the
    decoder widths here are the ones that give that exact count. Its last layer is an ELU, so raw
    outputs leave [0, 1]: it trains on them and `decode` clamps.
    """

    Config = ConvBnEluConfig

    def __init__(self, config: ConvBnEluConfig):
        super().__init__(config)
        e1, e2, e3 = config.encoder_channels
        d1, d2, d3 = config.decoder_channels
        k = config.code_channels
        s = config.image_size // 4
        self.code_shape = (k, s, s)
        self.encoder = nn.Sequential(
            *_conv_bn_elu(1, e1),  # (B, 16, 28, 28)
            *_conv_bn_elu(e1, e2, stride=2),  # (B, 32, 14, 14)
            *_conv_bn_elu(e2, e3, stride=2),  # (B, 64, 7, 7)
            *_conv_bn_elu(e3, k, kernel=1),  # (B, 11, 7, 7)
            nn.Flatten(),  # (B, 539)
            nn.Linear(k * s * s, config.latent_dim),  # (B, 128)
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, k * s * s), nn.ELU(), nn.Unflatten(1, self.code_shape),
            *_conv_bn_elu(k, d1, kernel=4, stride=2, transpose=True),  # (B, 48, 14, 14)
            *_conv_bn_elu(d1, d2, kernel=4, stride=2, transpose=True),  # (B, 26, 28, 28)
            *_conv_bn_elu(d2, d3),  # (B, 12, 28, 28)
            nn.Conv2d(d3, 1, 3, padding=1), nn.ELU(),  # (B, 1, 28, 28), > -1
        )  # fmt: skip

    def encode(self, x):
        return self.encoder(x)

    def raw_decode(self, z):
        return self.decoder(z)


# ---- baselines and our own ---------------------------------------------------------------------


@register("pca")
class Pca(Autoencoder):
    """PCA, the linear baseline: the top-k principal components of the training images."""

    Config = CodeConfig

    def __init__(self, config: CodeConfig):
        super().__init__(config)
        n = _pixels(config.image_size)
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("components", torch.zeros(config.latent_dim, n))  # rows: unit vectors

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> Pca:
        """Fit on float images (N, 1, 28, 28) in [0, 1]: closed form, no gradient steps."""
        flat = x.flatten(1).double()
        mean = flat.mean(0)
        centred = flat - mean
        cov = centred.T @ centred / len(flat)  # (784, 784)
        _, vectors = torch.linalg.eigh(cov)  # ascending eigenvalues
        top = vectors[:, -self.latent_dim :].flip(1).T  # (k, 784), largest variance first
        self.mean.copy_(mean.float())
        self.components.copy_(top.float())
        return self

    def encode(self, x):
        return (x.flatten(1) - self.mean) @ self.components.T  # (B, 784) -> (B, k)

    def decode(self, z):
        return _image((z @ self.components + self.mean).clamp(0.0, 1.0), self.image_size)


@dataclass
class VaeConfig:
    latent_dim: int = 16
    width: int = 32
    image_size: int = 28


@register("vae")
class Vae(Autoencoder):
    """A convolutional variational autoencoder (Kingma and Welling): encode gives the mean, sample() new digits."""

    Config = VaeConfig
    default_loss = "elbo"

    def __init__(self, config: VaeConfig):
        super().__init__(config)
        w, s = config.width, config.image_size // 4
        self.code_shape = (2 * w, s, s)
        flat = 2 * w * s * s
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1), nn.ReLU(),  # (B, 32, 14, 14)
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.ReLU(),  # (B, 64, 7, 7)
            nn.Flatten(),  # (B, 3136)
        )  # fmt: skip
        self.to_stats = nn.Linear(flat, 2 * config.latent_dim)  # mean and log-variance
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, flat), nn.ReLU(), nn.Unflatten(1, self.code_shape),  # (B, 64, 7, 7)
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.ReLU(),  # (B, 32, 14, 14)
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1), nn.Sigmoid(),  # (B, 1, 28, 28)
        )  # fmt: skip

    def stats(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.to_stats(self.features(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def encode(self, x):
        return self.stats(x)[0]

    def decode(self, z):
        return self.decoder(z)

    def training_output(self, x):
        """A sampled reconstruction and the KL divergence to N(0, I), per pixel to match the recon loss."""
        mu, logvar = self.stats(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()
        return self.decode(z), kl / _pixels(self.image_size)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.latent_dim, generator=generator).to(device_of(self))
        return self.decode(z)


@dataclass
class ConvConfig:
    latent_dim: int = 32
    width: int = 32
    code_channels: int = 16
    image_size: int = 28


def _block(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, up: bool = False) -> nn.Sequential:
    if up:
        conv = nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False)
    else:
        conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
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
            _block(1, w),  # (B, 32, 28, 28)
            _block(w, 2 * w, stride=2),  # (B, 64, 14, 14)
            _block(2 * w, 2 * w),
            _block(2 * w, 4 * w, stride=2),  # (B, 128, 7, 7)
            _block(4 * w, 4 * w),
            nn.Conv2d(4 * w, k, 1),  # (B, 16, 7, 7)
            nn.Flatten(),  # (B, 784)
            nn.Linear(k * s * s, config.latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, k * s * s), nn.Unflatten(1, self.code_shape),
            _block(k, 4 * w),  # (B, 128, 7, 7)
            _block(4 * w, 4 * w),
            _block(4 * w, 2 * w, up=True),  # (B, 64, 14, 14)
            _block(2 * w, 2 * w),
            _block(2 * w, w, up=True),  # (B, 32, 28, 28)
            nn.Conv2d(w, 1, 3, padding=1), nn.Sigmoid(),
        )  # fmt: skip

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)
