"""A checkpoint's encoder and decoder as ONNX, for the browser, cached by the file's content.

    files = export.onnx_files("checkpoints/conv32.safetensors", cache_dir)
    files.encoder, files.decoder      # plain .onnx (Python's onnxruntime, the parity tests)
    files.encoder_packed, ...         # what the page downloads: byte-shuffled, then gzipped
    files.meter                       # gzipped JSON: what the Draw page's "is this a digit?" meter needs

Made from the .safetensors file alone (checkpoints.load, then torch.onnx.export), in a folder
named after the file's SHA-256: a retrained model gets new files, an unchanged one is exported
once. "Packed" files put the bytes of every 4-byte group into four lanes before gzip (float32
weights compress better that way) and the page undoes both; docs/live.md says what it saves.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import threading
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


def file_digest(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


_LOCK = threading.Lock()  # one export at a time per process: sessions asking for the same model wait


def onnx_files(checkpoint: str | os.PathLike, cache_dir: str | os.PathLike) -> OnnxFiles:
    """The exported files of a checkpoint, made now if its content has none yet. ExportError
    (or checkpoints.CheckpointError for a file that does not load) says why not."""
    digest = file_digest(checkpoint)
    folder = Path(cache_dir) / digest
    with _LOCK:
        done = folder / "latent_dim"
        if not done.exists():
            model, _ = checkpoints.load(checkpoint)
            _export(model, folder)
            checkpoints.write_atomic(done, str(model.latent_dim).encode())
        if not (folder / METER).exists():  # also for a folder exported before the page had a meter
            meter = novelty.for_the_page(checkpoints.load(checkpoint)[1])
            checkpoints.write_atomic(folder / METER, gzip.compress(json.dumps(meter).encode(), compresslevel=9, mtime=0))
        return OnnxFiles(digest, folder, int(done.read_text()))


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
                    module, (example,), buffer, dynamo=False, opset_version=OPSET,
                    input_names=[input_name], output_names=[output_name],
                    dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                )  # fmt: skip
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

