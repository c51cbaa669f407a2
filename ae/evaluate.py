"""Metrics on the 10k MNIST test digits, and the results table of the README.

    python -m ae.evaluate checkpoints/*.safetensors --markdown
    python -m ae.evaluate my.safetensors --json --noise gaussian --level 0.4
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ae import checkpoints, data, models

NOISE_SEED = 1234  # the same noisy test set for every model
MIN_MSE = 1e-10  # a perfect copy scores 100 dB, not infinity
SPOT_CHECK = 1000  # the first test digits, scored apart so a quick test can check a file's metrics


def mse(a, b) -> float:
    """Mean squared difference per pixel of two pictures (arrays or tensors, pixels in [0, 1])."""
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def psnr_of_mse(value):
    """Peak signal-to-noise ratio in dB for a peak of 1; a float, or a tensor elementwise."""
    if isinstance(value, torch.Tensor):
        return 10 * torch.log10(1.0 / value.clamp_min(MIN_MSE))
    return float(10 * np.log10(1.0 / max(value, MIN_MSE)))


def psnr(a, b) -> float:
    return psnr_of_mse(mse(a, b))


@torch.inference_mode()
def reconstructions(model: models.Autoencoder, x: torch.Tensor, batch_size: int = 1000, raw: bool = False) -> torch.Tensor:
    """Float images (N, 1, 28, 28) -> what the model rebuilds of them (`raw`: before any clamping),
    in batches, in eval mode."""
    model.eval()
    device = models.device_of(model)
    run = model.raw_output if raw else model
    return torch.cat([run(chunk.to(device)).float().cpu() for chunk in x.split(batch_size)])


def per_image_mse(x_hat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) mean squared error of each image."""
    return (x_hat - target).pow(2).flatten(1).mean(1)


def scores(x_hat: torch.Tensor, target: torch.Tensor) -> dict:
    """Per-pixel MSE, mean per-image PSNR (dB, peak 1) and BCE in nats per pixel."""
    per_image = per_image_mse(x_hat, target)
    bce = F.binary_cross_entropy(x_hat.clamp(1e-6, 1 - 1e-6), target)
    return {"mse": per_image.mean().item(), "psnr": psnr_of_mse(per_image).mean().item(), "bce": bce.item()}


def metrics(
    model: models.Autoencoder,
    images: torch.Tensor,
    noise: str = "none",
    level: float = 0.0,
    seed: int = NOISE_SEED,
    rebuilt: torch.Tensor | None = None,
) -> dict:
    """Scores of a model on uint8 images; with noise, of its reconstruction of the noisy input
    against the clean digit, and `input_psnr` of the noisy input itself for comparison.
    `rebuilt`: the clean images' reconstructions, where the caller has them already."""
    clean = data.to_float(images)
    if noise == "none" or level <= 0:
        out = scores(reconstructions(model, clean) if rebuilt is None else rebuilt, clean)
        if isinstance(model, models.Clamped):  # its own loss saw the raw output: the seeds' figures are of that
            out["raw_mse"] = (reconstructions(model, clean, raw=True) - clean).pow(2).mean().item()
        return out
    noisy = data.add_noise(clean, noise, level, torch.Generator().manual_seed(seed))
    out = scores(reconstructions(model, noisy), clean)
    out.update(noise=noise, level=level, input_psnr=scores(noisy, clean)["psnr"])
    return out


@functools.lru_cache(maxsize=1)
def pca_basis(data_dir: str | None = None) -> models.Pca:
    """PCA with every component, fit on the 48k training split once per process."""
    train, _ = data.load_split("train", data_dir)
    return models.build("pca", latent_dim=784).fit(data.to_float(train))


def pca_model(basis: models.Pca, k: int) -> models.Pca:
    """The first k components of a full basis."""
    k = min(k, basis.components.shape[0])
    model = models.build("pca", latent_dim=k)
    model.mean.copy_(basis.mean)
    model.components.copy_(basis.components[:k])
    return model.eval()


def pca(latent_dim: int, data_dir: str | None = None) -> models.Pca:
    """PCA with k components fit on the 48k training split (one eigendecomposition for every k)."""
    return pca_model(pca_basis(str(data_dir) if data_dir else None), latent_dim)


NOISY = ("gaussian", 0.4)  # every checkpoint is also scored cleaning this noise: the table's last figure


