"""Things that are not digits, made reproducibly, for scoring "is this a digit?" (ae.novelty):
capital letters drawn in Pillow's own font (leaving out those that pass for digits), random
scribbles and simple shapes, all through the same preprocessing as a drawing."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from importlib import metadata
from pathlib import Path

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


# ---- drawn with a pen: strokes, not a font --------------------------------------------------------

# Each figure as strokes in a unit box (x right, y down), as a hand draws it on the Draw page: the
# font set's letters (LETTERS), and shapes.
PEN_LETTERS = {
    "A": [[(0.15, 1), (0.5, 0), (0.85, 1)], [(0.3, 0.6), (0.7, 0.6)]],
    "C": [[(0.85, 0.15), (0.55, 0), (0.25, 0.1), (0.1, 0.5), (0.25, 0.9), (0.55, 1), (0.85, 0.85)]],
    "E": [[(0.8, 0), (0.2, 0), (0.2, 1), (0.8, 1)], [(0.2, 0.5), (0.7, 0.5)]],
    "F": [[(0.8, 0), (0.2, 0), (0.2, 1)], [(0.2, 0.5), (0.7, 0.5)]],
    "H": [[(0.2, 0), (0.2, 1)], [(0.8, 0), (0.8, 1)], [(0.2, 0.5), (0.8, 0.5)]],
    "K": [[(0.2, 0), (0.2, 1)], [(0.8, 0), (0.2, 0.55), (0.8, 1)]],
    "M": [[(0.1, 1), (0.15, 0), (0.5, 0.6), (0.85, 0), (0.9, 1)]],
    "N": [[(0.2, 1), (0.2, 0), (0.8, 1), (0.8, 0)]],
    "P": [[(0.2, 1), (0.2, 0), (0.65, 0.05), (0.8, 0.25), (0.65, 0.45), (0.2, 0.5)]],
    "R": [[(0.2, 1), (0.2, 0), (0.65, 0.05), (0.8, 0.25), (0.65, 0.45), (0.2, 0.5), (0.8, 1)]],
    "T": [[(0.1, 0), (0.9, 0)], [(0.5, 0), (0.5, 1)]],
    "U": [[(0.15, 0), (0.15, 0.7), (0.35, 1), (0.65, 1), (0.85, 0.7), (0.85, 0)]],
    "V": [[(0.1, 0), (0.5, 1), (0.9, 0)]],
    "W": [[(0.05, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (0.95, 0)]],
    "X": [[(0.15, 0), (0.85, 1)], [(0.85, 0), (0.15, 1)]],
    "Y": [[(0.1, 0), (0.5, 0.5), (0.9, 0)], [(0.5, 0.5), (0.5, 1)]],
    "J": [[(0.75, 0), (0.75, 0.75), (0.55, 1), (0.3, 1), (0.15, 0.8)]],
    "L": [[(0.25, 0), (0.25, 1), (0.8, 1)]],
}
PEN_SHAPES = {
    "square": [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]],
    "triangle": [[(0.5, 0), (1, 1), (0, 1), (0.5, 0)]],
    "star": [[(0.5, 0), (0.8, 1), (0.0, 0.35), (1.0, 0.35), (0.2, 1), (0.5, 0)]],
    "plus": [[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]],
    "arrow": [[(0, 0.5), (1, 0.5)], [(0.65, 0.15), (1, 0.5), (0.65, 0.85)]],
    "heart": [[(0.5, 1), (0.05, 0.45), (0.1, 0.1), (0.35, 0.0), (0.5, 0.25), (0.65, 0.0), (0.9, 0.1), (0.95, 0.45), (0.5, 1)]],
    "smile": [
        [(0.1, 0.5), (0.2, 0.15), (0.5, 0), (0.8, 0.15), (0.9, 0.5), (0.8, 0.85), (0.5, 1), (0.2, 0.85), (0.1, 0.5)],
        [(0.3, 0.35), (0.32, 0.37)],
        [(0.7, 0.35), (0.72, 0.37)],
        [(0.3, 0.65), (0.5, 0.78), (0.7, 0.65)],
    ],
    "zigzag": [[(0, 0.2), (0.25, 0.8), (0.5, 0.2), (0.75, 0.8), (1, 0.2)]],
}
# Digits as strokes, for the other side of the same comparison: drawn the same way.
PEN_DIGITS = {
    0: [[(0.5, 0), (0.15, 0.2), (0.1, 0.6), (0.35, 1), (0.7, 0.95), (0.9, 0.5), (0.8, 0.1), (0.5, 0)]],
    1: [[(0.35, 0.2), (0.55, 0), (0.55, 1)]],
    2: [[(0.15, 0.2), (0.45, 0), (0.8, 0.15), (0.75, 0.45), (0.15, 1), (0.9, 1)]],
    3: [[(0.15, 0.1), (0.55, 0), (0.8, 0.2), (0.45, 0.48), (0.85, 0.7), (0.6, 1), (0.15, 0.9)]],
    4: [[(0.65, 1), (0.65, 0), (0.1, 0.7), (0.9, 0.7)]],
    5: [[(0.85, 0), (0.25, 0), (0.2, 0.45), (0.6, 0.4), (0.85, 0.65), (0.6, 1), (0.15, 0.9)]],
    6: [[(0.75, 0), (0.3, 0.3), (0.15, 0.75), (0.45, 1), (0.8, 0.8), (0.65, 0.5), (0.2, 0.65)]],
    7: [[(0.1, 0), (0.9, 0), (0.4, 1)]],
    8: [[(0.5, 0.48), (0.2, 0.25), (0.5, 0), (0.8, 0.25), (0.5, 0.48), (0.15, 0.75), (0.5, 1), (0.85, 0.75), (0.5, 0.48)]],
    9: [[(0.8, 0.35), (0.5, 0.5), (0.2, 0.3), (0.45, 0), (0.8, 0.2), (0.75, 1)]],
}
BRUSH = 20  # the Draw page's default brush, on its 280-pixel canvas


def pen(strokes, rng: np.random.Generator) -> np.ndarray:
    """Strokes drawn as a hand would on the Draw page, then ae.preprocess.to_mnist. (28, 28)."""
    return preprocess.to_mnist(pen_canvas(strokes, rng))


def pen_canvas(strokes, rng: np.random.Generator) -> np.ndarray:
    """Strokes on the Draw page's canvas as a hand would draw them: a random size, place, slant and
    wobble, the app's round brush. (280, 280) grey, white ink on black."""
    img, draw = _canvas()
    size = rng.uniform(130, 220)
    angle, shear = np.radians(rng.uniform(-12, 12)), rng.uniform(-0.25, 0.25)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array([[1, shear], [0, 1]])
    centre = 140 + rng.uniform(-25, 25, 2)
    for stroke in strokes:
        points = (np.asarray(stroke, np.float64) - 0.5) * size * np.array([rng.uniform(0.6, 0.9), 1.0])
        points = points @ turn.T + centre + rng.normal(0, 0.02 * size, (len(points), 2))
        path = [tuple(p) for p in points]
        width = int(rng.integers(BRUSH - 6, BRUSH + 6))
        draw.line(path if len(path) > 1 else path * 2, fill=255, width=width, joint="curve")
        for x, y in (path[0], path[-1]):  # the brush's round ends
            draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    return np.asarray(img)


