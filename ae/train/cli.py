"""`python -m ae.train`: the training loop with tqdm bars, every TrainConfig field as a flag."""

from __future__ import annotations

import argparse
import json
import sys

from ae import checkpoints, data, results
from ae.train import BatchEnd, Done, EpochEnd, Started, train
from ae.train_config import TrainConfig, TrainingDiverged, settings


def parser() -> argparse.ArgumentParser:
    """A flag for every setting of TrainConfig, made from its declaration; the model's own settings
    as --latent-dim and --set KEY=VALUE."""
    p = argparse.ArgumentParser(prog="python -m ae.train", description="Train one autoencoder on MNIST.")
    p.add_argument("--latent-dim", type=int, default=None, help="code size (models with a free one)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="another model setting, e.g. width=16 (JSON value)")
    for f in settings():
        meta, flag = f.metadata, "--" + f.name.replace("_", "-")
        choices = meta["choices"]() if callable(meta["choices"]) else meta["choices"]
        if isinstance(f.default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=meta["help"])
            continue
        kind = {"int": int, "int | None": int, "float": float}.get(str(f.type), str)
        p.add_argument(flag, type=kind, default=f.default, choices=choices, help=meta["help"])
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
    return TrainConfig(model_config=model_config, **{f.name: getattr(args, f.name) for f in settings()})


class Bars:
    """Two tqdm bars (epochs, and batches of the current epoch) and a line per epoch."""

    def __init__(self):
        from tqdm import tqdm

        self.tqdm = tqdm
        self.epochs = self.batches = None

    def show(self, ev) -> None:
        tqdm = self.tqdm
        if isinstance(ev, Started):
            print(
                f"{ev.model}: {ev.parameters:,} parameters, {ev.train_size:,} training images, {ev.device} ({ev.precision})",
                file=sys.stderr,
            )
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
            tqdm.write(
                f"epoch {ev.epoch}: train {ev.train_loss:.5f}  val {ev.val_loss:.5f}  val MSE {ev.val_mse:.5f}  "
                f"{ev.seconds:.0f} s{'  *best' if ev.improved else ''}",
                file=sys.stderr,
            )
        elif isinstance(ev, Done):
            self.batches.close()
            self.epochs.close()
            print(
                f"done in {ev.seconds:.0f} s: best epoch {ev.best_epoch}, val loss {ev.best_val_loss:.5f}"
                + (f"\nwrote {ev.path}" if ev.path else ""),
                file=sys.stderr,
            )


def run(config: TrainConfig) -> int:
    """One run with progress bars, then its kept epoch scored (finished or stopped with Ctrl-C);
    the exit code, with a sentence on stderr when it is not 0."""
    stopped = False
    try:
        bars = Bars()
        for ev in train(config):
            bars.show(ev)
    except KeyboardInterrupt:
        stopped = True
        print("\nstopped; the best epoch so far is kept", file=sys.stderr)
    except (ValueError, TrainingDiverged, data.MnistMissingError, checkpoints.CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        if config.test_metrics and config.out:
            print("scoring it on the 10,000 test digits and teaching its meter…", file=sys.stderr)
        test = results.score(config).get("test")
    except KeyboardInterrupt:
        print(f"\nnot scored: python -m ae.results --rescore {config.out}", file=sys.stderr)
        return 130
    if test:
        print(f"test MSE {test['mse']:.5f}, PSNR {test['psnr']:.2f} dB", file=sys.stderr)
    return 130 if stopped else 0


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return run(config)
