"""`python -m ae.train`: the training loop with tqdm bars, every TrainConfig field as a flag."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from ae import checkpoints, data, models
from ae.train import BatchEnd, Done, EpochEnd, Started, train
from ae.train_config import (
    LOSSES,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    TrainConfig,
    TrainingDiverged,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ae.train", description="Train one autoencoder on MNIST.")
    p.add_argument("--model", default="conv", choices=models.available())
    p.add_argument("--latent-dim", type=int, default=None, help="code size (models with a free one)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="another model setting, e.g. width=16 (JSON value)")
    p.add_argument("--loss", choices=LOSSES, default=None, help="default: the architecture's own")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--schedule", choices=SCHEDULES, default="constant", help="onecycle: warm up, then anneal")
    p.add_argument("--ema", type=float, default=0.0, help="score and keep a moving average of the weights with this decay (e.g. 0.999)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--limit", type=int, default=None, help="train on the first N training images")
    p.add_argument("--val-limit", type=int, default=None, help="validate on the first N validation images")
    p.add_argument("--noise", default="none", choices=("none", *data.NOISE_KINDS, data.MIXED), help="train to denoise")
    p.add_argument("--noise-level", type=float, default=0.0)
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=False, help="random rotation and perspective")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--precision", choices=PRECISIONS, default="auto", help="bf16: autocast (auto: where the hardware has it)")
    p.add_argument("--out", default=None, help="checkpoint file to write (best by validation loss)")
    p.add_argument("--resume", default=None, help="go on training this checkpoint (its architecture and config)")
    p.add_argument("--data-dir", default=None, help="MNIST root (default $MNIST_DIR or ./data)")
    p.add_argument("--no-test", dest="test_metrics", action="store_false", help="skip the test-set metrics at the end")
    p.add_argument("--note", default="", help="a line kept in the checkpoint's metadata")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    model_config = {}
    if args.latent_dim is not None:
        model_config["latent_dim"] = args.latent_dim
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set wants KEY=VALUE, got {item!r}")
        try:
            model_config[key] = json.loads(value)
        except json.JSONDecodeError:
            model_config[key] = value
        if isinstance(model_config[key], list):
            model_config[key] = tuple(model_config[key])
    names = {f.name for f in dataclasses.fields(TrainConfig)} - {"model_config"}
    return TrainConfig(model_config=model_config, **{k: v for k, v in vars(args).items() if k in names})


class Bars:
    """Two tqdm bars (epochs, and batches of the current epoch) and a line per epoch."""

    def __init__(self):
        from tqdm import tqdm

        self.tqdm = tqdm
        self.epochs = self.batches = None

    def show(self, ev) -> None:
        tqdm = self.tqdm
        if isinstance(ev, Started):
            print(f"{ev.model}: {ev.parameters:,} parameters, {ev.train_size:,} training images, "
                  f"{ev.device} ({ev.precision})", file=sys.stderr)  # fmt: skip
            self.epochs = tqdm(total=ev.epochs, desc="epochs", unit="epoch", position=0)
            self.batches = tqdm(total=ev.batches, desc=f"epoch {ev.first_epoch}", unit="batch", position=1, leave=False)
        elif isinstance(ev, BatchEnd):
            if ev.batch == 1:
                self.batches.reset()
                self.batches.set_description(f"epoch {ev.epoch}")
            self.batches.update(1)
            if ev.batch % 10 == 0 or ev.batch == ev.batches:
                self.batches.set_postfix(loss=f"{ev.loss:.5f}")
        elif isinstance(ev, EpochEnd):
            self.epochs.update(1)
            tqdm.write(f"epoch {ev.epoch}: train {ev.train_loss:.5f}  val {ev.val_loss:.5f}  val MSE {ev.val_mse:.5f}  "
                       f"{ev.seconds:.0f} s{'  *best' if ev.improved else ''}", file=sys.stderr)  # fmt: skip
        elif isinstance(ev, Done):
            self.batches.close()
            self.epochs.close()
            test = ev.metrics.get("test", {})
            print(f"done in {ev.seconds:.0f} s: best epoch {ev.best_epoch}, val loss {ev.best_val_loss:.5f}"
                  + (f", test MSE {test['mse']:.5f}, PSNR {test['psnr']:.2f} dB" if test else "")
                  + (f"\nwrote {ev.path}" if ev.path else ""), file=sys.stderr)  # fmt: skip


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        bars = Bars()
        for ev in train(config_from_args(args)):
            bars.show(ev)
    except KeyboardInterrupt:
        print("\nstopped; the best checkpoint so far is kept", file=sys.stderr)
        return 130
    except (ValueError, TrainingDiverged, data.MnistMissingError, checkpoints.CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
