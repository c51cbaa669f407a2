"""What pages show of a checkpoint and take seconds to measure, measured where the checkpoint is
scored (ae.results.rescore) or exported (python -m ae.export) and shipped in its served folder:
a server reads them (ae.served) instead of measuring them among its students' reruns."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ae import checkpoints, compress, latent, mnist, served


def ship(checkpoint: str | os.PathLike, data_dir=None) -> Path:
    """Measure what pages show of a checkpoint and take seconds to measure, from its served form:
    the Compress page's quantiser and curves (ae.compress.measure) and the test digits' map of
    codes (ae.latent.DigitMap); written into that form's folder (replaced whenever the checkpoint
    is saved again, so never of another version). The file written."""
    model = served.load(checkpoint)
    images, labels = mnist.load_split("test", data_dir)
    digits = images[: latent.MAP_DIGITS].astype(np.float32) / np.float32(255.0)
    found = {
        "source": model.description["source"],
        **compress.measure(model, data_dir),
        "map": latent.DigitMap.of(latent.encode(model, digits), labels[: latent.MAP_DIGITS]).to_json(),
    }
    path = model.folder / served.MEASURES
    checkpoints.write_atomic(path, json.dumps(found, separators=(",", ":")).encode())
    return path
