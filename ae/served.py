"""A checkpoint as the server runs it: its served form (ae/export.py writes it beside the
.safetensors file) in onnxruntime, the same files the page runs. No torch here.

    model = served.load("checkpoints/conv32.safetensors")    # ServedModel, or CheckpointError
    z = model.encode(images)        # (N, 28, 28) or (28, 28) in [0, 1] -> (N, latent_dim)
    x_hat = model.decode(z)         # (N, latent_dim) -> (N, 28, 28) in [0, 1]
    model.layers(digit)             # what the encoder's layers make of one digit: [(label, (C, H, W))]
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ae import checkpoints

FORMAT = "ae-lab-served/1"
PACKED = ".packed.gz"
METER = "meter.json.gz"
DESCRIPTION = "served.json"
MEASURES = "measures.json"  # what pages show and take seconds to measure, where the checkpoint was scored (ae.shipping)
SUFFIX = ".served"


def folder_of(checkpoint: str | os.PathLike) -> Path:
    """conv32.safetensors -> conv32.served/ beside it."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name.removesuffix(checkpoints.SUFFIX) + SUFFIX)


def source_digest(checkpoint: str | os.PathLike) -> str:
    """The SHA-256 of a checkpoint's bytes, which its served form names."""
    h = hashlib.sha256()
    with open(checkpoint, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def unpack(packed: bytes) -> bytes:
    """The inverse of ae.export.pack (the page does the same in JavaScript)."""
    data = gzip.decompress(packed)
    whole = len(data) // 4 * 4
    return np.frombuffer(data[:whole], np.uint8).reshape(4, -1).T.tobytes() + data[whole:]


def _session(onnx: bytes):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # many sessions' one-image runs on few cores: no thread team to wake
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_cpu_mem_arena = False  # an arena per session keeps its largest batch's activations for good
    options.log_severity_level = 3
    return ort.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])


BATCH = 100  # images a run at most: a conv net's activations for more cost memory, not time


@dataclass
class ServedModel:
    """A checkpoint's served form, loaded: encode and decode numpy arrays."""

    takes_arrays = True  # ae.latent's word for a model that is not torch
    folder: Path
    description: dict
    encoder: object
    decoder: object
    layer_view: object | None
    measures: dict | None = None  # ae.compress.shipped and digit_map read it

    @property
    def latent_dim(self) -> int:
        return int(self.description["latent_dim"])

    @property
    def generative(self) -> bool:
        return bool(self.description.get("generative"))

    @functools.cached_property
    def digit_map(self):
        """The test digits' map of codes shipped with it (ae.latent.DigitMap), or None."""
        from ae import latent

        return latent.DigitMap.from_json((self.measures or {}).get("map"))

    @property
    def digest(self) -> str:
        """The first 16 hex digits of the checkpoint's SHA-256: the served files' version."""
        return self.description["source"][:16]

    def encode(self, images: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(images, np.float32).reshape(-1, 1, *np.shape(images)[-2:])
        return np.concatenate([self.encoder.run(None, {"image": x[i : i + BATCH]})[0] for i in range(0, max(len(x), 1), BATCH)])

    def decode(self, codes: np.ndarray) -> np.ndarray:
        z = np.ascontiguousarray(codes, np.float32).reshape(-1, self.latent_dim)
        return np.concatenate([self.decoder.run(None, {"code": z[i : i + BATCH]})[0][:, 0] for i in range(0, max(len(z), 1), BATCH)])

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n new digits from the prior of a generative model's code (the VAE's: a standard normal)."""
        return self.decode(np.random.default_rng(seed).standard_normal((n, self.latent_dim)))

    def layers(self, digit: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """(label, its (C, H, W) output) of each layer the layer view shows, for one (28, 28) digit."""
        if self.layer_view is None:
            return []
        outs = self.layer_view.run(None, {"image": np.asarray(digit, np.float32)[None, None]})
        return [(label, out[0]) for label, out in zip(self.description["layers"], outs)]


def description(checkpoint: str | os.PathLike) -> dict | None:
    """The served form's served.json, or None where there is none."""
    try:
        return json.loads((folder_of(checkpoint) / DESCRIPTION).read_text())
    except (OSError, ValueError):
        return None


def load(checkpoint: str | os.PathLike) -> ServedModel:
    """The served form of a checkpoint, or CheckpointError saying why it cannot be served."""
    folder = folder_of(checkpoint)
    doc = description(checkpoint)
    fix = f"write it where torch is installed: python -m ae.export {checkpoint}"
    if doc is None or doc.get("format") != FORMAT:
        raise checkpoints.CheckpointError(f"it has no served form ({folder.name}/): {fix}")
    if doc.get("source") != source_digest(checkpoint):
        raise checkpoints.CheckpointError(f"its served form ({folder.name}/) is of an older version of the file: {fix}")
    try:
        parts = {name: _session(unpack((folder / f"{name}{PACKED}").read_bytes())) for name in ("encoder", "decoder")}
        view = folder / f"layers{PACKED}"
        layer_view = _session(unpack(view.read_bytes())) if doc.get("layers") else None
    except Exception as e:  # onnxruntime raises its own types for a file it cannot read
        raise checkpoints.CheckpointError(f"its served form ({folder.name}/) does not load: {str(e).splitlines()[0]}") from None
    return ServedModel(folder, doc, parts["encoder"], parts["decoder"], layer_view, _measures(folder, doc["source"]))


def _measures(folder: Path, source: str) -> dict | None:
    """The measures shipped in the folder for this version of the checkpoint; None where there are
    none or they cannot be read (the server then measures them itself)."""
    try:
        found = json.loads((folder / MEASURES).read_text())
        found["quantiser"]["lo"], found["curves"]["model"]  # noqa: B018 (the parts a reader needs)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if found.get("source") == source else None


def cache_dir() -> Path:
    """Where a server keeps what it makes for the page and the class: $AE_CACHE_DIR, else the
    user's cache folder, else (where that cannot be written, as for a service without a home) the
    system's temporary folder."""
    if os.environ.get("AE_CACHE_DIR"):
        return Path(os.environ["AE_CACHE_DIR"])
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    for folder in (home / "ae-lab", Path(tempfile.gettempdir()) / f"ae-lab-{os.getuid()}"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    return folder
