"""The one training loop, a generator of events, and its command line.

    for event in train(TrainConfig(model="conv", model_config={"latent_dim": 32}, epochs=5)):
        ...                      # Started, BatchEnd, EpochEnd, then Done

The CLI wraps the events in tqdm bars, the Train page's background job keeps the latest one,
tests just iterate. Stopping is closing the generator: the best checkpoint so far is on disk
already (it is written at every improvement) and gets its test metrics on the way out.
A loss that turns NaN or infinite raises TrainingDiverged and leaves no checkpoint behind.

    python -m ae.train --model conv --latent-dim 32 --epochs 20 --out checkpoints/conv32.safetensors
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ae import checkpoints, data, evaluate, models

LOSSES = ("mse", "bce", "l1", "elbo")
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "onecycle")
PRECISIONS = ("auto", "fp32", "bf16")
SAMPLES = 8  # validation digits shown with their reconstructions after every epoch


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; nothing was kept."""


@dataclass
class TrainConfig:
    model: str = "conv"
    model_config: dict = field(default_factory=dict)
    loss: str | None = None  # None: the architecture's own (mse, or bce, or elbo for the vae)
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    epochs: int = 10
    batch_size: int = 128
    limit: int | None = None  # train on the first N images of the 48k training split
    val_limit: int | None = None  # validate on the first N of the 12k validation split
    noise: str = "none"  # denoising: noisy inputs, clean targets
    noise_level: float = 0.0
    augment: bool = False
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # bf16 autocast on AVX-512 BF16 CPUs and GPUs: same quality, ~1.7x faster where measured
    out: str | None = None
    resume: str | None = None
    data_dir: str | None = None
    test_metrics: bool = True
    note: str = ""

    def resolved_loss(self) -> str:
        return self.loss or models.model_class(self.model).default_loss

    def validate(self) -> None:
        """ValueError with a message a user can act on, for every setting that cannot work."""
        cls = models.model_class(self.model)
        loss = self.resolved_loss()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {loss!r}")
        if (loss == "elbo") != (cls.default_loss == "elbo"):
            raise ValueError("the elbo loss goes with the vae, and the vae trains only with it")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise ValueError(f"learning rate must be a positive number up to 10, not {self.lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError("weight decay must be zero or positive")
        if not 1 <= self.epochs <= 10_000:
            raise ValueError("epochs must be between 1 and 10,000")
        if not 2 <= self.batch_size <= 65_536:
            raise ValueError("batch size must be between 2 and 65,536")
        for name in ("limit", "val_limit"):
            value = getattr(self, name)
            if value is not None and value < 2:
                raise ValueError(f"{name} must be at least 2 images")
        if self.noise != "none" and self.noise not in (*data.NOISE_KINDS, data.MIXED):
            raise ValueError(f"noise must be none, {', '.join(data.NOISE_KINDS)} or {data.MIXED}")
        if not 0 <= self.noise_level <= 1:
            raise ValueError("noise level must be between 0 and 1")
        if self.resume is None:
            models.build(self.model, **self.model_config)  # raises on a config the model rejects


# ---- events ------------------------------------------------------------------------------------


@dataclass
class Started:
    model: str
    parameters: int
    device: str
    precision: str
    epochs: int
    batches: int  # per epoch
    train_size: int
    val_size: int
    first_epoch: int  # 1, or where a resumed run goes on


@dataclass
class BatchEnd:
    epoch: int
    batch: int  # 1-based
    batches: int
    loss: float
    seconds: float  # since the epoch began


@dataclass
class EpochEnd:
    epoch: int
    last_epoch: int
    train_loss: float
    val_loss: float
    val_mse: float
    lr: float
    seconds: float
    improved: bool
    inputs: np.ndarray  # (SAMPLES, 28, 28) what the model saw (noisy when denoising)
    outputs: np.ndarray  # its reconstructions
    targets: np.ndarray  # the clean digits


@dataclass
class Done:
    path: str | None
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    seconds: float
    metrics: dict


# ---- pieces ------------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_precision(name: str, device: torch.device) -> str:
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return "bf16"
    return "fp32"


def reconstruction_loss(name: str, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if name == "mse":
        return F.mse_loss(output, target)
    if name == "l1":
        return F.l1_loss(output, target)
    return F.binary_cross_entropy(output.clamp(1e-6, 1 - 1e-6), target)  # bce, and elbo's part


def make_optimizer(cfg: TrainConfig, model: torch.nn.Module, steps: int, device: torch.device):
    params = list(model.parameters())
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    fused = device.type in ("cpu", "cuda")  # one kernel for all parameters: +20% for small models here
    opt = cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    if cfg.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    else:
        sched = None
    return opt, sched


def keep_freed_memory() -> None:
    """Let glibc keep freed tensor buffers for the next batch instead of handing them back to the
    OS and faulting them in again (by default it did so every batch: page faults took a large
    share of a convolutional epoch). Process-wide: training, the app and the bench's inference
    call it; a no-op where libc is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: buffers up to 32 MB come from the heap...
    libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: ...which keeps up to 256 MB free at its top


class _Run:
    """State of one run: what the generator needs between yields and on the way out."""

    def __init__(self, cfg: TrainConfig):
        keep_freed_memory()
        torch.manual_seed(cfg.seed)
        self.history: list[dict] = []
        self.first_epoch = 1
        self.train_seconds = 0.0
        if cfg.resume:  # architecture and config come from the checkpoint
            self.model, meta = checkpoints.load(cfg.resume)
            cfg = dataclasses.replace(cfg, model=meta["architecture"], model_config=meta["config"])
            self.history = list(meta.get("history") or [])
            self.first_epoch = int(meta.get("epochs_done") or len(self.history)) + 1
            self.train_seconds = float(meta.get("train_seconds") or 0.0)
            cfg.validate()
        else:
            cfg.validate()
            self.model = models.build(cfg.model, **cfg.model_config)
        self.cfg = cfg
        self.loss_name = cfg.resolved_loss()
        self.device = resolve_device(cfg.device)
        self.precision = resolve_precision(cfg.precision, self.device)
        self.model.to(self.device)
        if self.device.type == "cpu":  # oneDNN convolutions run faster on NHWC
            self.model.to(memory_format=torch.channels_last)
        train_x, _ = data.load_split("train", cfg.data_dir)
        val_x, _ = data.load_split("val", cfg.data_dir)
        self.train_x = train_x[: cfg.limit].to(self.device)
        self.val_x = val_x[: cfg.val_limit].to(self.device)
        self.gen = torch.Generator().manual_seed(cfg.seed)  # shuffling, on the CPU
        self.noise_gen = torch.Generator(self.device).manual_seed(cfg.seed + 1)
        self.best_val = math.inf
        self.best_epoch = 0
        self.best_state: dict | None = None
        self.wrote = False
        self.out = Path(cfg.out) if cfg.out else None

    def autocast(self):
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def batch(self, x_u8: torch.Tensor, generator: torch.Generator, train: bool):
        """(model input, clean target) for a uint8 batch: augmentation, then noise."""
        target = data.to_float(x_u8)
        if self.device.type == "cpu":
            target = target.contiguous(memory_format=torch.channels_last)
        if train and self.cfg.augment:
            target = data.augment(target, generator)
        if self.cfg.noise != "none" and self.cfg.noise_level > 0:
            return data.add_noise(target, self.cfg.noise, self.cfg.noise_level, generator), target
        return target, target

    def objective(self, inp: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with self.autocast():
            out, extra = self.model.training_output(inp)
        loss = reconstruction_loss(self.loss_name, out.float(), target)
        if extra is not None:
            loss = loss + extra.float()
        return loss, out

    @torch.no_grad()
    def validate(self) -> tuple[float, float, tuple[np.ndarray, ...]]:
        """(val loss, val MSE of the reconstruction, sample arrays), with the same noise every epoch."""
        self.model.eval()
        gen = torch.Generator(self.device).manual_seed(evaluate.NOISE_SEED)
        total_loss = total_mse = 0.0
        samples = None
        for idx in data.batch_indices(len(self.val_x), 1000, shuffle=False):
            inp, target = self.batch(self.val_x[idx.to(self.device)], gen, train=False)
            loss, _ = self.objective(inp, target)
            out = self.model(inp).float()  # what users see: decode(encode(x)), clamped
            total_loss += loss.item() * len(idx)
            total_mse += F.mse_loss(out, target, reduction="sum").item() / target[0].numel()
            if samples is None:
                k = min(SAMPLES, len(idx))
                samples = tuple(t[:k, 0].float().cpu().numpy() for t in (inp, out, target))
        n = len(self.val_x)
        return total_loss / n, total_mse / n, samples

    def meta(self, complete: bool, metrics: dict | None = None) -> dict:
        return {
            "train": {**dataclasses.asdict(self.cfg), "loss": self.loss_name},
            "seed": self.cfg.seed,
            "history": self.history,
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val,
            "epochs_done": self.history[-1]["epoch"] if self.history else 0,
            "complete": complete,
            "metrics": metrics or {},
            "train_seconds": round(self.train_seconds, 1),
            "machine": checkpoints.machine(),
            "device": str(self.device),
            "precision": self.precision,
            "note": self.cfg.note,
        }

    def keep_best(self, val_loss: float, epoch: int) -> bool:
        if not val_loss < self.best_val:
            return False
        self.best_val, self.best_epoch = val_loss, epoch
        self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if self.out:
            checkpoints.save(self.out, self.model, self.meta(complete=False))
            self.wrote = True
        return True

    def finish(self, complete: bool) -> dict:
        """Back to the best weights, score them on the test set, write the final checkpoint."""
        if self.best_state is None:
            return {}
        self.model.load_state_dict(self.best_state)
        cfg = dataclasses.asdict(self.cfg)
        metrics = evaluate.checkpoint_metrics(self.model, cfg, self.cfg.data_dir) if self.cfg.test_metrics else {}
        if self.out:
            checkpoints.save(self.out, self.model, self.meta(complete, metrics))
        return metrics

    def discard(self) -> None:
        if self.out and self.wrote:
            self.out.unlink(missing_ok=True)


def train(cfg: TrainConfig) -> Iterator[Started | BatchEnd | EpochEnd | Done]:
    """Train one model; yields Started, a BatchEnd per batch, an EpochEnd per epoch, then Done."""
    run = _Run(cfg)
    cfg, model = run.cfg, run.model
    n = len(run.train_x)
    batches = len(data.batch_indices(n, cfg.batch_size, shuffle=False))
    last_epoch = run.first_epoch + cfg.epochs - 1
    yield Started(
        model=cfg.model,
        parameters=models.count_parameters(model),
        device=str(run.device),
        precision=run.precision,
        epochs=cfg.epochs,
        batches=batches,
        train_size=n,
        val_size=len(run.val_x),
        first_epoch=run.first_epoch,
    )
    start = time.perf_counter()
    try:
        if hasattr(model, "fit"):  # closed-form models (PCA): one "epoch", no gradient steps
            model.fit(data.to_float(run.train_x).cpu())
            model.to(run.device)
            val_loss, val_mse, samples = run.validate()
            run.history.append(_epoch_row(run.first_epoch, math.nan, val_loss, val_mse, 0.0, time.perf_counter() - start))
            run.train_seconds += time.perf_counter() - start
            run.keep_best(val_loss, run.first_epoch)
            yield EpochEnd(run.first_epoch, run.first_epoch, math.nan, val_loss, val_mse, 0.0, time.perf_counter() - start, True, *samples)
        else:
            if cfg.resume:  # the resumed weights are the best so far until something beats them
                run.best_val = run.validate()[0]
                run.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                run.best_epoch = run.first_epoch - 1
            opt, sched = make_optimizer(cfg, model, cfg.epochs * batches, run.device)
            for epoch in range(run.first_epoch, last_epoch + 1):
                yield from _epoch(run, opt, sched, epoch, last_epoch, batches)
    except TrainingDiverged:
        run.discard()
        raise
    except BaseException:  # closed (Stop), interrupted: keep what was best so far
        run.finish(complete=False)
        raise
    metrics = run.finish(complete=True)
    yield Done(
        path=str(run.out) if run.out and run.best_state is not None else None,
        best_epoch=run.best_epoch,
        best_val_loss=run.best_val,
        epochs_run=last_epoch - run.first_epoch + 1,
        seconds=time.perf_counter() - start,
        metrics=metrics,
    )


def _epoch(run: _Run, opt, sched, epoch: int, last_epoch: int, batches: int):
    cfg, model = run.cfg, run.model
    model.train()
    t0 = time.perf_counter()
    total, count = 0.0, 0
    for i, idx in enumerate(data.batch_indices(len(run.train_x), cfg.batch_size, run.gen), 1):
        inp, target = run.batch(run.train_x[idx.to(run.device)], run.noise_gen, train=True)
        loss, _ = run.objective(inp, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        value = loss.item()
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"the loss became {value} at epoch {epoch}, batch {i}: nothing was saved. "
                "Try a lower learning rate (or the one-cycle schedule)."
            )
        total += value * len(idx)
        count += len(idx)
        yield BatchEnd(epoch, i, batches, value, time.perf_counter() - t0)
    val_loss, val_mse, samples = run.validate()
    if not math.isfinite(val_loss):
        raise TrainingDiverged(f"the validation loss became {val_loss} at epoch {epoch}: nothing was saved.")
    seconds = time.perf_counter() - t0
    run.train_seconds += seconds
    lr = opt.param_groups[0]["lr"]
    run.history.append(_epoch_row(epoch, total / count, val_loss, val_mse, lr, seconds))
    improved = run.keep_best(val_loss, epoch)
    yield EpochEnd(epoch, last_epoch, total / count, val_loss, val_mse, lr, seconds, improved, *samples)


def _epoch_row(epoch, train_loss, val_loss, val_mse, lr, seconds) -> dict:
    r = lambda v: None if isinstance(v, float) and math.isnan(v) else round(v, 7)  # noqa: E731
    return {
        "epoch": epoch,
        "train_loss": r(train_loss),
        "val_loss": r(val_loss),
        "val_mse": r(val_mse),
        "lr": lr,
        "seconds": round(seconds, 2),
    }


# ---- command line ------------------------------------------------------------------------------


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


def main(argv=None) -> int:
    from tqdm import tqdm

    args = parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
        events = train(cfg)
        epochs_bar = batch_bar = None
        for ev in events:
            if isinstance(ev, Started):
                print(f"{ev.model}: {ev.parameters:,} parameters, {ev.train_size:,} training images, "
                      f"{ev.device} ({ev.precision})", file=sys.stderr)
                epochs_bar = tqdm(total=ev.epochs, desc="epochs", unit="epoch", position=0)
                batch_bar = tqdm(total=ev.batches, desc=f"epoch {ev.first_epoch}", unit="batch", position=1, leave=False)
            elif isinstance(ev, BatchEnd):
                if ev.batch == 1:
                    batch_bar.reset()
                    batch_bar.set_description(f"epoch {ev.epoch}")
                batch_bar.update(1)
                if ev.batch % 10 == 0 or ev.batch == ev.batches:
                    batch_bar.set_postfix(loss=f"{ev.loss:.5f}")
            elif isinstance(ev, EpochEnd):
                epochs_bar.update(1)
                epochs_bar.set_postfix(train=f"{ev.train_loss:.5f}", val=f"{ev.val_loss:.5f}", val_mse=f"{ev.val_mse:.5f}")
                tqdm.write(f"epoch {ev.epoch}: train {ev.train_loss:.5f}  val {ev.val_loss:.5f}  "
                           f"val MSE {ev.val_mse:.5f}  {ev.seconds:.0f} s{'  *best' if ev.improved else ''}", file=sys.stderr)
            elif isinstance(ev, Done):
                batch_bar.close()
                epochs_bar.close()
                test = ev.metrics.get("test", {})
                print(f"done in {ev.seconds:.0f} s: best epoch {ev.best_epoch}, val loss {ev.best_val_loss:.5f}"
                      + (f", test MSE {test['mse']:.5f}, PSNR {test['psnr']:.2f} dB" if test else "")
                      + (f"\nwrote {ev.path}" if ev.path else ""), file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopped; the best checkpoint so far is kept", file=sys.stderr)
        return 130
    except (ValueError, TrainingDiverged, data.MnistMissingError, checkpoints.CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
