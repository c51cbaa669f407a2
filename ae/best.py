"""The best epoch of a run so far: its weights, and its checkpoint on disk, which the loop writes at every improvement."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

from ae import checkpoints, export, models, served


class BestSoFar:
    """Keeps the weights of the best validation loss (`offer`); `write` puts them in `cfg.out` (if
    set) as an incomplete checkpoint; `finish` puts them back in the model and writes the final
    checkpoint, unscored (the caller scores it: ae.results.score)."""

    def __init__(self, cfg, model: models.Autoencoder, resumed: checkpoints.Meta | None, device, precision: str):
        self.cfg, self.model, self.device, self.precision = cfg, model, device, precision
        self.history: list[dict] = list(resumed.history) if resumed else []
        self.epochs_done = resumed.epochs_done if resumed else 0
        self.train_seconds = resumed.train_seconds if resumed else 0.0
        self.val_loss = math.inf
        self.epoch = 0
        self.state: dict | None = None
        self.out = Path(cfg.out) if cfg.out else None
        self.wrote = False

    @property
    def path(self) -> str | None:
        return str(self.out) if self.out and self.state is not None else None

    def baseline(self, val_loss: float) -> None:
        """A resumed run's starting weights: the best so far until an epoch beats them (not written)."""
        self.val_loss, self.epoch = val_loss, self.epochs_done
        self.state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def offer(self, val_loss: float, epoch: int, record: dict) -> bool:
        """Count a finished epoch (its history `record`); keep its weights if they are the best so
        far, and say so."""
        self.history.append(record)
        self.epochs_done = epoch
        self.train_seconds += record["seconds"]
        if not val_loss < self.val_loss:
            return False
        self.val_loss, self.epoch = val_loss, epoch
        self.state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        return True

    def write(self) -> None:
        """The best weights so far as an incomplete checkpoint: what a crash leaves."""
        if self.out:
            export.save(self.out, self.model, self._meta(complete=False))
            self.wrote = True

    def finish(self, complete: bool) -> None:
        """Back to the best weights, written as the final checkpoint."""
        if self.state is None:
            return
        self.model.load_state_dict(self.state)
        if self.out:
            export.save(self.out, self.model, self._meta(complete))

    def discard(self) -> None:
        """A diverged run leaves nothing behind."""
        if self.out and self.wrote:
            self.out.unlink(missing_ok=True)
            shutil.rmtree(served.folder_of(self.out), ignore_errors=True)

    def _meta(self, complete: bool) -> dict:
        return {
            "train": {**dataclasses.asdict(self.cfg), "loss": self.cfg.resolved_loss()},
            "seed": self.cfg.seed,
            "history": self.history,
            "best_epoch": self.epoch,
            "best_val_loss": self.val_loss,
            "epochs_done": self.epochs_done,
            "complete": complete,
            "metrics": {},
            "train_seconds": round(self.train_seconds, 1),
            "machine": checkpoints.machine(),
            "device": str(self.device),
            "precision": self.precision,
            "note": self.cfg.note,
        }
