"""The convolutional seeds: the 7x7x4-code pair (seed 000), the Keras one (seed 002), batch norm and ELU (seed 004)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ae.models.base import ELU, Autoencoder, Clamped
from ae.models.registry import register, ship


@dataclass
class SmallConvConfig:
    channels: int = 16
    code_channels: int = 4
    image_size: int = 28

    @property
    def latent_dim(self) -> int:
        return self.code_channels * (self.image_size // 4) ** 2


class SmallConv(Autoencoder):
    """The encoder the two 7x7x4-code seeds share: two conv + ReLU + 2x2 max-pool stages."""

    Config = SmallConvConfig

    def __init__(self, config: SmallConvConfig):
        super().__init__(config)
        c, k = config.channels, config.code_channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 16, 14, 14)
            nn.Conv2d(c, k, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 4, 7, 7)
        )
        self.code_shape = (k, config.image_size // 4, config.image_size // 4)

    def encode(self, x):
        return self.encoder(x).flatten(1)  # (B, 4, 7, 7) -> (B, 196)

    def decode(self, z):
        return self.decoder(z.view(-1, *self.code_shape))


@register("conv_transpose")
class ConvTranspose(SmallConv):
    """Seed 000's convolutional autoencoder: a 7x7x4 code, transposed-conv decoder; MSE, 20 epochs.

    The write-up gives no batch size or optimizer: ours are 128 and Adam at 1e-3.
    """

    def __init__(self, config: SmallConvConfig):
        super().__init__(config)
        c, k = config.channels, config.code_channels
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(k, c, 2, stride=2),
            nn.ReLU(),  # (B, 16, 14, 14)
            nn.ConvTranspose2d(c, 1, 2, stride=2),
            nn.Sigmoid(),  # (B, 1, 28, 28)
        )


@register("conv_upsample")
class ConvUpsample(SmallConv):
    """Seed 000's twin with nearest-neighbour upsampling and plain convolutions in the decoder; MSE, 20 epochs."""

    def __init__(self, config: SmallConvConfig):
        super().__init__(config)
        c, k = config.channels, config.code_channels
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(k, c, 3, padding=1),
            nn.ReLU(),  # (B, 16, 14, 14)
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(c, 1, 3, padding=1),
            nn.Sigmoid(),  # (B, 1, 28, 28)
        )


@dataclass
class KerasConvConfig:
    channels: int = 32
    image_size: int = 28

    @property
    def latent_dim(self) -> int:
        return self.channels * (self.image_size // 4) ** 2


@register("keras_conv")
class KerasConv(Autoencoder):
    """Seed 002's Keras model: two 32-filter conv + pool stages, a 7x7x32 code; BCE, Adam, batch 128.

    Also its denoising variant (Gaussian noise 0.4, clipped), 50 epochs each as the seed. The seed
    validates on the test set; ours on the 12k validation split, and the test set only scores the
    result.
    """

    Config = KerasConvConfig
    losses = ("bce", "mse", "l1")

    def __init__(self, config: KerasConvConfig):
        super().__init__(config)
        c = config.channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(c, c, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 7, 7)
        )
        self.decoder = nn.Sequential(  # Keras' Conv2DTranspose(strides=2, padding="same")
            nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),  # (B, 32, 14, 14)
            nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),  # (B, 32, 28, 28)
            nn.Conv2d(c, 1, 3, padding=1),
            nn.Sigmoid(),  # (B, 1, 28, 28)
        )
        self.code_shape = (c, config.image_size // 4, config.image_size // 4)

    def encode(self, x):
        return self.encoder(x).flatten(1)  # (B, 32, 7, 7) -> (B, 1568)

    def decode(self, z):
        return self.decoder(z.view(-1, *self.code_shape))


@dataclass
class ConvBnEluConfig:
    latent_dim: int = 128
    channels: tuple[int, int, int] = (16, 32, 64)
    image_size: int = 28


@register("conv_bn_elu")
class ConvBnElu(Clamped):
    """Seed 004's autoencoder, layer for layer: conv, batch norm, max-pool and ELU to a 1x1x128 code.

    Its torchsummary table (28 layers, 194,499 parameters) is the specification, and a test checks
    every output shape against it. Its last layers are BatchNorm and ELU, so raw outputs leave
    [0, 1]: it trains on them (MSE, as the seed) and `decode` clamps. The recipe is ours: the seed
    trained 80 epochs with a changing learning rate, then 80 more with augmentation; ours is 40
    epochs of one-cycle Adam at batch 32 scoring a moving average of the weights, on the 48k split.
    """

    Config = ConvBnEluConfig

    def __init__(self, config: ConvBnEluConfig):
        super().__init__(config)
        c1, c2, c3 = config.channels
        k = config.latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.BatchNorm2d(c1),
            nn.MaxPool2d(2),
            ELU(),  # (B, 16, 14, 14)
            nn.Conv2d(c1, c2, 3),
            nn.BatchNorm2d(c2),
            nn.MaxPool2d(2),
            ELU(),  # (B, 32, 6, 6)
            nn.Conv2d(c2, c3, 3, padding=1),
            nn.BatchNorm2d(c3),
            nn.MaxPool2d(2),
            ELU(),  # (B, 64, 3, 3)
            nn.Conv2d(c3, k, 3),  # (B, 128, 1, 1)
            nn.Flatten(),  # (B, 128)
        )
        self.decoder = nn.Sequential(
            nn.Unflatten(1, (k, 1, 1)),
            nn.ConvTranspose2d(k, c3, 3),  # (B, 64, 3, 3)
            nn.Upsample(scale_factor=2),
            nn.ConvTranspose2d(c3, c2, 3, padding=1),
            nn.BatchNorm2d(c2),
            ELU(),  # (B, 32, 6, 6)
            nn.Upsample(scale_factor=2),
            nn.ConvTranspose2d(c2, c1, 3),
            nn.BatchNorm2d(c1),
            ELU(),  # (B, 16, 14, 14)
            nn.Upsample(scale_factor=2),
            nn.ConvTranspose2d(c1, 1, 3, padding=1),
            nn.BatchNorm2d(1),
            ELU(),  # (B, 1, 28, 28)
        )

    def encode(self, x):
        return self.encoder(x)

    def unclamped_decode(self, z):
        return self.decoder(z)


KERAS = dict(model="keras_conv", loss="bce", optimizer="adam", batch_size=128)
ship("conv_transpose", dict(model="conv_transpose", loss="mse", epochs=20))
ship("conv_upsample", dict(model="conv_upsample", loss="mse", epochs=20))
ship("keras_conv", dict(KERAS, epochs=50))
ship("keras_conv_denoise", dict(KERAS, epochs=50, noise="gaussian", noise_level=0.4))
ship(
    "conv_bn_elu",
    dict(model="conv_bn_elu", loss="mse", optimizer="adam", lr=6e-3, schedule="onecycle", epochs=40, batch_size=32, ema=0.999),
)
