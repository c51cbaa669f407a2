"""Background training jobs for the Train page: one at a time per server, polled, stoppable.

A job is a thread that runs the one training loop (`ae.train.train`) and keeps the latest state
where any page, tab or reload of this server can read it. Stopping closes the generator, which
keeps the best checkpoint so far. The module-level `manager` lives as long as the process.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ae import checkpoints, data, results, runtime
from ae.train import (
    BatchEnd,
    EpochEnd,
    Started,
    TrainConfig,
    TrainingDiverged,
    train,
)

MAX_CURVE_POINTS = 4000  # batch losses kept for the live curve; older ones are thinned
KEEP_FINISHED = 20


class JobError(ValueError):
    """A job that cannot start; the message says why."""


@dataclass
class Job:
    name: str
    path: Path
    config: TrainConfig
    state: str = "starting"  # starting, running, done, stopped, diverged, failed
    message: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    epochs: int = 0
    first_epoch: int = 1
    batches: int = 0
    epoch: int = 0
    batch: int = 0
    epoch_seconds: float = 0.0  # elapsed in the current epoch
    steps: list = field(default_factory=list)  # (epoch as a float, batch loss)
    history: list = field(default_factory=list)  # one dict per finished epoch
    samples: tuple | None = None  # (inputs, outputs, targets) arrays from the last epoch
    metrics: dict = field(default_factory=dict)
    stop_requested: bool = False

    @property
    def running(self) -> bool:
        return self.state in ("starting", "running")

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    def epoch_fraction(self) -> float:
        return self.batch / self.batches if self.batches else 0.0

    def eta_seconds(self) -> float | None:
        """Seconds left, at the pace of the finished epochs (or of this one so far)."""
        if not self.batches or not self.batch:
            return None
        fraction = self.epoch_fraction()
        per_epoch = np.mean([h["seconds"] for h in self.history]) if self.history else self.epoch_seconds / fraction
        epochs_after_this = self.first_epoch + self.epochs - 1 - self.epoch
        return float(per_epoch * (1 - fraction + epochs_after_this))

    def best(self) -> dict | None:
        return min(self.history, key=lambda h: h["val_loss"]) if self.history else None


class Manager:
    """Starts at most one job at a time; keeps the finished ones for the page's list."""

    def __init__(self):
        self._lock = threading.Lock()
        self.current: Job | None = None
        self.finished: list[Job] = []
        self._stop = threading.Event()

    def start(self, config: TrainConfig, name: str, directory: str | Path) -> Job:
        """Validate and launch; JobError if a job runs, the name is bad or taken, or the config cannot work."""
        if not runtime.training_allowed():
            raise JobError("Training is turned off on this server (AE_TRAINING=off).")
        try:
            name = checkpoints.validate_name(name)
        except checkpoints.CheckpointError as e:
            raise JobError(f"Bad name: {e}.") from None
        path = checkpoints.path_for(directory, name)
        try:
            config.validate()
        except ValueError as e:
            raise JobError(str(e)) from None
        if not data.mnist_available(config.data_dir):
            raise JobError(data.missing_message(data.resolve_data_dir(config.data_dir)))
        with self._lock:
            if self.current is not None and self.current.running:
                raise JobError(f"'{self.current.name}' is training now: one run at a time. Stop it or wait for it to finish.")
            if path.exists():
                raise JobError(f"A model named '{name}' exists already; choose another name (nothing is overwritten).")
            config = dataclasses.replace(config, out=str(path))
            job = Job(name=name, path=path, config=config, epochs=config.epochs)
            self._stop.clear()
            self.current = job
            threading.Thread(target=self._run, args=(job,), name=f"train-{name}", daemon=True).start()
        return job

    def stop(self) -> bool:
        """Ask the running job to stop after its current batch; False if none runs."""
        job = self.current
        if job is None or not job.running:
            return False
        job.stop_requested = True
        self._stop.set()
        return True

    def jobs(self) -> list[Job]:
        """The running job (if any) first, then finished ones, newest first."""
        with self._lock:
            running = [self.current] if self.current is not None and self.current.running else []
            return running + self.finished[::-1]

    def _run(self, job: Job) -> None:
        events = train(job.config)  # widens this thread's OpenMP team to every core while it runs
        stopped = False
        try:
            for ev in events:
                _record(job, ev)
                if self._stop.is_set():
                    events.close()  # keeps the best checkpoint so far
                    stopped = True
                    break
            job.metrics = results.score(job.config)  # once, finished or stopped
            job.state = "stopped" if stopped else "done"
            job.message = _kept(job, "Stopped" if stopped else "Finished")
        except TrainingDiverged as e:
            job.state, job.message = "diverged", str(e)
        except Exception as e:  # shown on the page; the server goes on
            job.state, job.message = "failed", f"{type(e).__name__}: {e}"
        finally:
            job.finished = time.time()
            with self._lock:
                self.finished = [*self.finished, job][-KEEP_FINISHED:]


def _kept(job: Job, verb: str) -> str:
    if not job.path.exists():
        return f"{verb} before the first epoch ended: nothing was saved."
    best = job.best()
    if best is None:
        return f"{verb}."
    text = f"{verb}. Kept the best epoch ({best['epoch']}) as the model '{job.name}'"
    test_mse = job.metrics.get("test", {}).get("mse")
    return text + (f"; test MSE {test_mse:.5f}." if test_mse is not None else ".")


def _record(job: Job, ev) -> None:
    if isinstance(ev, Started):
        job.state, job.batches, job.first_epoch = "running", ev.batches, ev.first_epoch
    elif isinstance(ev, BatchEnd):
        job.epoch, job.batch, job.epoch_seconds = ev.epoch, ev.batch, ev.seconds
        job.steps.append((ev.epoch - 1 + ev.batch / ev.batches, ev.loss))
        if len(job.steps) > MAX_CURVE_POINTS:
            job.steps = job.steps[::2]
    elif isinstance(ev, EpochEnd):
        job.epoch, job.batch = ev.epoch, job.batches
        job.history.append(ev.record())
        job.samples = (ev.inputs, ev.outputs, ev.targets)


manager = Manager()
