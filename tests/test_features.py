"""ae/features.py: the encoder's layer view, for every architecture."""

import numpy as np
import pytest
import torch

from ae import export, features, models, served


@pytest.mark.parametrize("name", models.available())
def test_the_feature_map_view_works_for_every_architecture(name, tmp_path):
    torch.manual_seed(0)
    model = models.build(name)
    path = export.save(tmp_path / f"{name}.safetensors", model, {})
    maps = features.feature_maps(served.load(path), np.random.default_rng(0).random((28, 28), dtype=np.float32))
    has_convolutions = any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    assert bool(maps) == has_convolutions
    for fmap in maps:
        c, h, w = fmap.shape
        assert fmap.tiles.shape == (min(c, features.MAX_CHANNELS), h, w)
        assert 0 <= fmap.tiles.min() and fmap.tiles.max() <= 1
        assert features.mosaic(fmap).ndim == 2
