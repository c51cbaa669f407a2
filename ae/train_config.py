"""What a training run is asked to do, checked before anything starts, and where it starts from."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import torch

from ae import checkpoints, data, models

OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "onecycle")
PRECISIONS = ("auto", "fp32", "bf16")
LOSSES = (*models.RECONSTRUCTION_LOSSES, "elbo")
NOISES = ("none", *data.NOISE_KINDS, data.MIXED)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; nothing was kept."""


def option(default, help: str, choices=None, between: tuple | None = None, label: str | None = None):
    """A setting of a run: its default, what it means (the CLI's --help and the Train page's), the
    values it may take (a tuple, or a function giving one) or the range it must lie in; `label`
    names it in messages and on the page. The parser, the checks and the form are made from these."""
    return field(default=default, metadata={"help": help, "choices": choices, "between": between, "label": label})


@dataclass
class TrainConfig:
    """One training run, declared once: ae/train/cli.py makes its flags from these fields, `validate`
    its checks, the Train page its form (app_pages/train.py's FORM: which fields, and the page's
    quicker defaults), and each shipped model's recipe is a set of them."""

    model: str = option("conv", "the architecture", choices=models.available)
    model_config: dict = field(default_factory=dict)  # the architecture's own settings (--latent-dim, --set)
    loss: str | None = option(None, "default: the architecture's own", choices=LOSSES)
    optimizer: str = option("adam", "the optimizer", choices=OPTIMIZERS)
    lr: float = option(1e-3, "the (peak) learning rate", between=(1e-8, 10), label="learning rate")
    weight_decay: float = option(0.0, "decoupled weight decay (AdamW) or L2 (Adam)", between=(0, 1), label="weight decay")
    schedule: str = option("constant", "onecycle: warm up, then anneal", choices=SCHEDULES)
    ema: float = option(
        0.0,
        "score and keep a moving average of the weights with this decay (e.g. 0.999)",
        between=(0, 0.99999),
        label="the moving average's decay",
    )
    epochs: int = option(10, "epochs to train", between=(1, 10_000))
    batch_size: int = option(128, "images per step", between=(2, 65_536), label="batch size")
    limit: int | None = option(None, "train on the first N training images", between=(2, 48_000))
    val_limit: int | None = option(None, "validate on the first N validation images", between=(2, 12_000))
    noise: str = option("none", "train to denoise: noisy inputs, clean targets", choices=NOISES)
    noise_level: float = option(0.0, "the noise's level", between=(0, 1), label="noise level")
    augment: bool = option(False, "random rotation and perspective")
    seed: int = option(0, "seed of the weights, the order and the noise", between=(0, 2**31 - 1))
    device: str = option("auto", "auto, cpu, cuda, mps")
    precision: str = option("auto", "bf16: autocast (auto: where the hardware has it)", choices=PRECISIONS)
    out: str | None = option(None, "checkpoint file to write (best by validation loss)")
    resume: str | None = option(None, "go on training this checkpoint (its architecture and config)")
    data_dir: str | None = option(None, "MNIST root (default $MNIST_DIR or ./data)")
    test_metrics: bool = option(True, "score the kept epoch on the test set at the end")
    note: str = option("", "a line kept in the checkpoint's metadata")

    def resolved_loss(self) -> str:
        return self.loss or models.model_class(self.model).losses[0]

    def validate(self) -> None:
        """ValueError with a message a user can act on, for every setting that cannot work."""
        for f in settings():
            value, meta, name = getattr(self, f.name), f.metadata, f.metadata.get("label") or f.name.replace("_", " ")
            if value is None and f.default is None:
                continue
            choices = meta["choices"]() if callable(meta["choices"]) else meta["choices"]
            if choices and value not in choices:
                raise ValueError(
                    f"unknown {'architecture' if f.name == 'model' else name} {value!r}: one of {', '.join(map(str, choices))}"
                )
            lo, hi = meta["between"] or (None, None)
            if lo is not None and not (
                isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and lo <= value <= hi
            ):
                raise ValueError(f"{name} must be a number from {lo:g} to {hi:,g}, not {value}")
        loss = self.resolved_loss()
        if loss not in models.model_class(self.model).losses:
            raise ValueError(f"{self.model} trains with {' or '.join(models.model_class(self.model).losses)}, not {loss!r}")
        if self.resume is None:
            models.build(self.model, **self.model_config)  # raises on a config the model rejects


def settings() -> list:
    """The fields of a run that are settings (all but the model's own config)."""
    return [f for f in dataclasses.fields(TrainConfig) if "help" in f.metadata]


def start_from(cfg: TrainConfig) -> tuple[models.Autoencoder, TrainConfig, checkpoints.Meta | None]:
    """(model, the config completed, the resumed checkpoint's metadata or None): a fresh model, or
    the checkpoint to go on from, whose architecture and config win. ValueError on a bad config."""
    if not cfg.resume:
        cfg.validate()
        return models.build(cfg.model, **cfg.model_config), cfg, None
    model, meta = checkpoints.load(cfg.resume)
    cfg = dataclasses.replace(cfg, model=meta.architecture, model_config=meta.config)
    cfg.validate()
    return model, cfg, meta


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
