"""What the encoder sees: the feature maps of a convolutional encoder's layers for one digit.

Which layers are shown is decided once, when the served form is written (ae.export.shown_layers:
where an activation or a pooling gives a (C, H, W) output, and the last such output before the
code); the served layer view gives their outputs, and here each becomes a row of tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_CHANNELS = 16  # tiles per layer; a layer with more shows its first 16


@dataclass(frozen=True)
class FeatureMap:
    layer: str  # e.g. "3: ReLU"
    shape: tuple[int, int, int]  # (channels, height, width) of the whole output
    tiles: np.ndarray  # (min(C, 16), H, W), each channel scaled to [0, 1]


def feature_maps(model, digit: np.ndarray) -> list[FeatureMap]:
    """The (C, H, W) outputs the served model's encoder passes through for a (28, 28) digit (ae.served
    ServedModel.layers); [] for an encoder without convolutions."""
    return [_map(label, out) for label, out in model.layers(digit)]


def _map(label: str, out: np.ndarray) -> FeatureMap:
    tiles = np.asarray(out[:MAX_CHANNELS], np.float32)
    lo = tiles.min(axis=(1, 2), keepdims=True)
    hi = tiles.max(axis=(1, 2), keepdims=True)
    return FeatureMap(label, tuple(out.shape), (tiles - lo) / np.maximum(hi - lo, 1e-6))


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
