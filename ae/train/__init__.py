"""The one training loop, a generator of events, and its command line.

    for event in train(TrainConfig(model="conv", model_config={"latent_dim": 32}, epochs=5)):
        ...                      # Started, BatchEnd per batch, EpochEnd per epoch, then Done

The CLI wraps the events in tqdm bars, the Train page's background job keeps the latest one,
tests just iterate. Stopping is closing the generator: the best checkpoint so far is on disk
already (it is written at every improvement) and gets its test metrics on the way out. A loss
that turns NaN or infinite raises TrainingDiverged and leaves no checkpoint behind.

    python -m ae.train --model conv --latent-dim 32 --epochs 20 --out checkpoints/conv32.safetensors
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ae import runtime

if __name__ == "__main__" and not runtime.torch_installed():  # a serving install: say what training needs
    sys.exit(f"Training needs PyTorch, which this install does not have: {runtime.INSTALL_TRAINING} adds it.")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from ae import data, models  # noqa: E402
from ae.best import BestSoFar  # noqa: E402
from ae.train_config import (  # noqa: E402
    TrainConfig,
    TrainingDiverged,
    resolve_device,
    resolve_precision,
    start_from,
)

__all__ = ["TrainConfig", "TrainingDiverged", "Started", "BatchEnd", "EpochEnd", "Done", "train"]


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
    network: nn.Module  # the model being trained (live: it changes as training goes on)


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
    train_loss: float  # NaN for a closed-form fit
    val_loss: float
    val_mse: float
    lr: float
    seconds: float
    improved: bool
    inputs: np.ndarray  # (SHOWN_DIGITS, 28, 28) what the model saw (noisy when denoising)
    outputs: np.ndarray  # its reconstructions
    targets: np.ndarray  # the clean digits

    def record(self) -> dict:
        """This epoch as a row of the history that checkpoints and the Train page keep."""
        return history_row(self.epoch, self.train_loss, self.val_loss, self.val_mse, self.lr, self.seconds)


def history_row(epoch: int, train_loss: float, val_loss: float, val_mse: float, lr: float, seconds: float) -> dict:
    def rounded(value: float):
        return None if math.isnan(value) else round(value, 7)

    return {
        "epoch": epoch,
        "train_loss": rounded(train_loss),
        "val_loss": rounded(val_loss),
        "val_mse": rounded(val_mse),
        "lr": lr,
        "seconds": round(seconds, 2),
    }


@dataclass
class Done:
    path: str | None
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    seconds: float


SHOWN_DIGITS = 8  # validation digits shown with their reconstructions after every epoch


def train(cfg: TrainConfig) -> Iterator[Started | BatchEnd | EpochEnd | Done]:
    """Train one model: set up; for each epoch, for each batch, forward, loss, backward, step;
    validate; keep the best. Yields Started, a BatchEnd per batch, an EpochEnd per epoch, then Done."""
    threads = runtime.tune_for_training()
    torch.manual_seed(cfg.seed)
    model, cfg, resumed = start_from(cfg)
    device = resolve_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    model.to(device)
    if device.type == "cpu":  # oneDNN's convolutions are faster on NHWC
        model.to(memory_format=torch.channels_last)
    train_x = data.load_split("train", cfg.data_dir)[0][: cfg.limit].to(device)
    val_x = data.load_split("val", cfg.data_dir)[0][: cfg.val_limit].to(device)
    averaged = _average(model, cfg.ema)  # with `ema`, the running average is what is scored and kept
    scored = averaged.module if averaged else model
    best = BestSoFar(cfg, scored, resumed, device, precision)
    batches = len(data.batch_indices(len(train_x), cfg.batch_size, shuffle=False))
    first_epoch = best.epochs_done + 1
    last_epoch = best.epochs_done + cfg.epochs
    loss_name = cfg.resolved_loss()
    autocast = _autocast(device, precision)
    yield Started(
        model=cfg.model,
        parameters=models.count_parameters(model),
        device=str(device),
        precision=precision,
        epochs=cfg.epochs,
        batches=batches,
        train_size=len(train_x),
        val_size=len(val_x),
        first_epoch=first_epoch,
        network=scored,
    )
    start = time.perf_counter()
    try:
        if model.closed_form:
            yield _fit(model, train_x, val_x, cfg, best, first_epoch, autocast)
        else:
            if cfg.resume:  # the resumed weights are the best so far until something beats them
                best.baseline(_validate(scored, val_x, cfg, autocast)[0])
            optimizer, scheduler = _optimizer(cfg, model, cfg.epochs * batches, device)
            order = torch.Generator().manual_seed(cfg.seed)  # shuffling, on the CPU
            noise = torch.Generator(device).manual_seed(cfg.seed + 1)
            for epoch in range(first_epoch, last_epoch + 1):
                model.train()
                epoch_start, total, seen = time.perf_counter(), 0.0, 0
                for i, idx in enumerate(data.batch_indices(len(train_x), cfg.batch_size, order), 1):
                    inputs, targets = data.batch(train_x[idx.to(device)], noise, cfg.noise, cfg.noise_level, cfg.augment)
                    with autocast():
                        loss = model.training_loss(inputs, targets, loss_name)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    if averaged is not None:
                        averaged.update_parameters(model)
                    if scheduler is not None:
                        scheduler.step()
                    value = _finite(loss.item(), f"at epoch {epoch}, batch {i}")
                    total, seen = total + value * len(idx), seen + len(idx)
                    yield BatchEnd(epoch, i, batches, value, time.perf_counter() - epoch_start)
                val_loss, val_mse, samples = _validate(scored, val_x, cfg, autocast)
                _finite(val_loss, f"on the validation digits at epoch {epoch}")
                lr, seconds = optimizer.param_groups[0]["lr"], time.perf_counter() - epoch_start
                improved = best.offer(val_loss, epoch, history_row(epoch, total / seen, val_loss, val_mse, lr, seconds))
                if improved:
                    best.write()
                yield EpochEnd(
                    epoch=epoch,
                    last_epoch=last_epoch,
                    train_loss=total / seen,
                    val_loss=val_loss,
                    val_mse=val_mse,
                    lr=lr,
                    seconds=seconds,
                    improved=improved,
                    inputs=samples[0],
                    outputs=samples[1],
                    targets=samples[2],
                )
    except TrainingDiverged:
        best.discard()
        raise
    except BaseException:  # closed (Stop), interrupted: keep what was best so far (the caller scores it)
        best.finish(complete=False)
        raise
    finally:
        runtime.restore_threads(threads)
    best.finish(complete=True)
    yield Done(
        path=best.path,
        best_epoch=best.epoch,
        best_val_loss=best.val_loss,
        epochs_run=last_epoch - first_epoch + 1,
        seconds=time.perf_counter() - start,
    )


def _fit(model, train_x, val_x, cfg, best, epoch, autocast) -> EpochEnd:
    """A closed-form model (PCA): one fit on every training digit stands for its one epoch."""
    start = time.perf_counter()
    model.fit(data.to_float(train_x).cpu())
    model.to(train_x.device)
    val_loss, val_mse, samples = _validate(model, val_x, cfg, autocast)
    seconds = time.perf_counter() - start
    best.offer(val_loss, epoch, history_row(epoch, math.nan, val_loss, val_mse, 0.0, seconds))
    best.write()
    return EpochEnd(
        epoch=epoch,
        last_epoch=epoch,
        train_loss=math.nan,
        val_loss=val_loss,
        val_mse=val_mse,
        lr=0.0,
        seconds=seconds,
        improved=True,
        inputs=samples[0],
        outputs=samples[1],
        targets=samples[2],
    )


@torch.no_grad()
def _validate(model, val_x, cfg, autocast) -> tuple[float, float, tuple[np.ndarray, ...]]:
    """(loss, MSE of what users see (decode(encode(x)), clamped), sample arrays), with the same noise every epoch."""
    from ae.evaluate import NOISE_SEED, per_image_mse

    model.eval()
    noise = torch.Generator(val_x.device).manual_seed(NOISE_SEED)
    loss_name = cfg.resolved_loss()
    total_loss = total_mse = 0.0
    samples = None
    for idx in data.batch_indices(len(val_x), 1000, shuffle=False):
        inputs, targets = data.batch(val_x[idx.to(val_x.device)], noise, cfg.noise, cfg.noise_level)
        with autocast():
            loss, outputs = model.loss_and_output(inputs, targets, loss_name)
            outputs = outputs.float()
        total_loss += loss.item() * len(idx)
        total_mse += per_image_mse(outputs, targets).sum().item()
        if samples is None:
            samples = tuple(t[:SHOWN_DIGITS, 0].float().cpu().numpy() for t in (inputs, outputs, targets))
    return total_loss / len(val_x), total_mse / len(val_x), samples


def _average(model: nn.Module, decay: float):
    """An exponential moving average of the weights (and batch-norm statistics), or None."""
    if not decay:
        return None
    ema = torch.optim.swa_utils.get_ema_multi_avg_fn(decay)
    return torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=ema, use_buffers=True)


def _optimizer(cfg: TrainConfig, model: nn.Module, steps: int, device: torch.device):
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    fused = device.type in ("cpu", "cuda")  # one kernel for all parameters at once
    optimizer = cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
    if cfg.schedule != "onecycle":
        return optimizer, None
    return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=steps)


def _autocast(device: torch.device, precision: str):
    if precision == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def _finite(value: float, where: str) -> float:
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"the loss became {value} {where}: nothing was saved. Try a lower learning rate (or the one-cycle schedule)."
        )
    return value
