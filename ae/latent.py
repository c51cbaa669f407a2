"""The latent space: numpy encode/decode for pages, interpolation paths, 2-D projections.

A model here is one that takes arrays (`ae.served.ServedModel`, what the server runs, or
`ae.compress.LinearCoder`, PCA's basis: `takes_arrays`), or a torch `Autoencoder` (training, the
command line, the tests): torch is imported only for the latter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def encode(model, images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or (28, 28) floats in [0, 1] -> (N, latent_dim) codes."""
    if getattr(model, "takes_arrays", False):
        return model.encode(images)
    import torch

    from ae import models

    with torch.inference_mode():
        x = torch.as_tensor(np.asarray(images, np.float32)).view(-1, 1, *np.shape(images)[-2:])
        return model.eval().encode(x.to(models.device_of(model))).float().cpu().numpy()


def decode(model, codes: np.ndarray) -> np.ndarray:
    """(N, latent_dim) codes -> (N, 28, 28) images in [0, 1]."""
    if getattr(model, "takes_arrays", False):
        return model.decode(codes)
    import torch

    from ae import models

    with torch.inference_mode():
        z = torch.as_tensor(np.asarray(codes, np.float32)).view(-1, model.latent_dim)
        return model.eval().decode(z.to(models.device_of(model))).float().cpu().numpy()[:, 0]


def reconstruct(model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, reconstructions) for (N, 28, 28) images."""
    z = encode(model, images)
    return z, decode(model, z)


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return (1.0 - t) * a + t * b


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Along the great circle between the directions of a and b, the length going linearly.

    Straight lines between two codes pass near the origin, where few training codes live; the
    arc stays at the codes' typical distance from it. Nearly parallel codes fall back to lerp.
    """
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-8 or nb < 1e-8:
        return lerp(a, b, t)
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip(np.dot(ua, ub), -1.0, 1.0))
    if omega < 1e-4:
        return lerp(a, b, t)
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return direction * ((1 - t) * na + t * nb)


METHODS = {"linear": lerp, "spherical": slerp}


def path(a: np.ndarray, b: np.ndarray, steps: int, method: str = "linear") -> np.ndarray:
    """(steps, d) codes from a to b inclusive."""
    f = METHODS[method]
    return np.stack([f(a, b, t) for t in np.linspace(0.0, 1.0, steps)])


@dataclass(frozen=True)
class Projection:
    """A fixed map from codes to the plane, fitted once to many codes (the test digits'): new codes
    land where those codes' neighbours are, and points do not move as more codes arrive."""

    mean: np.ndarray  # (d,)
    axes: np.ndarray  # (d, 2)
    how: str

    @classmethod
    def fit(cls, codes: np.ndarray) -> Projection:
        """The code itself (a 1-d one with zero beside it), or its top two principal components."""
        codes = np.asarray(codes, np.float64)
        d = codes.shape[1]
        if d <= 2:
            how = "the 2-d code itself" if d == 2 else "the 1-d code (and zero)"
            return cls(np.zeros(d), np.eye(d, 2), how)
        mean = codes.mean(0)
        _, s, vt = np.linalg.svd(codes - mean, full_matrices=False)
        share = (s[:2] ** 2).sum() / max((s**2).sum(), 1e-12)
        return cls(mean, vt[:2].T, f"the first two principal components of the codes ({share:.0%} of their variance)")

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        """(N, d) codes -> (N, 2) points."""
        return (np.atleast_2d(np.asarray(codes, np.float64)) - self.mean) @ self.axes


MAP_DIGITS = 2000  # test digits on a map of codes by default: Explore's, the class's; the code editor uses half


def _rounded(values, digits: int = 6) -> list:
    return np.vectorize(lambda v: float(f"{v:.{digits}g}"), otypes=[float])(np.asarray(values, np.float64)).tolist()


