"""How close a picture is to another, in numpy: the figures the pages show beside a
reconstruction (ae/evaluate.py scores whole test sets with torch, by the same definitions)."""

from __future__ import annotations

import numpy as np

MIN_MSE = 1e-10  # a perfect copy scores 100 dB, not infinity


def mse(a, b) -> float:
    """Mean squared difference per pixel of two pictures (arrays or tensors, pixels in [0, 1])."""
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def psnr_of_mse(value):
    """Peak signal-to-noise ratio in dB for a peak of 1, of one MSE or an array of them."""
    out = 10 * np.log10(1.0 / np.maximum(value, MIN_MSE))
    return float(out) if np.ndim(out) == 0 else out


def psnr(a, b) -> float:
    return psnr_of_mse(mse(a, b))


def mean_psnr(x_hat, x) -> float:
    """The mean per-image PSNR of (N, H, W) arrays."""
    per_image = ((np.asarray(x_hat, np.float64) - np.asarray(x, np.float64)) ** 2).reshape(len(x), -1).mean(1)
    return float(np.mean(psnr_of_mse(per_image)))
