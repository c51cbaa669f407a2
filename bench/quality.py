"""Time to quality: how long our training takes to reach a seed's published test loss, against
how long the seed's own recipe takes on the same machine.

Ours is run for real: `ae.train.train` with the model's fast recipe, the clock paused after each
epoch while the model is scored on the 10,000 test digits (the seed's "test loss": the MSE of the
raw output), until it reaches the target. The seed recipe's side is computed, not run for its two
hours: its epochs times 60,000 images at the tutorial loop's throughput measured in the same run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import torch

from ae import data, models
from ae.train import EpochEnd, Started, TrainConfig, train
from bench.training import in_fresh_process


@dataclass(frozen=True)
class Race:
    model: str
    target_mse: float  # the seed's published best test loss
    seed_epochs: int  # of the recipe that reached it
    seed_images: int  # per epoch
    ours: TrainConfig


SEED_004 = Race(
    model="conv_bn_elu",
    target_mse=0.0025443,  # ../shared/seeds/004: the best test loss of its first 80 epochs
    seed_epochs=80,
    seed_images=60_000,
    ours=TrainConfig(model="conv_bn_elu", loss="mse", optimizer="adam", lr=6e-3, schedule="onecycle", ema=0.999, epochs=30, batch_size=32, test_metrics=False),
)


@torch.inference_mode()
def test_mse(model: models.Autoencoder, test: torch.Tensor) -> float:
    """The MSE of the raw output (what the seed's loss measured), over the test digits."""
    was_training = model.training
    model.eval()
    total = 0.0
    for chunk in test.split(1000):
        x = data.to_float(chunk).to(models.device_of(model))
        total += (model.raw_output(x).float() - x).pow(2).sum().item()
    model.train(was_training)
    return total / test[:, 0].numel()


def race(r: Race, data_dir=None, limit: int | None = None, target: float | None = None, rounds: int = 1) -> dict:
    """Seconds and epochs our loop takes to reach the target; the seed recipe's seconds at the
    tutorial loop's throughput here; their ratio. `limit` and `target` make a quicker, looser run."""
    from dataclasses import replace

    target = target or r.target_mse
    test = data.load_split("test", data_dir)[0]
    cfg = replace(r.ours, data_dir=data_dir, limit=limit or r.ours.limit)
    seconds, epochs, reached, scores = 0.0, 0, None, []
    clock = time.perf_counter()
    for event in train(cfg):
        if isinstance(event, Started):
            network = event.network
        elif isinstance(event, EpochEnd):
            seconds += time.perf_counter() - clock  # scoring below is not training time
            epochs = event.epoch
            scores.append(round(test_mse(network, test), 7))
            print(f"time to quality {r.model}: epoch {epochs}, {seconds:.0f} s, test MSE {scores[-1]:.6f}", file=sys.stderr)
            if scores[-1] <= target:
                reached = seconds
                break
            clock = time.perf_counter()
    tutorial = sorted(in_fresh_process("tutorial_img_s", r.model, 12_800, data_dir) for _ in range(rounds))[rounds // 2]
    seed_s = r.seed_epochs * r.seed_images / tutorial
    row = {
        "model": r.model,
        "target_mse": target,
        "ours_s": round(reached, 1) if reached is not None else None,
        "ours_epochs": epochs if reached is not None else None,
        "test_mse_per_epoch": scores,
        "seed_recipe_s": round(seed_s, 1),
        "seed_recipe": f"{r.seed_epochs} epochs of {r.seed_images:,} images at the tutorial loop's {tutorial:,.0f} img/s (computed, not run)",
        "ratio": round(seed_s / reached, 1) if reached else None,
    }
    print(f"time to quality {row}", file=sys.stderr)
    return row
