"""An autoencoder is a learned compressor: a digit's code, quantised to a few bits a number, is a
file of a few bytes. Here against JPEG (Pillow, greyscale) and PCA at the same size.

    q = Quantiser.fit(train_codes)              # each number's range over the training digits
    x_hat = model.decode(q.round_trip(z, 4))    # 4 bits a number: ceil(d * 4 / 8) bytes
    jpeg_within(digit, budget)                  # the best JPEG of at most `budget` bytes

    python -m ae.compress [checkpoint]          # the README's table: PSNR against bytes, and where the lines cross
    python -m ae.compress --write-pca           # PCA's basis and quantiser, shipped in ae/pca_basis.npz
"""

from __future__ import annotations

import argparse
import functools
import io
import math
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ae import checkpoints, latent, mnist
from ae.quality import mean_psnr

BITS = (8, 4, 2)  # what the page shows; the curve uses more
CURVE_BITS = (2, 3, 4, 5, 6, 8)
PCA_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
JPEG_QUALITIES = (1, 5, 10, 20, 30, 50, 70, 85, 95)
CURVE_DIGITS = 500
TRAIN_DIGITS = 5000  # each code's quantiser is fit on the first of the training digits


@dataclass(frozen=True)
class Quantiser:
    """Each code number mapped to 2**bits levels between its min and max over the training codes."""

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def fit(cls, codes: np.ndarray) -> Quantiser:
        codes = np.asarray(codes, np.float64)
        return cls(codes.min(0), codes.max(0))

    def step(self, bits: int) -> np.ndarray:
        return np.maximum(self.hi - self.lo, 1e-12) / (2**bits - 1)

    def quantise(self, z: np.ndarray, bits: int) -> np.ndarray:
        """Codes (..., d) -> whole numbers in [0, 2**bits - 1] (values outside the range are clipped)."""
        return np.clip(np.round((np.asarray(z, np.float64) - self.lo) / self.step(bits)), 0, 2**bits - 1).astype(np.int64)

    def dequantise(self, q: np.ndarray, bits: int) -> np.ndarray:
        return (self.lo + q * self.step(bits)).astype(np.float32)

    def round_trip(self, z: np.ndarray, bits: int) -> np.ndarray:
        return self.dequantise(self.quantise(z, bits), bits)


@dataclass(frozen=True)
class LinearCoder:
    """PCA as arrays: the first k principal components of the training digits (what ae.models' Pca
    computes, without torch, for the server's comparisons)."""

    mean: np.ndarray  # (784,)
    components: np.ndarray  # (k, 784), unit rows, largest variance first

    takes_arrays = True  # ae.latent's word for a model that is not torch

    @property
    def latent_dim(self) -> int:
        return len(self.components)

    def first(self, k: int) -> LinearCoder:
        return LinearCoder(self.mean, self.components[:k])

    def encode(self, images: np.ndarray) -> np.ndarray:
        flat = np.asarray(images, np.float32).reshape(-1, self.mean.size)
        return (flat - self.mean) @ self.components.T

    def decode(self, codes: np.ndarray) -> np.ndarray:
        flat = np.clip(np.asarray(codes, np.float32).reshape(-1, self.latent_dim) @ self.components + self.mean, 0.0, 1.0)
        side = math.isqrt(self.mean.size)
        return flat.reshape(-1, side, side)


PCA_FILE = Path(__file__).with_name("pca_basis.npz")  # written by `python -m ae.compress --write-pca`


@functools.lru_cache(maxsize=1)
def pca_basis(data_dir: str | None = None) -> LinearCoder:
    """Every principal component of the 48k training digits, once per process: shipped with the
    package (PCA_FILE), so that a server never reads the training split for it; fit here where
    that file is missing or damaged."""
    shipped = _shipped_pca()
    return shipped[0] if shipped else fit_pca_basis(data_dir)