@dataclass(frozen=True)
class DigitMap:
    """The first MAP_DIGITS test digits on the plane of a model's codes (Explore's map, the class
    map's background and axes) and how the code editor moves a code (from the first half): made
    where a checkpoint is scored and shipped with it (ae.shipping.ship), so a server only reads it."""

    projection: Projection
    points: np.ndarray  # (N, 2)
    labels: np.ndarray  # (N,)
    editor: dict  # code_directions

    @classmethod
    def of(cls, codes: np.ndarray, labels: np.ndarray) -> DigitMap:
        projection = Projection.fit(codes)
        return cls(projection, projection(codes), np.asarray(labels), code_directions(codes[: len(codes) // 2]))

    def listed(self) -> list[list]:
        """[x, y, label] a point, to three decimals: a map's precision (the page's file, to_json's)."""
        return [[round(float(x), 3), round(float(y), 3), int(k)] for (x, y), k in zip(self.points, self.labels)]

    def to_json(self) -> dict:
        """Six significant digits for the axes and the editor, three decimals for the points."""
        p = self.projection
        editor = {k: v if k == "kind" else _rounded(v) for k, v in self.editor.items()}
        return {"mean": _rounded(p.mean), "axes": _rounded(p.axes), "how": p.how, "points": self.listed(), "editor": editor}

    @classmethod
    def from_json(cls, found) -> DigitMap | None:
        """The map `to_json` wrote, or None where it is missing or not one."""
        try:
            mean, axes = np.asarray(found["mean"], np.float64), np.asarray(found["axes"], np.float64)
            listed = np.asarray(found["points"], np.float64)
            editor, how = dict(found["editor"]), str(found["how"])
            usable = mean.ndim == 1 and axes.shape == (len(mean), 2) and listed.shape == (MAP_DIGITS, 3) and editor["kind"]
        except (KeyError, TypeError, ValueError):
            return None
        return cls(Projection(mean, axes, how), listed[:, :2], listed[:, 2].astype(np.int64), editor) if usable else None


def project_2d(codes: np.ndarray) -> tuple[np.ndarray, str]:
    """(N, 2) coordinates for a map of these codes, and how they were made."""
    projection = Projection.fit(codes)
    return projection(codes), projection.how


EDIT_NUMBERS = 16  # up to this many numbers, a slider each; beyond, principal directions
EDIT_DIRECTIONS = 8


def code_directions(codes: np.ndarray) -> dict:
    """How the code editor moves a code, from the codes of many digits (N, d).

    Up to 16 numbers, a slider per number from its 1st to its 99th percentile: {"kind": "numbers",
    "lo", "hi"}. Beyond, the 8 principal directions of the codes (unit vectors, widest spread
    first), their mean and the spread (standard deviation) along each: {"kind": "directions",
    "mean", "basis", "spread"}.
    """
    codes = np.asarray(codes, np.float64)
    if codes.shape[1] <= EDIT_NUMBERS:
        lo, hi = np.percentile(codes, [1, 99], axis=0)
        return {"kind": "numbers", "lo": lo.tolist(), "hi": hi.tolist()}
    mean = codes.mean(0)
    _, s, vt = np.linalg.svd(codes - mean, full_matrices=False)
    k = min(EDIT_DIRECTIONS, len(s))
    return {"kind": "directions", "mean": mean.tolist(), "basis": vt[:k].tolist(), "spread": (s[:k] / np.sqrt(len(codes))).tolist()}


def manifold(model, lo, hi, n: int) -> np.ndarray:
    """A 2-d decoder's view of the plane: (28n, 28n) tiles, decode(x, y) for x, y on an n x n grid."""
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(hi[1], lo[1], n)  # y grows upwards, as on the map
    grid = np.array([[x, y] for y in ys for x in xs], np.float32)
    tiles = decode(model, grid)
    return np.concatenate([np.concatenate(list(tiles[r * n : (r + 1) * n]), axis=1) for r in range(n)], axis=0)


def sample(model, n: int, seed: int) -> np.ndarray:
    """n new digits (n, 28, 28) from a generative model's prior (the VAE's)."""
    if getattr(model, "takes_arrays", False):
        return model.sample(n, seed)
    import torch

    with torch.inference_mode():
        return model.eval().sample(n, torch.Generator().manual_seed(seed))[:, 0].float().cpu().numpy()
