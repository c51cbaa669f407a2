"""MNIST read from its idx files into numpy, once per process, and its fixed splits. No torch: the
server reads its digits here; ae/data.py hands the same arrays to training as tensors.

    images, labels = mnist.load_split("test")     # uint8 (N, 28, 28), int64 (N,)
    mnist.digits("train", 5000)                   # float32 (N, 28, 28) in [0, 1]
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import numpy as np

VAL_SIZE = 12_000
# Which of the 60,000 training digits are the validation split, one bit each: torch.randperm(60000)
# with seed 0, its first 12,000 (tests/test_data.py holds the file to that). A file, so that the
# split is the same without torch.
VALIDATION = Path(__file__).with_name("validation.bits")
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class MnistMissingError(FileNotFoundError):
    """MNIST is not where we looked; the message says how to get it."""


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The MNIST root: the argument, else $MNIST_DIR, else ./data."""
    return Path(data_dir or os.environ.get("MNIST_DIR") or "data")


def missing_message(root: str | os.PathLike) -> str:
    return (
        f"MNIST was not found in '{root}' (expected {Path(root) / 'MNIST' / 'raw'} with the four "
        "idx files). Either point MNIST_DIR (or --data-dir) at a folder that has them, or fetch "
        "them once (about 11 MB) with:  python -m ae.download"
    )


def mnist_available(data_dir: str | os.PathLike | None = None) -> bool:
    raw = resolve_data_dir(data_dir) / "MNIST" / "raw"
    return all((raw / name).is_file() for name in RAW_FILES)


def load(train: bool, data_dir=None, keep: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels int64 (N,)), read once per process and kept (shared:
    read-only); `keep=False` reads them for this caller alone (a server's one-off use of the 47 MB
    training file)."""
    root = str(resolve_data_dir(data_dir).resolve())
    return _load(bool(train), root) if keep else _load.__wrapped__(bool(train), root)


@functools.lru_cache(maxsize=4)
def _load(train: bool, root: str) -> tuple[np.ndarray, np.ndarray]:
    if not mnist_available(root):
        raise MnistMissingError(missing_message(root))
    prefix = "train" if train else "t10k"
    raw = Path(root) / "MNIST" / "raw"
    images = read_idx(raw / f"{prefix}-images-idx3-ubyte", 3)
    labels = read_idx(raw / f"{prefix}-labels-idx1-ubyte", 1).astype(np.int64)
    if len(images) != len(labels):
        raise MnistMissingError(f"{raw} holds {len(images)} images but {len(labels)} labels. " + missing_message(root))
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def read_idx(path: Path, dims: int) -> np.ndarray:
    """A uint8 idx file (MNIST's format: a 4-byte magic number, then big-endian sizes, then bytes)."""
    raw = path.read_bytes()
    header = 4 + 4 * dims
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    if raw[:4] != bytes([0, 0, 8, dims]) or len(raw) != header + math.prod(shape):
        raise MnistMissingError(
            f"{path} is not an MNIST idx file of {dims} dimension(s) (damaged or truncated?). " + missing_message(path.parents[2])
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape).copy()


@functools.cache
def split_indices() -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx) of the 60,000 training digits, each sorted: 48k / 12k."""
    validation = np.unpackbits(np.frombuffer(VALIDATION.read_bytes(), np.uint8)).astype(bool)
    return np.flatnonzero(~validation), np.flatnonzero(validation)


def load_split(split: str, data_dir=None, keep: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """'train' (48k), 'val' (12k) or 'test' (10k) as (images uint8 (N, 28, 28), labels); `keep` as in `load`."""
    if split == "test":
        return load(False, data_dir, keep)
    if split not in ("train", "val"):
        raise ValueError(f"split must be train, val or test, not {split!r}")
    images, labels = load(True, data_dir, keep)
    idx = split_indices()[0 if split == "train" else 1]
    return images[idx], labels[idx]


def digits(split: str, count: int | None = None, data_dir=None, keep: bool = True) -> np.ndarray:
    """The first `count` digits of a split as (N, 28, 28) float32 in [0, 1]; `keep` as in `load`."""
    return load_split(split, data_dir, keep)[0][:count].astype(np.float32) / np.float32(255.0)
