"""What a checkpoint stores under "metrics" (measured when training ends, measured again by
--rescore), and the README's results table, read from them.

    python -m ae.results                        # the table of every checkpoint in checkpoints/
    python -m ae.results mine.safetensors --json
    python -m ae.results --rescore              # measure every file again and store the metrics first
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from ae import checkpoints, data, export, models, novelty, shipping
from ae.evaluate import SPOT_CHECK, metrics, pca, per_image_mse, reconstructions

NOISY = ("gaussian", 0.4)  # every checkpoint is also scored cleaning this noise: the table's last figure


def checkpoint_metrics(model: models.Autoencoder, train_cfg: dict, data_dir=None) -> dict:
    """What a checkpoint stores under "metrics": test scores (all 10k and the first SPOT_CHECK),
    PCA at the same code size, its scores on the test digits with gaussian noise 0.4, and what
    the "is this a digit?" meter places a drawing among (ae.novelty)."""
    test, _ = data.load_split("test", data_dir)
    clean = data.to_float(test)
    rebuilt = reconstructions(model, clean)  # once: for the scores and for the meter's errors
    return {
        "test": metrics(model, test, rebuilt=rebuilt),
        "test_spot_check": {"images": SPOT_CHECK, **metrics(model, test[:SPOT_CHECK])},
        "pca": metrics(pca(model.latent_dim, data_dir), test),
        "test_noisy": metrics(model, test, *NOISY),
        **novelty.measure(model, clean[:, 0].numpy(), per_image_mse(rebuilt, clean).numpy(), data_dir, train_cfg.get("limit")),
    }


def rescore(path: Path, data_dir=None) -> dict:
    """Measure a checkpoint (again) and store the metrics in it; the metrics."""
    model, meta = checkpoints.load(path)
    meta["metrics"] = checkpoint_metrics(model, meta.train, data_dir)
    export.save(path, model, meta)
    shipping.ship(path, data_dir)  # what pages would measure, beside the served graphs just written
    return meta["metrics"]


def score(config) -> dict:
    """A run's kept checkpoint scored, once training has ended, finished or stopped: what the
    command line, the Train page's job and `make checkpoints` do after ae.train.train. {} where the
    run keeps no file, or was asked not to score (config: an ae.train_config.TrainConfig)."""
    if not config.test_metrics or not config.out or not Path(config.out).exists():
        return {}
    return rescore(Path(config.out), config.data_dir)


TABLE_HEAD = [
    "model",
    "architecture",
    "latent",
    "params",
    "test MSE",
    "PSNR dB",
    "BCE",
    "PCA MSE (same k)",
    f"PSNR gain at {NOISY[0]} {NOISY[1]:g}",
    "trained",
    "epochs",
    "time",
    "on",
]


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


def stored_metrics(path: Path) -> dict:
    """A checkpoint's stored metrics, or {"error": why} for a file that does not load."""
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
        print(json.dumps({path.stem: stored_metrics(path) for path in paths}, indent=2))
        return 0
    table = results_table(paths)
    print(table)
    return 1 if "broken:" in table else 0


if __name__ == "__main__":
    sys.exit(main())
