"""The noise a denoiser learns to remove: its kinds, and one digit's noise in numpy for the pages.
ae/data.py applies the same definitions to whole batches in torch (tests/test_data.py holds the two
to each other)."""

from __future__ import annotations

import numpy as np

NOISE_KINDS = ("gaussian", "salt_pepper", "mask")
MIXED = "mixed"  # each image gets its own kind and a level in [0, level]
MASK_CELLS = 7  # the masking noise hides cells of a 7x7 grid (4x4-pixel patches on MNIST)


def noisy(digit: np.ndarray, kind: str, level: float, seed: int) -> np.ndarray:
    """Training's noise (ae.data.add_noise, by the same definitions) on one (28, 28) digit,
    reproducible by seed: gaussian adds level * N(0, 1), clipped; salt_pepper sets a
    fraction `level` of pixels to 0 or 1; mask hides round(level * 49) cells of a 7x7 grid."""
    x = np.asarray(digit, np.float32)
    rng = np.random.default_rng(seed)
    if level <= 0:
        return x.copy()
    if kind == "gaussian":
        return np.clip(x + np.float32(level) * rng.standard_normal(x.shape, np.float32), 0.0, 1.0)
    if kind == "salt_pepper":
        return np.where(rng.random(x.shape) < level, (rng.random(x.shape) < 0.5).astype(np.float32), x)
    if kind == "mask":
        keep = np.ones(MASK_CELLS * MASK_CELLS, np.float32)
        keep[rng.permutation(keep.size)[: round(level * keep.size)]] = 0
        cell = -(-x.shape[0] // MASK_CELLS)
        return x * np.kron(keep.reshape(MASK_CELLS, MASK_CELLS), np.ones((cell, cell), np.float32))[: x.shape[0], : x.shape[1]]
    raise ValueError(f"unknown noise kind {kind!r}")
