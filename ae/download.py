"""Fetch MNIST from torchvision's mirrors: each file's MD5 checked, written atomically, with progress.

    python -m ae.download              # into $MNIST_DIR (default ./data), if it is not there
    fetch(root, progress=callback)     # the same from Python (the app's "Download MNIST" button)

A file lands in MNIST/raw/ only once it has been downloaded, unpacked and its MD5 checked: a
corrupted or interrupted download leaves nothing behind (its temporary files are removed, and any
left by a killed process are removed by the next run). MNIST_MIRRORS (space-separated URLs) points
the downloader elsewhere: a local copy, or the tests' own server.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import sys
import urllib.request
from pathlib import Path
from typing import Callable

from ae import mnist

MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")  # torchvision's
MD5 = {  # of the unpacked files, as ../shared/mnist/README.md and torchvision list them
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
SIZE_MB = 11  # the four gzipped files together
PART = ".part"
TIMEOUT_S = 15

Progress = Callable[[str, int, int | None], None]  # (file, bytes so far, total bytes or None)


class DownloadError(RuntimeError):
    """MNIST could not be fetched; the message says why, in one sentence."""


def mirrors() -> list[str]:
    return os.environ.get("MNIST_MIRRORS", "").split() or list(MIRRORS)


def fetch(root: str | os.PathLike | None = None, progress: Progress | None = None) -> Path:
    """Download the files of MNIST that are missing under `root` (default $MNIST_DIR or ./data);
    returns the raw folder. DownloadError if a file cannot be had from any mirror."""
    raw = mnist.resolve_data_dir(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for leftover in raw.glob(f"*{PART}"):  # from a run that was killed
        leftover.unlink(missing_ok=True)
    for name, md5 in MD5.items():
        if (raw / name).is_file():
            continue
        reasons = []
        for mirror in mirrors():
            try:
                _fetch_one(f"{mirror}{name}.gz", raw / name, md5, progress)
                break
            except (OSError, EOFError, ValueError) as e:  # network, a cut-off gzip, a wrong MD5
                reasons.append(f"{mirror}: {e}")
        else:
            raise DownloadError(f"could not download {name} ({'; '.join(reasons)})")
    return raw


def _fetch_one(url: str, target: Path, md5: str, progress: Progress | None) -> None:
    packed, unpacked = target.with_name(f"{target.name}.gz{PART}"), target.with_name(f"{target.name}{PART}")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(packed, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while block := response.read(1 << 16):
                out.write(block)
                done += len(block)
                if progress:
                    progress(target.name, done, total)
            if total is not None and done != total:
                raise EOFError(f"the connection closed after {done:,} of {total:,} bytes")
        digest = hashlib.md5()
        with gzip.open(packed, "rb") as source, open(unpacked, "wb") as out:
            while block := source.read(1 << 20):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != md5:
            raise ValueError(f"its MD5 is {digest.hexdigest()}, not {md5}: damaged on the way, refused")
        os.replace(unpacked, target)
    finally:
        packed.unlink(missing_ok=True)
        unpacked.unlink(missing_ok=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ae.download", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root (default $MNIST_DIR or ./data)")
    args = p.parse_args(argv)
    root = mnist.resolve_data_dir(args.data_dir)
    if mnist.mnist_available(root):
        print(f"MNIST is in {root}", file=sys.stderr)
        return 0
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def show(name: str, done: int, total: int | None) -> None:
        bar = bars.get(name) or bars.setdefault(name, tqdm(total=total, desc=name, unit="B", unit_scale=True))
        bar.update(done - bar.n)

    try:
        fetch(root, show)
    except DownloadError as e:
        print(f"MNIST was not downloaded: {e}.", file=sys.stderr)
        return 1
    finally:
        for bar in bars.values():
            bar.close()
    print(f"MNIST is in {root}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
