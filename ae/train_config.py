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


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; nothing was kept."""


@dataclass
class TrainConfig:
    model: str = "conv"
    model_config: dict = field(default_factory=dict)
    loss: str | None = None  # None: the architecture's own (its first in `losses`)
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    ema: float = 0.0  # keep a moving average of the weights with this decay (e.g. 0.999), and score it
    epochs: int = 10
    batch_size: int = 128
    limit: int | None = None  # train on the first N images of the 48k training split
    val_limit: int | None = None  # validate on the first N of the 12k validation split
    noise: str = "none"  # denoising: noisy inputs, clean targets
    noise_level: float = 0.0
    augment: bool = False
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # bf16 autocast where the hardware has it (docs/performance.md)
    out: str | None = None
    resume: str | None = None
    data_dir: str | None = None
    test_metrics: bool = True
    note: str = ""

    def resolved_loss(self) -> str:
        return self.loss or models.model_class(self.model).losses[0]

    def validate(self) -> None:
        """ValueError with a message a user can act on, for every setting that cannot work."""
        cls = models.model_class(self.model)
        loss = self.resolved_loss()
        if loss not in cls.losses:
            raise ValueError(f"{self.model} trains with {' or '.join(cls.losses)}, not {loss!r}")
        checks = [
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}"),
            (math.isfinite(self.lr) and 0 < self.lr <= 10, f"learning rate must be a positive number up to 10, not {self.lr}"),
            (math.isfinite(self.weight_decay) and self.weight_decay >= 0, "weight decay must be zero or positive"),
            (0 <= self.ema < 1, "the moving average's decay must be at least 0 and below 1"),
            (1 <= self.epochs <= 10_000, "epochs must be between 1 and 10,000"),
            (2 <= self.batch_size <= 65_536, "batch size must be between 2 and 65,536"),
            (self.limit is None or self.limit >= 2, "limit must be at least 2 images"),
            (self.val_limit is None or self.val_limit >= 2, "val_limit must be at least 2 images"),
            (self.noise in ("none", *data.NOISE_KINDS, data.MIXED), f"noise must be none, {', '.join(data.NOISE_KINDS)} or {data.MIXED}"),
            (0 <= self.noise_level <= 1, "noise level must be between 0 and 1"),
        ]  # fmt: skip
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        if self.resume is None:
            models.build(self.model, **self.model_config)  # raises on a config the model rejects


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
