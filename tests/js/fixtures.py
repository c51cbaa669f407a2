"""Golden fixtures for the page's pure functions (ae/live/frontend's preprocess.js, meter.js and
latent.js): their inputs, and what Python computes from them. `python -m tests.js.fixtures` writes
tests/js/fixtures.json.gz; tests/js/pure.test.mjs (`node --test`) holds the page's functions to
it, and tests/test_js.py holds it to Python as Python is now."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ae import latent, meter, non_digits, preprocess

FILE = Path(__file__).with_name("fixtures.json.gz")
GRID = [0.0, 0.004, 0.125, 0.5, 0.615, 0.9, 0.974, 0.975, 0.985, 0.9899, 0.99, 0.9965, 0.9995, 1.0]  # shares at the words' edges
CODE_MODEL = "conv32"  # whose meter network and test codes the fixture holds


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def _array(text: str, dtype) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype)


def canvases() -> list[np.ndarray]:
    """280x280 grey canvases, white ink on black as the page draws: lines of every width, the ten
    digits, letters and shapes drawn with the Draw page's brush, and an empty one."""
    rng = np.random.default_rng(1)
    out = []
    for _ in range(16):
        img = Image.new("L", (280, 280), 0)
        pen = ImageDraw.Draw(img)
        for _ in range(rng.integers(1, 4)):
            points = [tuple(rng.uniform(5, 275, 2)) for _ in range(rng.integers(2, 6))]
            pen.line(points, fill=255, width=int(rng.integers(3, 40)), joint="curve")
        out.append(np.asarray(img))
    figures = [*non_digits.PEN_DIGITS.values(), *non_digits.PEN_LETTERS.values(), *non_digits.PEN_SHAPES.values()]
    hand = np.random.default_rng(2)
    return out + [non_digits.pen_canvas(f, hand) for f in figures] + [np.zeros((280, 280), np.uint8)]


def rgba(grey: np.ndarray) -> np.ndarray:
    """The canvas as the page reads it: opaque RGBA."""
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def inputs() -> dict:
    from ae import checkpoints, data, novelty

    rng = np.random.default_rng(0)
    paths = []
    for _ in range(5):
        a, b = rng.normal(size=(2, 16)) * rng.uniform(0.1, 5, 2)[:, None]
        paths += [[method, a.tolist(), b.tolist(), t] for method in latent.METHODS for t in (0.0, 0.3, 0.5, 1.0)]
    model, meta = checkpoints.load(Path(__file__).parents[2] / "checkpoints" / f"{CODE_MODEL}.safetensors")
    codes = np.concatenate([novelty.codes(model, data.digits("test", 20)), rng.normal(0, 3, (20, model.latent_dim))])
    return {
        "canvases": [_b64(c) for c in canvases()],
        "paths": paths,
        "words": meter.WORDS,
        "pairs": [[e, c] for e in GRID for c in [*GRID, None]],
        "quantiles": [0.1, 0.2, 0.2, 0.2, 0.5],
        "values": [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7],
        "network": meta.code_network,
        "codes": codes.tolist(),
    }


def outputs(given: dict) -> dict:
    """What Python makes of the inputs."""
    mnist = [preprocess.to_mnist(rgba(_array(c, np.uint8).reshape(280, 280))) for c in given["canvases"]]
    network = meter.CodeNetwork.of(given["network"])
    codes = np.array(given["codes"])
    return {
        "mnist": [None if m is None else _b64(m.astype(np.float32)) for m in mnist],
        "paths": [latent.METHODS[m](np.array(a), np.array(b), t).tolist() for m, a, b, t in given["paths"]],
        "verdicts": [meter.verdict(e, c) for e, c in given["pairs"]],
        "captions": [meter.meter_caption("Reconstruction error", e) for e, _ in given["pairs"]],
        "shares": [float(s) for s in meter.share_better(given["quantiles"], given["values"])],
        "logits": network.logits(codes).tolist(),
        "unsure": network.unsure(codes).tolist(),
    }


def load() -> dict:
    return json.loads(gzip.decompress(FILE.read_bytes()))


def mnist_of(text: str | None) -> np.ndarray | None:
    return None if text is None else _array(text, np.float32).reshape(28, 28)


if __name__ == "__main__":
    given = inputs()
    FILE.write_bytes(gzip.compress(json.dumps({"inputs": given, "outputs": outputs(given)}).encode(), mtime=0))
    print(f"{FILE}: {FILE.stat().st_size:,} bytes")
