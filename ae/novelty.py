"""Is this a digit? An autoencoder rebuilds what looks like its training data and fails on the rest,
and it puts what it knows near the codes of what it has seen. Two scores, each placed among the
10,000 test digits' own:

- the reconstruction error;
- the code's distance to the nearest digit class (Mahalanobis: each class's mean code and the
  spread they share, fitted to 10,000 training codes with their labels).

The meter on the Draw page shows both; the larger share speaks.

    metrics.update(measure(model, test_images))   # once per model: stored in its checkpoint
    meter = Meter.of(meta)                        # None for a checkpoint without them
    error_share, code_share = meter.shares(mse, code)
    verdict(error_share, code_share)              # one sentence (paint.js says the same in the page)

    python -m ae.novelty [checkpoints...]         # the README's table: each score's ROC AUC

The table scores 200 test digits against 200 things that are not digits (ae.non_digits).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ae import checkpoints, data, evaluate, latent, models, non_digits

SAMPLES = 200
QUANTILES = 1001  # each score at every 0.1% of the test digits, stored in each checkpoint's metrics
CLASS_DIGITS = 10_000  # training digits the classes' codes are fitted to
DIRECTIONS = 64  # at most: keeps the matrix small for a big code (1,568 numbers: 64 x 1,568, not 1,568²)
RIDGE = 1e-3  # of the mean variance, added to the classes' spread: a dead code number stays finite


def _rounded(a, digits: int = 6) -> np.ndarray:
    """Rounded to so many significant digits, as stored (the page computes with the same numbers)."""
    a = np.asarray(a, np.float64)
    return np.array([float(f"{v:.{digits}g}") for v in a.ravel()]).reshape(a.shape)


def quantiles_of(values: np.ndarray) -> list[float]:
    """The values at 0%, 0.1%, ..., 100% of them."""
    return _rounded(np.quantile(values, np.linspace(0, 1, QUANTILES))).tolist()


def errors(model: models.Autoencoder, images: np.ndarray) -> np.ndarray:
    """Per-image MSE of the reconstructions of (N, 28, 28) images in [0, 1]."""
    x = torch.as_tensor(np.asarray(images, np.float32))[:, None]
    return evaluate.per_image_mse(evaluate.reconstructions(model, x), x).numpy()


def codes(model: models.Autoencoder, images: np.ndarray) -> np.ndarray:
    """latent.encode a thousand images at a time (a big conv model's activations stay small), in float64."""
    parts = np.array_split(images, max(1, len(images) // 1000))
    return np.concatenate([latent.encode(model, part) for part in parts]).astype(np.float64)


def code_classes(model: models.Autoencoder, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each digit class's mean code, and a matrix A for which |A (z - m)| is the Mahalanobis distance
    of a code z to a class mean m in the shared spread of the classes, measured along the codes'
    DIRECTIONS main directions (along all of them in a code of up to DIRECTIONS numbers)."""
    z = codes(model, images)
    means = np.stack([z[labels == c].mean(0) for c in range(10)])
    _, eigenvectors = np.linalg.eigh(np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1]))
    main = eigenvectors[:, ::-1][:, :DIRECTIONS]  # (code numbers, directions), largest spread first
    spread = np.cov((z - means[labels]) @ main, rowvar=False).reshape(main.shape[1], main.shape[1])
    ridge = RIDGE * max(np.trace(spread) / len(spread), 1e-12)
    return means, np.linalg.inv(np.linalg.cholesky(spread + ridge * np.eye(len(spread)))) @ main.T


def class_distances(z: np.ndarray, means: np.ndarray, whitening: np.ndarray) -> np.ndarray:
    """(N, 10): the Mahalanobis distance of each code to each class mean (`whitening`: code_classes' A)."""
    d = (np.atleast_2d(z) @ whitening.T)[:, None, :] - (means @ whitening.T)[None]
    return np.sqrt((d**2).sum(-1))


def code_distance(z: np.ndarray, means: np.ndarray, whitening: np.ndarray) -> np.ndarray:
    """The Mahalanobis distance of each code to the nearest class mean."""
    return class_distances(z, means, whitening).min(1)


def measure(model: models.Autoencoder, test_images: np.ndarray, test_errors: np.ndarray | None = None, data_dir=None) -> dict:
    """What the meter places a drawing among, for a checkpoint's metrics: the test digits' errors
    (`test_errors` where the caller has them) and their codes' distances at every 0.1%, and the
    classes the distances are measured to."""
    train_x, train_y = data.load_split("train", data_dir)
    images = data.to_float(train_x[:CLASS_DIGITS])[:, 0].numpy()
    means, whitening = code_classes(model, images, train_y[:CLASS_DIGITS].numpy())
    means, whitening = _rounded(means), _rounded(whitening, 4)  # 4 digits: a percentile needs no more
    return {
        "test_error_quantiles": quantiles_of(errors(model, test_images) if test_errors is None else test_errors),
        "test_code_classes": {
            "means": means.tolist(),
            "whitening": whitening.tolist(),
            "distance_quantiles": quantiles_of(code_distance(codes(model, test_images), means, whitening)),
        },
    }


def worse_than(quantiles, value):
    """The share of real digits that score better than this value (or these values), in [0, 1]."""
    q = np.asarray(quantiles, np.float64)
    return np.interp(value, q, np.linspace(0, 1, len(q)), left=0.0, right=1.0)


@dataclass(frozen=True)
class Meter:
    """A checkpoint's "is this a digit?": its stored quantiles and, where stored, its code classes."""

    error_quantiles: np.ndarray
    classes: dict | None = None  # means, whitening, distance_quantiles (arrays)

    @classmethod
    def of(cls, meta: checkpoints.Meta) -> Meter | None:
        if not meta.error_quantiles:
            return None
        classes = {k: np.asarray(v, np.float64) for k, v in meta.code_classes.items()} or None
        return cls(np.asarray(meta.error_quantiles, np.float64), classes)

    def distance(self, code):
        return code_distance(np.asarray(code, np.float64), self.classes["means"], self.classes["whitening"])

    def nearest_class(self, codes) -> np.ndarray | None:
        """The digit class whose mean each code is nearest (in the classes' spread); None without classes."""
        if self.classes is None:
            return None
        return class_distances(np.asarray(codes, np.float64), self.classes["means"], self.classes["whitening"]).argmin(1)

    def shares(self, error, code) -> tuple:
        """(the share of test digits rebuilt better, the share whose codes lie nearer a digit class
        or None without classes), for one drawing or for arrays of them."""
        by_error = worse_than(self.error_quantiles, error)
        if self.classes is None:
            return by_error, None
        by_code = worse_than(self.classes["distance_quantiles"], self.distance(code))
        return by_error, (float(by_code[0]) if np.ndim(error) == 0 else by_code)


def for_the_page(meta: checkpoints.Meta) -> dict | None:
    """The numbers the page's meter computes with (paint.js), the same a Meter holds; None without."""
    return {"error_quantiles": meta.error_quantiles, "classes": meta.code_classes or None} if meta.error_quantiles else None


def percent(share: float) -> str:
    """'62%', or '99.7%' near the top, where a tenth of a percent matters (paint.js's percent)."""
    return f"{share:.1%}" if share >= 0.99 else f"{share:.0%}"


def verdict(error_share: float, code_share: float | None = None) -> str:
    """What the shares mean, in one line, naming the score that spoke (paint.js says the same)."""
    by_code = code_share is not None and code_share > error_share
    top = code_share if by_code else error_share
    if top >= 0.9:
        if by_code:
            than = "any real digit's" if top >= 0.9995 else f"{percent(top)} of real digits' codes"
            head = f"Its code is further from every digit class than {than}"
        else:
            than = "every real digit" if top >= 0.9995 else f"{percent(top)} of real digits"
            head = f"Rebuilt worse than {than}"
        tail = "this does not look like anything the model has seen." if top >= 0.99 else "an unusual digit, or not a digit at all."
        return f"{head}: {tail}"
    code = "" if code_share is None else f", and its code is as near a digit class as {1 - code_share:.0%} of theirs"
    return f"Rebuilt as well as {1 - error_share:.0%} of real digits{code}: it looks like a digit to this model."


def meter_caption(score: str, share: float | None) -> str:
    """The line under a meter: which score, and where this drawing's falls (paint.js says the same)."""
    if share is None:
        return f"{score}: the 10,000 test digits' (blue) and yours (orange line)"
    return f"{score}: yours (orange line) is larger than {percent(share)} of the 10,000 test digits' (blue)"


def meter_svg(quantiles, value: float, labels=("smaller error", "larger error"), width: int = 600, height: int = 70, bins: int = 40) -> str:
    """The test digits' scores as a histogram on a log scale, and a marker where this one falls."""
    logs = np.log10(np.maximum(np.asarray(quantiles, np.float64), 1e-7))
    mark = np.log10(max(value, 1e-7))
    lo, hi = logs[5], max(logs[-1], mark) + 0.05
    counts, _ = np.histogram(np.clip(logs, lo, hi), bins=bins, range=(lo, hi))
    top, bar, tall = max(counts.max(), 1), width / bins, height - 24
    rects = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - 18 - c / top * tall:.1f}" width="{bar * 0.9:.1f}" height="{c / top * tall:.1f}" fill="#7c9cff"/>'
        for i, c in enumerate(counts)
    )
    x = (np.clip(mark, lo, hi) - lo) / (hi - lo) * width
    marker = f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{height - 18}" stroke="#ffb86b" stroke-width="3"/>'
    axis = f'<text x="0" y="{height - 4}" fill="#aaa" font-size="11">{labels[0]}</text><text x="{width}" y="{height - 4}" fill="#aaa" font-size="11" text-anchor="end">{labels[1]}</text>'
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}">{rects}{marker}{axis}</svg>'


def roc_auc(digit_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The chance that a non-digit scores higher than a digit (ties count half): the ROC AUC."""
    higher = (other_scores[:, None] > digit_scores[None, :]).mean()
    ties = (other_scores[:, None] == digit_scores[None, :]).mean()
    return float(higher + ties / 2)


def aucs_of(model: models.Autoencoder, meter: Meter, data_dir=None) -> dict[str, float]:
    """ROC AUC of the error, of the code's distance to the nearest digit class, and of the meter
    (the larger of the two shares), on 200 test digits against 200 non-digits."""
    test = data.to_float(data.load_split("test", data_dir)[0][:SAMPLES])[:, 0].numpy()
    scored = {}
    for kind, images in (("digits", test), ("others", non_digits.non_digits(SAMPLES))):
        error, z = errors(model, images), codes(model, images)
        scored[kind] = {"error": error, "code": meter.distance(z), "meter": np.maximum(*meter.shares(error, z))}
    return {k: roc_auc(scored["digits"][k], scored["others"][k]) for k in ("error", "code", "meter")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ae.novelty", description="Each model's ROC AUC at telling digits from non-digits.")
    p.add_argument("paths", nargs="*", help="checkpoint files (default: every one in $AE_CHECKPOINT_DIR or checkpoints/)")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    paths = args.paths or checkpoints.checkpoint_files(checkpoints.default_dir())
    print(
        f"ROC AUC, {SAMPLES} test digits against {SAMPLES} letters, scribbles and shapes:\n\n"
        "| model | by its error | by its code's distance to the nearest digit class | the meter: the larger share |\n|---|---|---|---|"
    )
    for path in paths:
        model, meta = checkpoints.load(path)
        meter = Meter.of(meta)
        if meter is None or meter.classes is None:  # saved before the meter had classes: measure them now
            test = data.to_float(data.load_split("test", args.data_dir)[0])[:, 0].numpy()
            meter = Meter.of(checkpoints.Meta(metrics=measure(model, test, data_dir=args.data_dir)))
        auc = aucs_of(model, meter, args.data_dir)
        print(f"| {Path(path).stem} | {auc['error']:.3f} | {auc['code']:.3f} | {auc['meter']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