@functools.lru_cache(maxsize=1)
def pca_quantiser(data_dir: str | None = None) -> Quantiser:
    """Each principal component's range over the first TRAIN_DIGITS training digits (the same
    digits as a model's quantiser): PCA with k numbers is quantised by the first k of them."""
    shipped = _shipped_pca()
    if shipped:
        return shipped[1]
    return Quantiser.fit(latent.encode(pca_basis(data_dir), mnist.digits("train", TRAIN_DIGITS, data_dir)))


def _shipped_pca() -> tuple[LinearCoder, Quantiser] | None:
    try:
        with np.load(PCA_FILE) as found:
            basis = LinearCoder(found["mean"], found["components"])
            quantiser = Quantiser(found["lo"], found["hi"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # missing or damaged: fitted again
        return None
    usable = basis.mean.shape == (784,) and basis.components.shape == (784, 784) and quantiser.lo.shape == quantiser.hi.shape == (784,)
    return (basis, quantiser) if usable else None


def fit_pca_basis(data_dir: str | None = None) -> LinearCoder:
    """Every principal component of the 48k training digits (`pca_basis` reads them shipped)."""
    images = mnist.load_split("train", data_dir, keep=False)[0].reshape(-1, 784)
    total, outer = np.zeros(784), np.zeros((784, 784))
    for start in range(0, len(images), 4000):  # in parts: a server's memory never holds the float copy of all
        part = images[start : start + 4000].astype(np.float64) / 255.0
        total += part.sum(0)
        outer += part.T @ part
    mean = total / len(images)
    _, vectors = np.linalg.eigh(outer / len(images) - np.outer(mean, mean))  # the covariance; ascending eigenvalues
    return LinearCoder(mean.astype(np.float32), np.ascontiguousarray(vectors[:, ::-1].T, np.float32))


def write_pca(data_dir: str | None = None, path: Path = PCA_FILE) -> Path:
    """Fit PCA's basis and quantiser from MNIST and write them where `pca_basis` reads them."""
    basis = fit_pca_basis(data_dir)
    quantiser = Quantiser.fit(latent.encode(basis, mnist.digits("train", TRAIN_DIGITS, data_dir)))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, mean=basis.mean, components=basis.components, lo=quantiser.lo, hi=quantiser.hi)
    checkpoints.write_atomic(path, buffer.getvalue())
    return path


def code_bytes(numbers: int, bits: int) -> int:
    """The size of a code of `numbers` numbers at `bits` bits each, packed."""
    return math.ceil(numbers * bits / 8)


def jpeg(digit: np.ndarray, quality: int) -> tuple[int, np.ndarray]:
    """(bytes, the decoded digit) of a greyscale JPEG at this quality (Huffman tables optimised)."""
    buf = io.BytesIO()
    Image.fromarray((np.clip(digit, 0, 1) * 255).round().astype(np.uint8)).save(buf, "JPEG", quality=quality, optimize=True)
    size = buf.tell()
    buf.seek(0)
    return size, np.asarray(Image.open(buf), np.float32) / 255


def jpeg_within(digit: np.ndarray, budget: int) -> tuple[int, np.ndarray, int]:
    """(bytes, decoded, quality) of the best JPEG of at most `budget` bytes, found by bisection on
    the quality; JPEG's smallest (quality 1) where even that is larger than the budget."""
    lo, hi = 1, 95
    best = (*jpeg(digit, 1), 1)
    while lo <= hi:
        mid = (lo + hi) // 2
        size, decoded = jpeg(digit, mid)
        if size <= budget:
            best, lo = (size, decoded, mid), mid + 1
        else:
            hi = mid - 1
    return best


def curves(model, pca_basis, train: np.ndarray, digits: np.ndarray, quantiser: Quantiser | None = None) -> dict:
    """Mean PSNR against bytes over the digits: the model at each bit depth, PCA with k numbers at
    8 bits (k bytes), JPEG at each quality; each quantiser fit on the training digits' codes (the
    model's may be given, fit on `train`). {name: [(bytes, psnr), ...]}"""

    def squeezed(coder, depths, quantiser=None) -> list[tuple[int, float]]:
        z = latent.encode(coder, digits)
        quantiser = quantiser or Quantiser.fit(latent.encode(coder, train))
        return [(code_bytes(z.shape[1], b), mean_psnr(latent.decode(coder, quantiser.round_trip(z, b)), digits)) for b in depths]

    ours = squeezed(model, CURVE_BITS, quantiser)
    pca = [squeezed(pca_basis.first(k), (8,))[0] for k in PCA_SIZES]
    jpegs = []
    for q in JPEG_QUALITIES:
        sizes, decoded = zip(*(jpeg(d, q) for d in digits))
        jpegs.append((float(np.mean(sizes)), mean_psnr(np.stack(decoded), digits)))
    return {"model": ours, "PCA": pca, "JPEG": jpegs}


def measure(model, data_dir=None) -> dict:
    """What the Compress page and the lesson show of a model and take seconds to measure: its
    quantiser over TRAIN_DIGITS training codes and the curves over CURVE_DIGITS test digits, as
    JSON. Measured where a checkpoint is scored and written beside its served graphs
    (ae.shipping.ship), so that a server reads them instead of measuring them among its students' reruns."""
    train, test = mnist.digits("train", TRAIN_DIGITS, data_dir), mnist.digits("test", CURVE_DIGITS, data_dir)
    quantiser = Quantiser.fit(latent.encode(model, train))
    found = curves(model, pca_basis(data_dir), train, test, quantiser)
    return {
        "quantiser": {"lo": quantiser.lo.tolist(), "hi": quantiser.hi.tolist()},
        "curves": {name: [[float(b), float(p)] for b, p in curve] for name, curve in found.items()},
    }


def shipped(model) -> tuple[Quantiser | None, dict | None]:
    """The quantiser and curves written with a served model (ae.shipping.ship), or (None, None)."""
    found = getattr(model, "measures", None)
    if not found:
        return None, None
    q = found["quantiser"]
    curves = {name: [(b if name == "JPEG" else int(b), p) for b, p in curve] for name, curve in found["curves"].items()}
    return Quantiser(np.asarray(q["lo"], np.float64), np.asarray(q["hi"], np.float64)), curves


def bytes_for(curve: list[tuple[float, float]], psnr: float) -> float | None:
    """The bytes a curve needs to reach this PSNR (linear between its points), None if it never does."""
    for (b0, p0), (b1, p1) in zip(curve, curve[1:]):
        if p0 < psnr <= p1:
            return b0 + (psnr - p0) / (p1 - p0) * (b1 - b0)
    return float(curve[0][0]) if curve and curve[0][1] >= psnr else None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ae.compress", description="PSNR against bytes: a model's quantised code, PCA and JPEG.")
    p.add_argument("checkpoint", nargs="?", default=str(checkpoints.default_dir() / "conv32.safetensors"))
    p.add_argument("--data-dir", default=None)
    p.add_argument(
        "--write-pca", action="store_true", help=f"fit PCA on MNIST's training digits and write {PCA_FILE.name}, which servers read"
    )
    args = p.parse_args(argv)
    if args.write_pca:
        print(write_pca(args.data_dir))
        return 0
    from ae import served

    model = served.load(args.checkpoint)
    train, test = mnist.digits("train", 5000, args.data_dir), mnist.digits("test", CURVE_DIGITS, args.data_dir)
    found = curves(model, pca_basis(args.data_dir), train, test)
    name = Path(args.checkpoint).stem
    print(f"| {CURVE_DIGITS} test digits | bytes | mean PSNR (dB) |\n|---|---|---|")
    for label, curve in found.items():
        for size, psnr in curve:
            print(f"| {name if label == 'model' else label} | {size:,.0f} | {psnr:.1f} |")
    print()
    for bits, (size, psnr) in zip(CURVE_BITS, found["model"]):
        needs = {label: bytes_for(found[label], psnr) for label in ("PCA", "JPEG")}
        said = ", ".join(f"{label} needs {b:,.0f}" if b else f"{label} never gets there" for label, b in needs.items())
        print(f"- {name} at {bits} bits a number: {size} bytes for {psnr:.1f} dB; {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
