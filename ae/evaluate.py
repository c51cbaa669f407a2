"""Metrics of a model's reconstructions: MSE, PSNR and BCE, a model's scores on the test digits
(clean or cleaning noise), and PCA, the linear baseline. The primitives: what a checkpoint stores
and the README's table are ae/results.py.

    evaluate.metrics(model, test_images)                       # {"mse", "psnr", "bce"}
    evaluate.metrics(model, test_images, "gaussian", 0.4)      # cleaning noise, with input_psnr
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from ae import data, models, quality
from ae.quality import MIN_MSE, mse, psnr  # noqa: F401  (the scores' definitions, one home)

NOISE_SEED = 1234  # the same noisy test set for every model
SPOT_CHECK = 1000  # the first test digits, scored apart so a quick test can check a file's metrics


def psnr_of_mse(value):
    """Peak signal-to-noise ratio in dB for a peak of 1; a float, or a tensor elementwise."""
    if isinstance(value, torch.Tensor):
        return 10 * torch.log10(1.0 / value.clamp_min(MIN_MSE))
    return quality.psnr_of_mse(value)


@torch.inference_mode()
def reconstructions(model: models.Autoencoder, x: torch.Tensor, batch_size: int = 100, raw: bool = False) -> torch.Tensor:
    """Float images (N, 1, 28, 28) -> what the model rebuilds of them (`raw`: before any clamping),
    in batches, in eval mode. Batches of 100 keep a conv net's activations in the CPU's cache:
    quicker than 1,000, and the same results to the bit."""
    model.eval()
    device = models.device_of(model)
    run = model.unclamped_output if raw else model
    return torch.cat([run(chunk.to(device)).float().cpu() for chunk in x.split(batch_size)])


def per_image_mse(x_hat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) mean squared error of each image."""
    return (x_hat - target).pow(2).flatten(1).mean(1)


def scores(x_hat: torch.Tensor, target: torch.Tensor) -> dict:
    """Per-pixel MSE, mean per-image PSNR (dB, peak 1) and BCE in nats per pixel."""
    per_image = per_image_mse(x_hat, target)
    bce = F.binary_cross_entropy(x_hat.clamp(1e-6, 1 - 1e-6), target)
    return {"mse": per_image.mean().item(), "psnr": psnr_of_mse(per_image).mean().item(), "bce": bce.item()}


def metrics(
    model: models.Autoencoder,
    images: torch.Tensor,
    noise: str = "none",
    level: float = 0.0,
    seed: int = NOISE_SEED,
    rebuilt: torch.Tensor | None = None,
) -> dict:
    """Scores of a model on uint8 images; with noise, of its reconstruction of the noisy input
    against the clean digit, and `input_psnr` of the noisy input itself for comparison.
    `rebuilt`: the clean images' reconstructions, where the caller has them already."""
    clean = data.to_float(images)
    if noise == "none" or level <= 0:
        out = scores(reconstructions(model, clean) if rebuilt is None else rebuilt, clean)
        if isinstance(model, models.Clamped):  # its own loss saw the raw output: the seeds' figures are of that
            out["raw_mse"] = (reconstructions(model, clean, raw=True) - clean).pow(2).mean().item()
        return out
    noisy = data.add_noise(clean, noise, level, torch.Generator().manual_seed(seed))
    out = scores(reconstructions(model, noisy), clean)
    out.update(noise=noise, level=level, input_psnr=scores(noisy, clean)["psnr"])
    return out


@functools.lru_cache(maxsize=1)
def pca_basis(data_dir: str | None = None) -> models.Pca:
    """PCA with every component, fit on the 48k training split once per process."""
    train, _ = data.load_split("train", data_dir)
    return models.build("pca", latent_dim=784).fit(data.to_float(train))


def pca_model(basis: models.Pca, k: int) -> models.Pca:
    """The first k components of a full basis."""
    k = min(k, basis.components.shape[0])
    model = models.build("pca", latent_dim=k)
    model.mean.copy_(basis.mean)
    model.components.copy_(basis.components[:k])
    return model.eval()


def pca(latent_dim: int, data_dir: str | None = None) -> models.Pca:
    """PCA with k components fit on the 48k training split (one eigendecomposition for every k)."""
    return pca_model(pca_basis(str(data_dir) if data_dir else None), latent_dim)
