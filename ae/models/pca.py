"""PCA, the linear baseline every autoencoder must beat at its own code size."""

from __future__ import annotations

import torch

from ae.models.base import Autoencoder, CodeConfig, as_image, pixels
from ae.models.registry import register, ship


@register("pca")
class Pca(Autoencoder):
    """PCA, the linear baseline: the top-k principal components of the training images."""

    Config = CodeConfig
    closed_form = True

    def __init__(self, config: CodeConfig):
        super().__init__(config)
        n = pixels(config.image_size)
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
        return as_image((z @ self.components + self.mean).clamp(0.0, 1.0), self.image_size)


for k in (2, 32, 128):
    ship(f"pca{k}", dict(model="pca", model_config={"latent_dim": k}))
