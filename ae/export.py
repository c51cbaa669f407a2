"""A checkpoint's served form, written beside it whenever it is saved: what the page and the server
run, so that serving needs no torch (ae/served.py reads it).

    export.save(path, model, meta)            # a checkpoint, then its served form: how the lab saves
    python -m ae.export [checkpoints...]      # (re)write the served forms of files saved before

The folder `<name>.served/` beside `<name>.safetensors` holds the encoder, the decoder and the
encoder's layer view as ONNX ("packed": the bytes of every 4-byte group in four lanes, then gzip;
float32 weights compress better that way, and the page undoes both), the meter's numbers
(meter.json.gz) and served.json, written last, which names the checkpoint's SHA-256: a served form
whose checkpoint has changed since is stale, and not used.
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ae import checkpoints, meter, mnist, models, served, shipping

OPSET = 17
SHOWN = (nn.ReLU, nn.ELU, nn.SiLU, nn.Sigmoid, nn.MaxPool2d)  # the layer view shows what these output


class ExportError(RuntimeError):
    """A model that cannot be exported; the message says why."""


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


class _Layers(nn.Module):
    """The encoder, giving the outputs of the chosen modules instead of the code."""

    def __init__(self, model: models.Autoencoder, chosen: list[str]):
        super().__init__()
        self.model, self.chosen = model, chosen

    def forward(self, x):
        found: dict[str, torch.Tensor] = {}
        modules = dict(self.model.named_modules())
        hooks = [modules[name].register_forward_hook(lambda m, _, out, name=name: found.__setitem__(name, out)) for name in self.chosen]
        try:
            self.model.encode(x)
        finally:
            for hook in hooks:
                hook.remove()
        return tuple(found[name] for name in self.chosen)


def shown_layers(model: models.Autoencoder) -> list[tuple[str, str]]:
    """(module name, label) of the encoder's layers the layer view shows: where an activation (or a
    pooling) gives a (C, H, W) output (the later of two in a row of one shape), and the last such
    output before the code, whatever made it; [] for an encoder without convolutions."""
    found: list[tuple[str, nn.Module, tuple]] = []
    hooks = [
        module.register_forward_hook(lambda m, _, out, name=name: found.append((name, m, tuple(out.shape))))
        for name, module in model.named_modules()
        if not list(module.children())
    ]
    try:
        with torch.inference_mode():
            model.encode(torch.zeros(1, 1, model.image_size, model.image_size))
    finally:
        for hook in hooks:
            hook.remove()
    spatial = [item for item in found if len(item[2]) == 4 and item[2][-1] > 1]
    chosen = [item for item in spatial if isinstance(item[1], SHOWN)]
    if spatial and (not chosen or chosen[-1][0] != spatial[-1][0]):
        chosen.append(spatial[-1])
    kept = [item for item, after in zip(chosen, chosen[1:] + [None]) if after is None or after[2] != item[2]]
    return [(name, f"{name}: {type(module).__name__}") for name, module, _ in kept]


def _onnx(module: nn.Module, example: torch.Tensor, input_name: str, output_names: list[str]) -> bytes:
    buffer = io.BytesIO()
    axes = {name: {0: "batch"} for name in [input_name, *output_names]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's notice of its own future
            torch.onnx.export(
                module,
                (example,),
                buffer,
                dynamo=False,
                opset_version=OPSET,
                input_names=[input_name],
                output_names=output_names,
                dynamic_axes=axes,
            )
    except Exception as e:  # the exporter raises many types for an op it cannot express
        raise ExportError(f"ONNX export failed: {type(e).__name__}: {str(e).splitlines()[0]}") from None
    return buffer.getvalue()


def graphs(model: models.Autoencoder) -> tuple[dict[str, bytes], list[str]]:
    """({file name: ONNX bytes} of the encoder, decoder and layer view, the layer view's labels)."""
    model = copy.deepcopy(model).float().eval()  # the caller's model (a run's, mid-training) stays as it was
    image = torch.rand(1, 1, model.image_size, model.image_size)
    out = {
        "encoder": _onnx(_Encoder(model), image, "image", ["code"]),
        "decoder": _onnx(_Decoder(model), torch.zeros(1, model.latent_dim), "code", ["image"]),
    }
    layers = shown_layers(model)
    if layers:
        out["layers"] = _onnx(_Layers(model, [name for name, _ in layers]), image, "image", [f"layer{i}" for i in range(len(layers))])
    return out, [label for _, label in layers]


def save(path: str | os.PathLike, model: models.Autoencoder, meta: dict) -> Path:
    """Write a checkpoint, its weights and metadata document atomically (checkpoints.load reads
    it), then its served form beside it; returns the path. Every checkpoint the lab writes is
    written here."""
    from safetensors.torch import save as save_tensors

    path = Path(path)
    doc = {
        **meta,
        "format": checkpoints.FORMAT,
        "architecture": model.name,
        "config": model.config_dict(),
        "latent_dim": model.latent_dim,
        "parameters": models.count_parameters(model),
        "versions": {"torch": torch.__version__.split("+")[0], "python": platform.python_version()},
        "saved": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    checkpoints.write_atomic(path, save_tensors(tensors, metadata={checkpoints.META_KEY: json.dumps(doc, separators=(",", ":"))}))
    write_served(path, model, doc)
    return path


def write_served(checkpoint: str | os.PathLike, model: models.Autoencoder, meta: dict) -> Path:
    """The served form of a checkpoint just written (`model` and `meta` as saved): made in a new
    folder, then swapped in for the old one."""
    checkpoint = Path(checkpoint)
    folder = served.folder_of(checkpoint)
    made, labels = graphs(model)
    doc = checkpoints.Meta(meta)
    description = {
        "format": served.FORMAT,
        "source": served.source_digest(checkpoint),
        "latent_dim": model.latent_dim,
        "image_size": model.image_size,
        "generative": bool(model.generative),
        "origin": models.origin(model.name),
        "layers": labels,
        "opset": OPSET,
    }
    new = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, data in made.items():
            (new / f"{name}{served.PACKED}").write_bytes(pack(data))
        (new / served.METER).write_bytes(gzip.compress(json.dumps(meter.for_the_page(doc)).encode(), compresslevel=9, mtime=0))
        (new / served.DESCRIPTION).write_text(json.dumps(description, indent=1))
        for path in new.iterdir():
            os.chmod(path, 0o644)
        os.chmod(new, 0o755)
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(new, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(new, ignore_errors=True)
    return folder


def pack(data: bytes) -> bytes:
    """Byte-shuffle in four lanes (the 1st bytes of every 4-byte group, then the 2nd, ...), then
    gzip. The length and any tail that is not a whole group ride along unchanged."""
    whole = len(data) // 4 * 4
    lanes = np.frombuffer(data[:whole], np.uint8).reshape(-1, 4).T.tobytes()
    return gzip.compress(lanes + data[whole:], compresslevel=9, mtime=0)


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m ae.export",
        description="Write the served form (ONNX, the meter, what pages would take seconds to measure) of checkpoints saved before.",
    )
    p.add_argument("paths", nargs="*", help="checkpoint files (default: every one in $AE_CHECKPOINT_DIR or checkpoints/)")
    p.add_argument(
        "--data-dir", default=None, help="MNIST, for the Compress page's measures and the test digits' map (default: $MNIST_DIR or data/)"
    )
    args = p.parse_args(argv)
    for path in args.paths or checkpoints.checkpoint_files(checkpoints.default_dir()):
        try:
            model, meta = checkpoints.load(path)
            folder = write_served(path, model, meta)
        except (checkpoints.CheckpointError, ExportError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            return 1
        try:
            shipping.ship(path, args.data_dir)
        except mnist.MnistMissingError as e:  # no MNIST here: a server measures them itself, in the background
            print(f"{path}: served without its measures ({e})", file=sys.stderr)
        print(f"{folder}: {sum(f.stat().st_size for f in folder.iterdir()) / 1024:,.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
