"""Things that are not digits, made reproducibly, for scoring "is this a digit?" (ae.novelty):
capital letters drawn in Pillow's own font (leaving out those that pass for digits), random
scribbles and simple shapes, all through the same preprocessing as a drawing."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ae import preprocess

LETTERS = "ACEFHJKLMNPRTUVWXY"  # not O, I, S, Z, B, G, D, Q: they pass for 0, 1, 5, 2, 8, 6, 0, 9


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", (280, 280), 0)
    return img, ImageDraw.Draw(img)


def letter(char: str, rng: np.random.Generator) -> Image.Image:
    img, pen = _canvas()
    font = ImageFont.load_default(size=int(rng.integers(150, 220)))
    pen.text((140, 140), char, fill=255, font=font, anchor="mm", stroke_width=int(rng.integers(4, 12)), stroke_fill=255)
    return img.rotate(float(rng.uniform(-15, 15)), resample=Image.Resampling.BILINEAR)


def scribble(rng: np.random.Generator) -> Image.Image:
    img, pen = _canvas()
    points = [tuple(rng.uniform(20, 260, 2)) for _ in range(int(rng.integers(6, 14)))]
    pen.line(points, fill=255, width=int(rng.integers(14, 26)), joint="curve")
    return img


def shape(rng: np.random.Generator) -> Image.Image:
    img, pen = _canvas()
    a, b = rng.uniform(30, 90), rng.uniform(190, 250)
    kind = rng.integers(4)
    if kind == 0:
        pen.rectangle([a, a, b, b], fill=255)  # a filled square
    elif kind == 1:
        pen.rectangle([a, a, b, b], outline=255, width=20)  # a frame
    elif kind == 2:
        pen.polygon([(140, a), (b, b), (a, b)], outline=255, width=20)  # a triangle
    else:
        pen.line([(a, a), (b, b)], fill=255, width=20)  # a cross
        pen.line([(a, b), (b, a)], fill=255, width=20)
    return img


def non_digits(n: int, seed: int = 0) -> np.ndarray:
    """(n, 28, 28) letters, scribbles and shapes in equal parts, through ae.preprocess.to_mnist."""
    rng = np.random.default_rng(seed)

    def make(i: int) -> Image.Image:
        kind, k = i % 3, i // 3
        return letter(LETTERS[k % len(LETTERS)], rng) if kind == 0 else scribble(rng) if kind == 1 else shape(rng)

    return np.stack([preprocess.to_mnist(np.asarray(make(i))) for i in range(n)])
