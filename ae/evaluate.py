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
def reconstructions(model: models.Autoencoder, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Float images (N, 1, 28, 28) -> what the model rebuilds of them, in batches, in eval mode."""
    model.eval()
    device = models.device_of(model)
    return torch.cat([model(chunk.to(device)).float().cpu() for chunk in x.split(batch_size)])


def scores(x_hat: torch.Tensor, target: torch.Tensor) -> dict:
    """Per-pixel MSE, mean per-image PSNR (dB, peak 1) and BCE in nats per pixel."""
    per_image = (x_hat - target).pow(2).flatten(1).mean(1)
    bce = F.binary_cross_entropy(x_hat.clamp(1e-6, 1 - 1e-6), target)
    return {"mse": per_image.mean().item(), "psnr": psnr_of_mse(per_image).mean().item(), "bce": bce.item()}


def metrics(
    model: models.Autoencoder,
    images: torch.Tensor,
    noise: str = "none",
    level: float = 0.0,
    seed: int = NOISE_SEED,
) -> dict:
    """Scores of a model on uint8 images; with noise, of its reconstruction of the noisy input
    against the clean digit, and `input_psnr` of the noisy input itself for comparison."""
    clean = data.to_float(images)
    if noise == "none" or level <= 0:
        return scores(reconstructions(model, clean), clean)
    noisy = data.add_noise(clean, noise, level, torch.Generator().manual_seed(seed))
    out = scores(reconstructions(model, noisy), clean)
    out.update(noise=noise, level=level, input_psnr=scores(noisy, clean)["psnr"])
    return out


@functools.lru_cache(maxsize=1)
def _pca_basis(data_dir: str | None):
    train, _ = data.load_split("train", data_dir)
    return models.build("pca", latent_dim=784).fit(data.to_float(train))


def pca(latent_dim: int, data_dir: str | None = None) -> models.Pca:
    """PCA with k components fit on the 48k training split (one eigendecomposition for every k)."""
    full = _pca_basis(str(data_dir) if data_dir else None)
    k = min(latent_dim, full.components.shape[0])
    model = models.build("pca", latent_dim=k)
    model.mean.copy_(full.mean)
    model.components.copy_(full.components[:k])
    return model.eval()


def checkpoint_metrics(model: models.Autoencoder, train_cfg: dict, data_dir=None) -> dict:
    """What a checkpoint stores under "metrics": test scores (all 10k and the first SPOT_CHECK),
    PCA at the same code size, and for a denoiser its scores at gaussian 0.4 (mixed noise) or at
    the noise it was trained on."""
    test, _ = data.load_split("test", data_dir)
    result = {
        "test": metrics(model, test),
        "test_spot_check": {"images": SPOT_CHECK, **metrics(model, test[:SPOT_CHECK])},
        "pca": metrics(pca(model.latent_dim, data_dir), test),
    }
    noise, level = train_cfg.get("noise", "none"), train_cfg.get("noise_level", 0.0)
    if noise != "none" and level > 0:
        kind, level = ("gaussian", 0.4) if noise == data.MIXED else (noise, level)
        result["test_noisy"] = metrics(model, test, kind, level)
    return result


def rescore(path: Path, data_dir=None) -> None:
    """Measure a checkpoint again and store the metrics in it (after a change to the metrics)."""
    model, meta = checkpoints.load(path)
    meta["metrics"] = checkpoint_metrics(model, meta.train, data_dir)
    checkpoints.save(path, model, meta)


def results_row(path: Path, data_dir=None, noise: str = "none", level: float = 0.0) -> dict:
    """One row of the results table for a checkpoint file, measured now (an 'error' row when it cannot be loaded)."""
    try:
        model, meta = checkpoints.load(path)
    except checkpoints.CheckpointError as e:
        return {"name": path.stem, "error": str(e)}
    test, _ = data.load_split("test", data_dir)
    out = {
        "name": path.stem,
        "architecture": meta.architecture,
        "latent_dim": model.latent_dim,
        "parameters": models.count_parameters(model),
        **metrics(model, test),
        "pca_mse": metrics(pca(model.latent_dim, data_dir), test)["mse"],
        "train_seconds": meta.train_seconds,
        "epochs": meta.epochs_done,
        "machine": meta.get("machine"),
        "device": meta.get("device"),
        "precision": meta.get("precision"),
        "denoising": meta.noise_label,
    }
    if noise != "none":
        out["noisy"] = metrics(model, test, noise, level)
    return out


def markdown(rows: list[dict], noise: str = "none", level: float = 0.0) -> str:
    head = ["model", "architecture", "latent", "params", "test MSE", "PSNR dB", "BCE", "PCA MSE (same k)"]
    if noise != "none":
        head.append(f"PSNR gain at {noise} {level:g}")
    head += ["trained", "epochs", "time", "on"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | broken: {r['error']} |" + " |" * (len(head) - 2))
            continue
        cells = [
            r["name"],
            r["architecture"],
            str(r["latent_dim"]),
            f"{r['parameters']:,}",
            f"{r['mse']:.5f}",
            f"{r['psnr']:.2f}",
            f"{r['bce']:.4f}",
            f"{r['pca_mse']:.5f}",
        ]
        if noise != "none":
            n = r["noisy"]
            cells.append(f"{n['psnr'] - n['input_psnr']:+.1f} dB")
        cells += [
            f"denoising, {r['denoising']}" if r["denoising"] else "plain",
            str(r["epochs"] or ""),
            _duration(r["train_seconds"]),
            f"{r['device']} {r['precision']}" if r["precision"] else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _duration(seconds) -> str:
    if not seconds:
        return ""
    m = math.floor(seconds / 60)
    return f"{m} min {seconds - 60 * m:.0f} s" if m else f"{seconds:.0f} s"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Score checkpoints on the 10k MNIST test digits.")
    p.add_argument("paths", nargs="*", type=Path, help="checkpoint files (default: every one in $AE_CHECKPOINT_DIR or checkpoints/)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="a Markdown table (the default)")
    fmt.add_argument("--json", action="store_true", help="one JSON document")
    p.add_argument("--noise", default="none", choices=("none", *data.NOISE_KINDS), help="also score denoising")
    p.add_argument("--level", type=float, default=0.4, help="noise level with --noise (default 0.4)")
    p.add_argument("--data-dir", default=None, help="MNIST root (default $MNIST_DIR or ./data)")
    p.add_argument("--rescore", action="store_true", help="measure again and store the metrics in each file")
    args = p.parse_args(argv)
    paths = args.paths or checkpoints.checkpoint_files(checkpoints.default_dir())
    if not paths:
        p.error(f"no checkpoints given and none in {checkpoints.default_dir()}/")
    try:
        if args.rescore:
            for path in paths:
                rescore(path, args.data_dir)
        rows = [results_row(path, args.data_dir, args.noise, args.level) for path in paths]
    except data.MnistMissingError as e:
        print(e, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"machine": checkpoints.machine(), "rows": rows}, indent=2))
    else:
        print(markdown(rows, args.noise, args.level))
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
