"""Self-describing checkpoints: weights in .safetensors, a JSON document in its metadata.

`load` rebuilds the model from the file alone and never unpickles anything; `save` writes to a
temporary file and renames it into place, so a crash never leaves half a checkpoint, and writes
its served form beside it (ae/export.py). Torch is imported by `save` and `load` only: a server
reads the metadata (`read_meta`, `Meta`) and the served form without it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import struct
import tempfile
from pathlib import Path

FORMAT = "ae-lab/1"
META_KEY = "ae"
SUFFIX = ".safetensors"
MAX_BYTES = 256 * 1024 * 1024  # far above any model here; refuse to read more than this
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CheckpointError(ValueError):
    """A file that is not a loadable checkpoint; the message says why."""


def default_dir() -> Path:
    """Where the app and the tools look for models: $AE_CHECKPOINT_DIR, else ./checkpoints."""
    return Path(os.environ.get("AE_CHECKPOINT_DIR") or "checkpoints")


class Meta(dict):
    """A checkpoint's metadata document (plain JSON), and the questions the app, the tables and
    the Train page ask of it."""

    @property
    def architecture(self) -> str:
        return self["architecture"]

    @property
    def config(self) -> dict:
        return _tuples(self.get("config") or {})

    @property
    def parameters(self) -> int:
        return int(self.get("parameters") or 0)

    @property
    def train(self) -> dict:
        return self.get("train") or {}

    @property
    def metrics(self) -> dict:
        return self.get("metrics") or {}

    @property
    def test(self) -> dict:
        """Scores on the 10k test digits: mse, psnr, bce ({} when not measured)."""
        return self.metrics.get("test") or {}

    @property
    def test_mse(self) -> float | None:
        return self.test.get("mse")

    @property
    def pca_mse(self) -> float | None:
        """PCA's test MSE with as many components as this code has numbers."""
        return (self.metrics.get("pca") or {}).get("mse")

    @property
    def error_quantiles(self) -> list[float]:
        """Its reconstruction error on the test digits at every 0.1% of them ([] when not measured)."""
        return list(self.metrics.get("test_error_quantiles") or [])

    @property
    def code_network(self) -> dict:
        """The meter's network on the code and how unsure it is of the test digits at every 0.1%
        ({} when not measured; ae.novelty)."""
        return dict(self.metrics.get("test_code_network") or {})

    @property
    def noise(self) -> str:
        """The noise it was trained to remove, or 'none'."""
        return self.train.get("noise", "none") if self.train.get("noise_level") else "none"

    @property
    def denoising(self) -> bool:
        return self.noise != "none"

    @property
    def noise_label(self) -> str:
        """'gaussian 0.4' for a denoiser, '' for a plain model."""
        return f"{self.noise.replace('_', ' ')} {self.train['noise_level']:g}" if self.denoising else ""

    @property
    def history(self) -> list[dict]:
        return list(self.get("history") or [])

    @property
    def epochs_done(self) -> int:
        return int(self.get("epochs_done") or len(self.history))

    @property
    def train_seconds(self) -> float:
        return float(self.get("train_seconds") or 0.0)


def validate_name(name: str) -> str:
    """A checkpoint name a user typed, or CheckpointError: letters, digits, '_', '-', '.', at most 64."""
    name = (name or "").strip()
    if name.endswith(SUFFIX):
        name = name[: -len(SUFFIX)]
    if not name:
        raise CheckpointError("the name is empty")
    if "/" in name or "\\" in name or ".." in name:
        raise CheckpointError(f"'{name}' is not a plain name: no '/', '\\' or '..'")
    if not NAME_RE.match(name):
        raise CheckpointError("use 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit")
    return name


def path_for(directory: str | os.PathLike, name: str) -> Path:
    return Path(directory) / f"{validate_name(name)}{SUFFIX}"


def machine() -> str:
    """A short description of where training ran, for the results table."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # the same CPU name comes with and without AVX-512 (and bf16), which halves training times
    return f"{cpu} ({torch.backends.cpu.get_cpu_capability()}), {torch.get_num_threads()} threads"


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place: a crash leaves the old
    file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model is for everyone who runs the app
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_meta(data: bytes) -> Meta:
    """The metadata document of a checkpoint's bytes, or CheckpointError."""
    if len(data) < 8:
        raise CheckpointError("not a safetensors file (too short)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise CheckpointError("truncated, or not a safetensors file (header runs past the end)")
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError("not a safetensors file (its header is not JSON)") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or META_KEY not in meta:
        raise CheckpointError("a safetensors file, but not one of ours (no 'ae' metadata)")
    try:
        doc = json.loads(meta[META_KEY])
    except (TypeError, json.JSONDecodeError):
        raise CheckpointError("its metadata is not valid JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("architecture"), str):
        raise CheckpointError("its metadata names no architecture")
    return Meta(doc)


def meta_of(path: str | os.PathLike) -> Meta:
    """The metadata document of a checkpoint file, reading its header alone, or CheckpointError."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            n = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            if n > MAX_BYTES:
                raise CheckpointError("not a safetensors file (its header is too large)")
            return read_meta(head + f.read(n))
    except OSError as e:
        raise CheckpointError(f"cannot read it: {e.strerror or e}") from None


def load_bytes(data: bytes) -> tuple:
    import torch
    from safetensors.torch import load as load_tensors

    from ae import models

    doc = read_meta(data)
    try:
        tensors = load_tensors(data)
    except Exception as e:  # safetensors raises its own error type for every broken layout
        text = str(e)
        reason = "truncated" if "incomplete" in text or "not fully covered" in text else "corrupt"
        raise CheckpointError(f"{reason} ({text})") from None
    name = doc["architecture"]
    if name not in models.available():
        raise CheckpointError(f"unknown architecture '{name}'")
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise CheckpointError("its model config is not a JSON object")
    try:
        model = models.build(name, **_tuples(config))
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"its config does not build a {name}: {e}") from None
    expected = set(model.state_dict())
    if missing := sorted(expected - set(tensors)):
        raise CheckpointError(f"tensors missing for a {name}: {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
    if extra := sorted(set(tensors) - expected):
        raise CheckpointError(f"tensors a {name} does not have: {', '.join(extra[:3])}{' …' if len(extra) > 3 else ''}")
    if bad := [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]:
        raise CheckpointError(f"its weights hold NaN or infinite values ({bad[0]})")
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        detail = " ".join(line.strip() for line in first[1:3]) or first[0]
        raise CheckpointError(f"shape mismatch with {name}: {detail}") from None
    return model.eval(), doc


def load(path: str | os.PathLike) -> tuple:
    """(model in eval mode, metadata) from a checkpoint file, or CheckpointError saying why not."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise CheckpointError(f"{size / 2**20:.0f} MB is too large for a checkpoint")
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"cannot read it: {e.strerror or e}") from None
    return load_bytes(data)


def _tuples(config: dict) -> dict:
    """JSON turns the configs' tuples into lists; dataclass configs want tuples back."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def checkpoint_files(directory: str | os.PathLike) -> list[Path]:
    """The *.safetensors files of a folder, sorted by name (none if it does not exist)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"*{SUFFIX}") if p.is_file())
