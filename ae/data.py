"""MNIST held in memory as one uint8 tensor (ae/mnist.py reads it); batches, noise and augmentation on whole batches.

Nothing here runs per sample in Python: a batch is an index slice of the in-memory tensor, and
noise and augmentation draw their random numbers for the whole batch at once.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from ae import mnist
from ae.mnist import RAW_FILES, MnistMissingError, digits, missing_message, mnist_available, resolve_data_dir  # noqa: F401  (the training side's names)
from ae.noise import MASK_CELLS, MIXED, NOISE_KINDS


def load_mnist(train: bool, data_dir=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 (N, 1, 28, 28), labels int64 (N,)) over ae.mnist's arrays, read once per
    process and shared by every caller: treat them as read-only."""
    images, labels = mnist.load(train, data_dir)
    return _tensor(images).unsqueeze(1), _tensor(labels)


def _tensor(a: np.ndarray) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the arrays are read-only, and so are these tensors
        return torch.from_numpy(a)


def split_indices() -> tuple[torch.Tensor, torch.Tensor]:
    """(train_idx, val_idx) of the training set: 48k / 12k (ae.mnist.split_indices)."""
    return tuple(torch.from_numpy(idx) for idx in mnist.split_indices())


def load_split(split: str, data_dir=None) -> tuple[torch.Tensor, torch.Tensor]:
    """'train' (48k), 'val' (12k) or 'test' (10k) as (images uint8 (N, 1, 28, 28), labels)."""
    images, labels = mnist.load_split(split, data_dir)
    return _tensor(images).unsqueeze(1), _tensor(labels)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [0, 1]."""
    return images.float().div_(255.0)


def batch(
    x_u8: torch.Tensor, generator: torch.Generator, noise: str = "none", level: float = 0.0, augmented: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """(model input, clean target) of a uint8 batch: augmentation, then noise; channels-last on the CPU."""
    target = to_float(x_u8)
    if target.device.type == "cpu":
        target = target.contiguous(memory_format=torch.channels_last)
    if augmented:
        target = augment(target, generator)
    if noise != "none" and level > 0:
        return add_noise(target, noise, level, generator), target
    return target, target


def batch_indices(n: int, batch_size: int, generator: torch.Generator | None = None, shuffle=True):
    """Index tensors covering range(n) in batches; a trailing batch of one is dropped (batch norm)."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    chunks = list(order.split(batch_size))
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks.pop()
    return chunks


# ---- noise ------------------------------------------------------------------------------------


def add_noise(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None):
    """A noisy copy of x (B, 1, H, W) in [0, 1]; deterministic given the generator.

    gaussian: x + level * N(0, 1), clipped; salt_pepper: a fraction `level` of pixels set to 0 or 1;
    mask: square patches covering a fraction `level` set to 0; mixed: per image a random kind and
    a random level in [0, level].
    """
    if kind == "none" or level <= 0:
        return x.clone()
    if not 0 <= level <= 1:
        raise ValueError(f"noise level must be in [0, 1], got {level}")
    b = x.shape[0]
    if kind == MIXED:
        levels = torch.rand(b, generator=generator, device=x.device) * level
        choice = torch.randint(len(NOISE_KINDS), (b,), generator=generator, device=x.device)
        out = x.clone()
        for i, k in enumerate(NOISE_KINDS):  # three whole-batch passes, one per kind
            noisy = _NOISE[k](x, levels, generator)
            out = torch.where((choice == i).view(b, 1, 1, 1), noisy, out)
        return out
    if kind not in _NOISE:
        raise ValueError(f"unknown noise kind {kind!r}; choose from {', '.join(NOISE_KINDS + (MIXED,))}")
    return _NOISE[kind](x, torch.full((b,), float(level), device=x.device), generator)


def _gaussian(x, levels, g):
    noise = torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype)
    return (x + levels.view(-1, 1, 1, 1) * noise).clamp_(0.0, 1.0)


def _salt_pepper(x, levels, g):
    hit = torch.rand(x.shape, generator=g, device=x.device) < levels.view(-1, 1, 1, 1)
    salt = (torch.rand(x.shape, generator=g, device=x.device) < 0.5).to(x.dtype)
    return torch.where(hit, salt, x)


def _mask(x, levels, g):
    b, _, h, w = x.shape
    cells = MASK_CELLS * MASK_CELLS
    hidden = (levels * cells).round().view(b, 1)  # exactly this many cells per image
    rank = torch.rand(b, cells, generator=g, device=x.device).argsort(dim=1).argsort(dim=1)
    keep = (rank >= hidden).to(x.dtype).view(b, 1, MASK_CELLS, MASK_CELLS)
    keep = F.interpolate(keep, size=(h, w), mode="nearest")  # (B, 1, 7, 7) -> (B, 1, H, W)
    return x * keep