def checkpoint_metrics(model: models.Autoencoder, train_cfg: dict, data_dir=None) -> dict:
    """What a checkpoint stores under "metrics": test scores (all 10k and the first SPOT_CHECK),
    PCA at the same code size, its scores on the test digits with gaussian noise 0.4, and what
    the "is this a digit?" meter places a drawing among (ae.novelty)."""
    from ae import novelty

    test, _ = data.load_split("test", data_dir)
    clean = data.to_float(test)
    rebuilt = reconstructions(model, clean)  # once: for the scores and for the meter's errors
    return {
        "test": metrics(model, test, rebuilt=rebuilt),
        "test_spot_check": {"images": SPOT_CHECK, **metrics(model, test[:SPOT_CHECK])},
        "pca": metrics(pca(model.latent_dim, data_dir), test),
        "test_noisy": metrics(model, test, *NOISY),
        **novelty.measure(model, clean[:, 0].numpy(), per_image_mse(rebuilt, clean).numpy(), data_dir),
    }


def rescore(path: Path, data_dir=None) -> None:
    """Measure a checkpoint again and store the metrics in it (after a change to the metrics)."""
    model, meta = checkpoints.load(path)
    meta["metrics"] = checkpoint_metrics(model, meta.train, data_dir)
    checkpoints.save(path, model, meta)


TABLE_HEAD = [
    "model", "architecture", "latent", "params", "test MSE", "PSNR dB", "BCE", "PCA MSE (same k)",
    f"PSNR gain at {NOISY[0]} {NOISY[1]:g}", "trained", "epochs", "time", "on",
]  # fmt: skip


def table_row(path: Path) -> str:
    """The results table's row of a checkpoint, from the metrics stored in it (tests/test_shipped.py
    measures them again on the whole test set)."""
    try:
        model, meta = checkpoints.load(path)
    except checkpoints.CheckpointError as e:
        return f"| {path.stem} | broken: {e} |" + " |" * (len(TABLE_HEAD) - 2)
    test, noisy = meta.test, meta.metrics.get("test_noisy") or {}
    cells = [
        path.stem,
        meta.architecture,
        str(model.latent_dim),
        f"{meta.parameters:,}",
        f"{test['mse']:.5f}",
        f"{test['psnr']:.2f}",
        f"{test['bce']:.4f}",
        f"{meta.pca_mse:.5f}",
        f"{noisy['psnr'] - noisy['input_psnr']:+.1f} dB" if noisy else "",
        f"denoising, {meta.noise_label}" if meta.denoising else "plain",
        str(meta.epochs_done or ""),
        _duration(meta.train_seconds),
        f"{meta.get('device')} {meta.get('precision')}" if meta.get("precision") else "",
    ]
    return "| " + " | ".join(cells) + " |"


def results_table(paths: list[Path]) -> str:
    """The README's results table: one row per checkpoint, from its stored metrics."""
    return "\n".join(["| " + " | ".join(TABLE_HEAD) + " |", "|" + "---|" * len(TABLE_HEAD), *(table_row(p) for p in paths)])


def _duration(seconds) -> str:
    if not seconds:
        return ""
    m = math.floor(seconds / 60)
    return f"{m} min {seconds - 60 * m:.0f} s" if m else f"{seconds:.0f} s"


def _stored_metrics(path: Path) -> dict:
    try:
        return checkpoints.load(path)[1].metrics
    except checkpoints.CheckpointError as e:
        return {"error": str(e)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="The results table of checkpoints (from their stored test metrics), or measure them again.")
    p.add_argument("paths", nargs="*", type=Path, help="checkpoint files (default: every one in $AE_CHECKPOINT_DIR or checkpoints/)")
    p.add_argument("--json", action="store_true", help="each file's stored metrics as one JSON document instead")
    p.add_argument("--data-dir", default=None, help="MNIST root (default $MNIST_DIR or ./data)")
    p.add_argument("--rescore", action="store_true", help="measure each file on the test set again and store the metrics in it first")
    args = p.parse_args(argv)
    paths = args.paths or checkpoints.checkpoint_files(checkpoints.default_dir())
    if not paths:
        p.error(f"no checkpoints given and none in {checkpoints.default_dir()}/")
    try:
        for path in paths if args.rescore else []:
            rescore(path, args.data_dir)
    except data.MnistMissingError as e:
        print(e, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({path.stem: _stored_metrics(path) for path in paths}, indent=2))
        return 0
    table = results_table(paths)
    print(table)
    return 1 if "broken:" in table else 0


if __name__ == "__main__":
    sys.exit(main())
