"""What the encoder sees: the feature maps of a convolutional encoder's layers for one digit.

Found by forward hooks on the modules that run inside `encode`, so every convolutional
architecture works without a case of its own: a layer is shown where an activation (or a pooling)
gives a (C, H, W) output (the later of two in a row of one shape), and the last such output
before the code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

SHOWN = (nn.ReLU, nn.ELU, nn.SiLU, nn.Sigmoid, nn.MaxPool2d)
MAX_CHANNELS = 16  # tiles per layer; a layer with more shows its first 16


@dataclass(frozen=True)
class FeatureMap:
    layer: str  # e.g. "3: ReLU"
    shape: tuple[int, int, int]  # (channels, height, width) of the whole output
    tiles: np.ndarray  # (min(C, 16), H, W), each channel scaled to [0, 1]


@torch.inference_mode()
def feature_maps(model: nn.Module, digit: np.ndarray) -> list[FeatureMap]:
    """The (C, H, W) outputs that `model.encode` passes through for a (28, 28) digit; [] for an
    encoder without convolutions."""
    found: list[tuple[str, nn.Module, torch.Tensor]] = []
    hooks = [
        module.register_forward_hook(lambda m, _, out, name=name: found.append((name, m, out)))
        for name, module in model.named_modules()
        if not list(module.children())
    ]
    try:
        model.eval().encode(torch.as_tensor(np.asarray(digit, np.float32))[None, None])
    finally:
        for hook in hooks:
            hook.remove()
    spatial = [(name, module, out) for name, module, out in found if out.dim() == 4 and out.shape[-1] > 1]
    chosen = [item for item in spatial if isinstance(item[1], SHOWN)]
    if spatial and (not chosen or chosen[-1][0] != spatial[-1][0]):
        chosen.append(spatial[-1])  # the last map before the code, whatever made it
    kept = [item for item, after in zip(chosen, chosen[1:] + [None]) if after is None or after[2].shape != item[2].shape]
    return [_map(name, module, out[0].float()) for name, module, out in kept]  # of a pool and an activation, the later


def _map(name: str, module: nn.Module, out: torch.Tensor) -> FeatureMap:
    tiles = out[:MAX_CHANNELS]
    lo = tiles.amin(dim=(1, 2), keepdim=True)
    hi = tiles.amax(dim=(1, 2), keepdim=True)
    scaled = (tiles - lo) / (hi - lo).clamp_min(1e-6)
    return FeatureMap(f"{name}: {type(module).__name__}", tuple(out.shape), scaled.numpy())


def mosaic(feature: FeatureMap, cell: int = 40, gap: int = 2, per_row: int = 8) -> np.ndarray:
    """A layer's tiles as one grey picture in [0, 1], `per_row` to a row, each scaled to `cell` px."""
    tiles = feature.tiles
    rows = -(-len(tiles) // per_row)
    out = np.full((rows * (cell + gap) - gap, min(len(tiles), per_row) * (cell + gap) - gap), 0.25, np.float32)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, per_row)
        h, w = tile.shape
        big = np.kron(tile, np.ones((-(-cell // h), -(-cell // w)), np.float32))[:cell, :cell]
        out[r * (cell + gap) : r * (cell + gap) + cell, c * (cell + gap) : c * (cell + gap) + cell] = big
    return out
