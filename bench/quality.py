"""Time to quality: how long our training takes to reach a seed's test loss, against how long the
seed's own recipe takes on the same machine.

Ours is run for real: `ae.train.train` with the model's fast recipe, the clock paused after each
epoch while the model is scored on the 10,000 test digits (the seed's "test loss": its loss on the
raw output), until it reaches the target. The seed recipe's side is computed, not run for its
hours: its epochs times 60,000 images at the tutorial loop's throughput, measured in between ours.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, replace

import torch

from ae import data, evaluate, models
from ae.train import BatchEnd, EpochEnd, Started, TrainConfig, train
from bench.training import in_fresh_process

QUICK_IMAGES = 6_000  # --quick: a subset to train on,
QUICK_EPOCHS = 3  # for this many epochs (the schedule shortened to fit),
QUICK_TEST = 2_000  # scored on this many test digits


@dataclass(frozen=True)
class Race:
    model: str
    loss: str  # the seed's: "mse" or "bce"
    target: float  # the seed's best test loss
    target_source: str
    seed_epochs: int  # of the recipe that reached it
    seed_images: int  # per epoch
    ours: TrainConfig
    quick_target: float  # --quick: this looser target, reached in QUICK_EPOCHS on QUICK_IMAGES


SEED_004 = Race(
    model="conv_bn_elu",
    loss="mse",
    target=0.0025443,
    target_source="published: ../shared/seeds/004, the best test loss of its first 80 epochs",
    seed_epochs=80,
    seed_images=60_000,
    ours=TrainConfig(
        model="conv_bn_elu",
        loss="mse",
        optimizer="adam",
        lr=6e-3,
        schedule="onecycle",
        ema=0.998,
        epochs=30,
        batch_size=32,
        test_metrics=False,
    ),
    quick_target=0.04,
)
SEED_002 = Race(
    model="keras_conv",
    loss="bce",
    target=0.063384,
    target_source=(
        "../shared/seeds/002 publishes no test loss: its recipe (Adam 1e-3, batch 128, BCE, 50 epochs) "
        "run in our loop, checkpoints/keras_conv, test BCE after its 50th epoch"
    ),
    seed_epochs=50,
    seed_images=60_000,
    ours=TrainConfig(
        model="keras_conv",
        loss="bce",
        optimizer="adam",
        lr=3e-3,
        schedule="onecycle",
        ema=0.999,
        epochs=12,
        batch_size=32,
        test_metrics=False,
    ),
    quick_target=0.08,
)
RACES = (SEED_004, SEED_002)


def test_loss(model: models.Autoencoder, test: torch.Tensor, loss: str) -> float:
    """The seed's loss ("mse" or "bce") of the raw output, over the test digits."""
    was_training = model.training
    x = data.to_float(test)
    score = evaluate.scores(evaluate.reconstructions(model, x, raw=True), x)[loss]
    model.train(was_training)
    return score


TUTORIAL_EVERY = 3  # epochs between two measurements of the tutorial loop


def race(r: Race, data_dir=None, quick: bool = False) -> dict:
    """Seconds and epochs our loop takes to reach the target; the seed recipe's seconds at the
    tutorial loop's throughput here; their ratio. `quick`: a looser target on a subset.

    The tutorial loop is measured while ours is paused, before its first epoch and after every
    third, and its median is used: the machine's speed drifts over minutes, and both sides must
    see the same machine. A quick run measures it once, at the end."""
    target = r.quick_target if quick else r.target
    test = data.load_split("test", data_dir)[0]
    cfg = replace(r.ours, data_dir=data_dir)
    if quick:
        # no moving average: a few hundred steps are too few for one to catch up
        test, cfg = test[:QUICK_TEST], replace(cfg, limit=QUICK_IMAGES, epochs=QUICK_EPOCHS, ema=0.0)
    seconds, epochs, reached, scores, rates = 0.0, 0, None, [], []
    tutorial_images = 2_560 if quick else 12_800
    clock = time.perf_counter()
    for event in train(cfg):
        if isinstance(event, BatchEnd):
            continue
        seconds += time.perf_counter() - clock  # what follows, until the clock restarts, is not training
        if isinstance(event, Started):
            network = event.network
        elif isinstance(event, EpochEnd):
            epochs = event.epoch
            scores.append(round(test_loss(network, test, r.loss), 7))
            print(f"time to quality {r.model}: epoch {epochs}, {seconds:.0f} s, test {r.loss} {scores[-1]:.6f}", file=sys.stderr)
            if scores[-1] <= target:
                reached = seconds
                break
        if not quick and (isinstance(event, Started) or epochs % TUTORIAL_EVERY == 0):
            rates.append(in_fresh_process("tutorial_img_s", r.model, tutorial_images, data_dir))
        clock = time.perf_counter()
    rates.append(in_fresh_process("tutorial_img_s", r.model, tutorial_images, data_dir))
    tutorial = statistics.median(rates)
    seed_s = r.seed_epochs * r.seed_images / tutorial
    row = {
        "model": r.model,
        "loss": r.loss,
        "target": target,
        "target_source": "looser than the seed's, on a subset (--quick)" if quick else r.target_source,
        "ours_s": round(reached, 1) if reached is not None else None,
        "ours_epochs": epochs if reached is not None else None,
        "test_loss_per_epoch": scores,
        "seed_recipe_s": round(seed_s, 1),
        "seed_recipe": f"{r.seed_epochs} epochs of {r.seed_images:,} images at the tutorial loop's {tutorial:,.0f} img/s (computed, not run)",
        "tutorial_img_s": [round(rate) for rate in rates],
        "ratio": round(seed_s / reached, 1) if reached else None,
        "quick": quick,
    }
    if r.loss == "mse":
        row["target_mse"] = target
    print(f"time to quality {row}", file=sys.stderr)
    return row
