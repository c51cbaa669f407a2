"""A checkpoint's encoder and decoder as ONNX, for the browser, cached by the file's content.

    files = export.onnx_files("checkpoints/conv32.safetensors", cache_dir)
    files.encoder, files.decoder      # plain .onnx (Python's onnxruntime, the parity tests)
    files.encoder_packed, ...         # what the page downloads: byte-shuffled, then gzipped
    files.meter                       # gzipped JSON: what the Draw page's "is this a digit?" meter needs

Made from the .safetensors file alone (checkpoints.load, then torch.onnx.export), in a folder
named after a SHA-256 of everything that shapes the files: the checkpoint's bytes, the code that
builds and exports the model, the opset, torch's and onnx's versions. A retrained model, or a
new exporter, gets new files; an unchanged one is exported once. The folder is outside the
package (`cache_dir()`: $AE_CACHE_DIR, else the user's cache folder, else a temporary one), so a
read-only install works. "Packed" files put the bytes of every 4-byte group into four lanes
before gzip (float32 weights compress better that way) and the page undoes both; docs/live.md
says what it saves.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ae import checkpoints, models, novelty

OPSET = 17
PACKED_SUFFIX = ".packed.gz"
METER = "meter.json.gz"
KEEP_FOLDERS = 64  # exports kept at most; the least recently used go first
HERE = Path(__file__).resolve().parent
# The code whose change changes the files: the export, the models, how a checkpoint is read, the meter.
SOURCES = [HERE / "export.py", HERE / "checkpoints.py", HERE / "novelty.py", *sorted((HERE / "models").glob("*.py"))]


class ExportError(RuntimeError):
    """A checkpoint that cannot be exported; the message says why."""


@dataclass(frozen=True)
class OnnxFiles:
    digest: str  # the first 16 hex digits of the checkpoint's SHA-256: the folder's name
    folder: Path
    latent_dim: int

    @property
    def encoder(self) -> Path:
        return self.folder / "encoder.onnx"

    @property
    def decoder(self) -> Path:
        return self.folder / "decoder.onnx"

    @property
    def encoder_packed(self) -> Path:
        return self.folder / f"encoder{PACKED_SUFFIX}"

    @property
    def decoder_packed(self) -> Path:
        return self.folder / f"decoder{PACKED_SUFFIX}"

    @property
    def meter(self) -> Path:
        return self.folder / METER


class _Encoder(nn.Module):
    def __init__(self, model: models.Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, x):  # (B, 1, 28, 28) -> (B, latent_dim)
        return self.model.encode(x)


class _Decoder(nn.Module):
    def __init__(self, model: models.Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, z):  # (B, latent_dim) -> (B, 1, 28, 28), clamped as decode clamps
        return self.model.decode(z)


def cache_dir() -> Path:
    """Where the exports are kept: $AE_CACHE_DIR, else the user's cache folder, else (where that
    cannot be written, as for a service without a home) the system's temporary folder."""
    if os.environ.get("AE_CACHE_DIR"):
        return Path(os.environ["AE_CACHE_DIR"]) / "onnx"
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    for folder in (home / "ae-lab" / "onnx", Path(tempfile.gettempdir()) / f"ae-lab-{os.getuid()}" / "onnx"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    return folder


@functools.cache
def exporter_version() -> bytes:
    """What, besides the checkpoint, decides the exported files."""
    h = hashlib.sha256(f"opset {OPSET} torch {torch.__version__} onnx {_onnx_version()}".encode())
    for source in SOURCES:
        h.update(source.read_bytes())
    return h.digest()


def _onnx_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onnx")
    except PackageNotFoundError:
        return "none"


def file_digest(path: str | os.PathLike) -> str:
    """The first 16 hex digits of the SHA-256 of the checkpoint's bytes and of the exporter's version."""
    h = hashlib.sha256(exporter_version())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


_LOCK = threading.Lock()  # one export at a time per process: sessions asking for the same model wait


def onnx_files(checkpoint: str | os.PathLike, folder_of_exports: str | os.PathLike | None = None) -> OnnxFiles:
    """The exported files of a checkpoint, made now if it has none yet (in `cache_dir()` unless
    told). ExportError (or checkpoints.CheckpointError for a file that does not load) says why not."""
    root = Path(folder_of_exports) if folder_of_exports is not None else cache_dir()
    digest = file_digest(checkpoint)
    folder = root / digest
    with _LOCK:
        done = folder / "latent_dim"
        try:
            if not done.exists():
                model, meta = checkpoints.load(checkpoint)
                _export(model, folder)
                meter = novelty.for_the_page(meta)
                checkpoints.write_atomic(folder / METER, gzip.compress(json.dumps(meter).encode(), compresslevel=9, mtime=0))
                checkpoints.write_atomic(done, str(model.latent_dim).encode())
                _prune(root, keep=folder)
            else:
                os.utime(done)  # used: pruned last
        except OSError as e:
            raise ExportError(
                f"the folder for exports, {root}, cannot be written ({e.strerror}): set AE_CACHE_DIR to one that can"
            ) from None
        return OnnxFiles(digest, folder, int(done.read_text()))


def _prune(root: Path, keep: Path) -> None:
    """The least recently used exports out, beyond KEEP_FOLDERS (and half-made ones a day old)."""
    folders = []
    for folder in root.iterdir():
        done = folder / "latent_dim"
        try:
            folders.append((done.stat().st_mtime if done.exists() else folder.stat().st_mtime - 86_400, folder))
        except OSError:
            continue
    folders.sort(reverse=True)
    for used, folder in folders[KEEP_FOLDERS:]:
        if folder != keep and (used < time.time() - 3600):
            shutil.rmtree(folder, ignore_errors=True)


def _export(model: models.Autoencoder, folder: Path) -> None:
    model = model.float().eval()
    parts = {
        "encoder": (_Encoder(model), torch.rand(1, 1, model.image_size, model.image_size), "image", "code"),
        "decoder": (_Decoder(model), torch.zeros(1, model.latent_dim), "code", "image"),
    }
    for name, (module, example, input_name, output_name) in parts.items():
        buffer = io.BytesIO()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter's notice of its own future
                torch.onnx.export(
                    module,
                    (example,),
                    buffer,
                    dynamo=False,
                    opset_version=OPSET,
                    input_names=[input_name],
                    output_names=[output_name],
                    dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                )
        except Exception as e:  # the exporter raises many types for an op it cannot express
            raise ExportError(f"ONNX export of the {name} failed: {type(e).__name__}: {str(e).splitlines()[0]}") from None
        data = buffer.getvalue()
        checkpoints.write_atomic(folder / f"{name}.onnx", data)
        checkpoints.write_atomic(folder / f"{name}{PACKED_SUFFIX}", pack(data))


def pack(data: bytes) -> bytes:
    """Byte-shuffle in four lanes (the 1st bytes of every 4-byte group, then the 2nd, ...), then
    gzip. The length and any tail that is not a whole group ride along unchanged."""
    whole = len(data) // 4 * 4
    lanes = np.frombuffer(data[:whole], np.uint8).reshape(-1, 4).T.tobytes()
    return gzip.compress(lanes + data[whole:], compresslevel=9, mtime=0)


def unpack(packed: bytes) -> bytes:
    """The inverse of `pack` (the page does the same in JavaScript)."""
    data = gzip.decompress(packed)
    whole = len(data) // 4 * 4
    return np.frombuffer(data[:whole], np.uint8).reshape(4, -1).T.tobytes() + data[whole:]