_NOISE = {"gaussian": _gaussian, "salt_pepper": _salt_pepper, "mask": _mask}


# ---- augmentation -----------------------------------------------------------------------------


def augment(
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    degrees: float = 10.0,
    distortion: float = 0.4,
    p_perspective: float = 0.5,
) -> torch.Tensor:
    """Random rotation (+-degrees) then random perspective, a different draw for every image.

    The same warps as torchvision.transforms.v2's RandomRotation and RandomPerspective (a test
    checks them against v2's functional ops), but those draw one set of parameters per call, so a
    whole batch would turn the same way: here each image gets its own, in one grid_sample.
    """
    b, _, h, w = x.shape
    dev = x.device
    angle = (torch.rand(b, generator=generator, device=dev) * 2 - 1) * degrees
    rot = rotation_matrix(angle, h, w)  # output -> rotated-image coordinates
    ends = perspective_endpoints(b, h, w, distortion, generator, dev)
    apply = torch.rand(b, generator=generator, device=dev) < p_perspective
    starts = _corners(h, w, dev).expand(b, 4, 2)
    ends = torch.where(apply.view(b, 1, 1), ends, starts)
    persp = perspective_matrix(starts, ends)  # output -> pre-perspective coordinates
    return warp(x, rot @ persp)


def _corners(h: int, w: int, device) -> torch.Tensor:
    return torch.tensor([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=torch.float64, device=device)


def rotation_matrix(angle_deg: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(B,) angles, counter-clockwise as torchvision's rotate -> (B, 3, 3) inverse maps in pixel space."""
    a = torch.deg2rad(angle_deg.double())
    cos, sin = a.cos(), a.sin()
    cx, cy = w / 2, h / 2
    m = torch.zeros(len(a), 3, 3, dtype=torch.float64, device=angle_deg.device)
    # Maps an output pixel back to its source: p -> c + R (p - c); checked against v2.functional.rotate.
    m[:, 0, 0], m[:, 0, 1] = cos, -sin
    m[:, 1, 0], m[:, 1, 1] = sin, cos
    m[:, 0, 2] = cx - cos * cx + sin * cy
    m[:, 1, 2] = cy - sin * cx - cos * cy
    m[:, 2, 2] = 1
    return m


def perspective_endpoints(b, h, w, distortion, generator, device) -> torch.Tensor:
    """Corner displacements drawn as torchvision's RandomPerspective draws them: (B, 4, 2)."""
    dx, dy = int(distortion * (w // 2)), int(distortion * (h // 2))

    def shift(most: int) -> torch.Tensor:
        return torch.randint(0, most + 1, (b,), generator=generator, device=device).double()

    x0, y0, x1, y1, x2, y2, x3, y3 = (shift(d) for d in (dx, dy) * 4)
    return torch.stack(
        [
            torch.stack([x0, y0], 1),
            torch.stack([w - 1 - x1, y1], 1),
            torch.stack([w - 1 - x2, h - 1 - y2], 1),
            torch.stack([x3, h - 1 - y3], 1),
        ],
        1,
    )


def perspective_matrix(starts: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
    """Homographies (B, 3, 3) taking each output point `ends` back to its source `starts`."""
    b = starts.shape[0]
    x, y = ends[..., 0], ends[..., 1]  # (B, 4)
    u, v = starts[..., 0], starts[..., 1]
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], -1)  # (B, 4, 8)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], -1)
    a = torch.cat([rows_u, rows_v], 1)  # (B, 8, 8)
    rhs = torch.cat([u, v], 1).unsqueeze(-1)  # (B, 8, 1)
    coeffs = torch.linalg.solve(a, rhs).squeeze(-1)  # (B, 8)
    return torch.cat([coeffs, torch.ones(b, 1, dtype=coeffs.dtype, device=coeffs.device)], 1).view(b, 3, 3)


def warp(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Sample x (B, C, H, W) at m @ [px, py, 1] for every output pixel centre (bilinear, zeros outside)."""
    b, _, h, w = x.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float64, device=x.device) + 0.5,
        torch.arange(w, dtype=torch.float64, device=x.device) + 0.5,
        indexing="ij",
    )
    pts = torch.stack([xs, ys, torch.ones_like(xs)], -1).view(1, h * w, 3)  # (1, HW, 3)
    src = pts @ m.transpose(1, 2)  # (B, HW, 3)
    src = src[..., :2] / src[..., 2:]
    grid = torch.stack([src[..., 0] / w * 2 - 1, src[..., 1] / h * 2 - 1], -1)  # align_corners=False
    grid = grid.view(b, h, w, 2).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
