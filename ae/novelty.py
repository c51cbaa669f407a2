"""Is this a digit? An autoencoder rebuilds what looks like its training data and fails on the rest:
its reconstruction error, placed among the errors of the 10,000 test digits, is an anomaly score.

    quantiles = error_quantiles(model, test_images)   # once per model: stored in its checkpoint
    share = worse_than(quantiles, mse)                # the share of real digits rebuilt better
    verdict(share)                                    # one sentence for the page

    python -m ae.novelty [checkpoints...]             # the README's table: each model's ROC AUC

The table also scores each image by how far its code lies from the digits' codes (Mahalanobis
distance to the nearest class mean, classes fitted to 10,000 training codes with their labels),
and by either score; the meter on the Draw page uses the error alone.

The table scores 200 test digits against 200 things that are not digits, made reproducibly:
capital letters drawn in Pillow's own font (leaving out those that pass for digits), random
scribbles and simple shapes, all through the same preprocessing as a drawing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ae import checkpoints, data, evaluate, latent, models, preprocess

LETTERS = "ACEFHJKLMNPRTUVWXY"  # not O, I, S, Z, B, G, D, Q: they pass for 0, 1, 5, 2, 8, 6, 0, 9
SAMPLES = 200


def errors(model: models.Autoencoder, images: np.ndarray) -> np.ndarray:
    """Per-image MSE of the reconstructions of (N, 28, 28) images in [0, 1]."""
    x = torch.as_tensor(np.asarray(images, np.float32))[:, None]
    return (evaluate.reconstructions(model, x) - x).pow(2).flatten(1).mean(1).numpy()


QUANTILES = 1001  # the error at every 0.1% of the test digits, stored in each checkpoint's metrics


def error_quantiles(model: models.Autoencoder, images: np.ndarray) -> list[float]:
    """The reconstruction error of real digits at 0%, 0.1%, ..., 100% of them (6 significant digits)."""
    quantiles = np.quantile(errors(model, images), np.linspace(0, 1, QUANTILES))
    return [float(f"{q:.6g}") for q in quantiles]


def worse_than(quantiles, mse: float) -> float:
    """The share of real digits rebuilt better than an image with this error, in [0, 1]."""
    q = np.asarray(quantiles, np.float64)
    return float(np.interp(mse, q, np.linspace(0, 1, len(q)), left=0.0, right=1.0))


def verdict(share: float) -> str:
    """What the share means, in one line (paint.js says the same in the page)."""
    if share >= 0.9995:
        return "Worse than every real digit: this does not look like anything the model has seen."
    if share >= 0.99:
        return f"Worse than {share:.1%} of real digits: this does not look like anything the model has seen."
    if share >= 0.9:
        return f"Worse than {share:.0%} of real digits: an unusual digit, or not a digit at all."
    return f"Rebuilt as well as {1 - share:.0%} of real digits: it looks like a digit to this model."


def meter_svg(quantiles, mse: float, width: int = 600, height: int = 90, bins: int = 40) -> str:
    """The errors of real digits as a histogram on a log scale, and a marker where this one falls."""
    logs = np.log10(np.maximum(np.asarray(quantiles, np.float64), 1e-7))
    lo, hi = logs[5], max(logs[-1], np.log10(max(mse, 1e-7))) + 0.05
    counts, _ = np.histogram(np.clip(logs, lo, hi), bins=bins, range=(lo, hi))
    top, bar = max(counts.max(), 1), width / bins
    rects = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - 18 - c / top * (height - 24):.1f}" width="{bar * 0.9:.1f}" height="{c / top * (height - 24):.1f}" fill="#7c9cff"/>'
        for i, c in enumerate(counts)
    )
    x = (np.clip(np.log10(max(mse, 1e-7)), lo, hi) - lo) / (hi - lo) * width
    marker = f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{height - 18}" stroke="#ffb86b" stroke-width="3"/>'
    axis = f'<text x="0" y="{height - 4}" fill="#aaa" font-size="11">smaller error</text><text x="{width}" y="{height - 4}" fill="#aaa" font-size="11" text-anchor="end">larger error</text>'
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}">{rects}{marker}{axis}</svg>'


# ---- things that are not digits ----------------------------------------------------------------


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


def non_digits(n: int = SAMPLES, seed: int = 0) -> np.ndarray:
    """(n, 28, 28) letters, scribbles and shapes in equal parts, through ae.preprocess.to_mnist."""
    rng = np.random.default_rng(seed)

    def make(i: int) -> Image.Image:
        kind, k = i % 3, i // 3
        return letter(LETTERS[k % len(LETTERS)], rng) if kind == 0 else scribble(rng) if kind == 1 else shape(rng)

    return np.stack([preprocess.to_mnist(np.asarray(make(i))) for i in range(n)])


# ---- the code's side: how far it lies from every digit class's codes -------------------------------

CLASS_DIGITS = 10_000  # training digits the classes' codes are fitted to
REFERENCE = slice(1_000, 3_000)  # test digits the two scores are placed among (not the 200 scored)


def codes(model: models.Autoencoder, images: np.ndarray) -> np.ndarray:
    """latent.encode a thousand images at a time (a big conv model's activations stay small), in float64."""
    parts = np.array_split(images, max(1, len(images) // 1000))
    return np.concatenate([latent.encode(model, part) for part in parts]).astype(np.float64)


def code_classes(model: models.Autoencoder, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each digit class's mean code, and the inverse of the covariance they share."""
    z = codes(model, images)
    means = np.stack([z[labels == c].mean(0) for c in range(10)])
    covariance = np.cov(z - means[labels], rowvar=False).reshape(z.shape[1], z.shape[1])
    ridge = 1e-6 * max(np.trace(covariance) / len(covariance), 1e-12)  # codes with a dead number stay invertible
    return means, np.linalg.inv(covariance + ridge * np.eye(len(covariance)))


def code_distance(z: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """The Mahalanobis distance of each code to the nearest class mean."""
    d = z[:, None, :] - means[None]
    return np.sqrt(np.einsum("nkj,jl,nkl->nk", d, precision, d).min(1))


def percentile_among(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The share of the reference below each value."""
    return np.searchsorted(np.sort(reference), values) / len(reference)


def roc_auc(digit_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The chance that a non-digit scores higher than a digit (ties count half): the ROC AUC."""
    higher = (other_scores[:, None] > digit_scores[None, :]).mean()
    ties = (other_scores[:, None] == digit_scores[None, :]).mean()
    return float(higher + ties / 2)


def aucs_of(model: models.Autoencoder, data_dir=None) -> dict[str, float]:
    """ROC AUC of the error, of the code's distance to the nearest digit class, and of the larger of
    the two percentiles (each among 2,000 other test digits), on the 200 + 200 images."""
    test = data.to_float(data.load_split("test", data_dir)[0])[:, 0].numpy()
    train_x, train_y = data.load_split("train", data_dir)[:2]
    means, precision = code_classes(model, data.to_float(train_x[:CLASS_DIGITS])[:, 0].numpy(), train_y[:CLASS_DIGITS].numpy())
    sets = {"digits": test[:SAMPLES], "others": non_digits(), "reference": test[REFERENCE]}
    error = {k: errors(model, v) for k, v in sets.items()}
    distance = {k: code_distance(codes(model, v), means, precision) for k, v in sets.items()}

    def either(k):
        pe, pc = percentile_among(error[k], error["reference"]), percentile_among(distance[k], distance["reference"])
        return np.maximum(pe, pc) + 1e-3 * np.minimum(pe, pc)  # ties at the top broken by the other

    return {
        "error": roc_auc(error["digits"], error["others"]),
        "code": roc_auc(distance["digits"], distance["others"]),
        "either": roc_auc(either("digits"), either("others")),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ae.novelty", description="Each model's ROC AUC at telling digits from non-digits.")
    p.add_argument("paths", nargs="*", help="checkpoint files (default: every one in $AE_CHECKPOINT_DIR or checkpoints/)")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    paths = args.paths or checkpoints.checkpoint_files(checkpoints.default_dir())
    print(
        f"ROC AUC, {SAMPLES} test digits against {SAMPLES} letters, scribbles and shapes:\n\n"
        "| model | by its error (the meter) | by its code's distance to the nearest digit class | by either |\n|---|---|---|---|"
    )
    for path in paths:
        model, _ = checkpoints.load(path)
        auc = aucs_of(model, args.data_dir)
        print(f"| {Path(path).stem} | {auc['error']:.3f} | {auc['code']:.3f} | {auc['either']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