def pen_non_digits(n: int, seed: int = 1) -> np.ndarray:
    """(n, 28, 28): letters (as the font set, leaving out those that pass for digits) and shapes, drawn with a pen."""
    rng = np.random.default_rng(seed)
    figures = [*PEN_LETTERS.values(), *PEN_SHAPES.values()]
    return np.stack([pen(figures[i % len(figures)], rng) for i in range(n)])


def pen_digits(n: int, seed: int = 2) -> np.ndarray:
    """(n, 28, 28): the ten digits in turn, drawn with a pen the same way."""
    rng = np.random.default_rng(seed)
    return np.stack([pen(PEN_DIGITS[i % 10], rng) for i in range(n)])


def _smooth(points: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Chaikin's corner cutting: a polyline made a curve."""
    for _ in range(rounds):
        cut = np.empty((2 * len(points) - 2, 2))
        cut[0::2], cut[1::2] = 0.75 * points[:-1] + 0.25 * points[1:], 0.25 * points[:-1] + 0.75 * points[1:]
        points = cut
    return points


def random_figures(n: int, seed: int = 3) -> np.ndarray:
    """(n, 28, 28): random strokes drawn with the same pen, half straight and half curved, for teaching
    the meter's network what is not a digit (ae.novelty). None of the figures the table scores: at
    least five points in all (fewer make a 1, a 7 or an L), placed at random."""
    rng = np.random.default_rng(seed)

    def figure(curved: bool) -> list:
        strokes = []
        while sum(len(s) for s in strokes) < 5:
            points = rng.uniform(0, 1, (int(rng.integers(2, 8)), 2))
            strokes.append(_smooth(points) if curved and len(points) > 2 else points)
        return strokes

    return np.stack([pen(figure(i % 2 == 1), rng) for i in range(n)])


def kept_random_figures(n: int) -> np.ndarray:
    """random_figures(n), kept on disk in the server's cache folder (ae.served.cache_dir): drawing
    the 24,000 that a model trained on every digit needs took most of a minute of each scoring.
    The file holds the longest run drawn so far, which starts with every shorter one (one random
    stream, figure after figure); its name is a key of the code and packages that draw them."""
    from ae import served

    path = served.cache_dir() / f"random-figures-{_drawing_key()}.npy.gz"
    try:
        kept = np.load(io.BytesIO(gzip.decompress(path.read_bytes())), allow_pickle=False)
        if kept.dtype == np.float32 and kept.shape[1:] == (28, 28) and len(kept) >= n and np.isfinite(kept).all():
            return kept[:n].copy()
    except (OSError, ValueError, EOFError):
        pass  # none yet, or damaged: drawn again
    made = random_figures(n)
    buffer = io.BytesIO()
    np.save(buffer, made, allow_pickle=False)
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(gzip.compress(buffer.getvalue(), 1))
        os.replace(part, path)
    except OSError:  # a read-only cache: drawn each time
        part.unlink(missing_ok=True)
    return made


def _drawing_key() -> str:
    h = hashlib.sha256()
    for module in (__file__, preprocess.__file__):
        h.update(Path(module).read_bytes())
    h.update(f"numpy {np.__version__} pillow {metadata.version('pillow')}".encode())
    return h.hexdigest()[:16]
