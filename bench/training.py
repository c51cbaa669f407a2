"""Training throughput: our loop against the loop the tutorials use, each in a fresh process."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from ae import data, models
from ae.models import base
from ae.train import BatchEnd, TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]

WARMUP_BATCHES = 5


OUR_BATCH = 256  # the dense recipe's batch; the tutorials use 64


def ours_img_s(name: str, images: int, data_dir=None) -> float:
    """Images per second of `ae.train.train` on the first `images` training digits, batch 256."""
    cfg = TrainConfig(model=name, epochs=1, limit=images, val_limit=2, test_metrics=False, data_dir=data_dir, batch_size=OUR_BATCH)
    marks = [(ev.batch, ev.seconds) for ev in train(cfg) if isinstance(ev, BatchEnd)]
    (b0, t0), (b1, t1) = marks[WARMUP_BATCHES - 1], marks[-1]
    return (b1 - b0) * cfg.batch_size / (t1 - t0)


def _as_tutorials_write_it(model: torch.nn.Module) -> torch.nn.Module:
    """torch's own layers where ours differ only in speed (our ELU), as the seeds' code has them."""
    for module in model.modules():
        if type(module) is base.ELU:
            module.__class__ = torch.nn.ELU
    return model


def _tutorial_steps(name: str, batches) -> float:
    """Images per second of the tutorials' step over `batches` after warm-up: Adam, MSE, fp32, NCHW."""
    model = _as_tutorials_write_it(models.build(name)).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start, seen = None, 0
    for i, x in enumerate(batches):
        if i == WARMUP_BATCHES:
            start, seen = time.perf_counter(), 0
        loss = model.training_loss(x, x, "mse" if "mse" in model.losses else model.losses[0])
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(x)
    return seen / (time.perf_counter() - start)


def tutorial_img_s(name: str, images: int, data_dir=None) -> float:
    """The loop the tutorials use: torchvision MNIST + ToTensor through a DataLoader (batch 64,
    shuffle), one image decoded by PIL at a time."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    root = str(data.resolve_data_dir(data_dir))
    ds = Subset(datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor()), range(images))
    return _tutorial_steps(name, (x for x, _ in DataLoader(ds, batch_size=64, shuffle=True)))


MATH_IMAGES = 3_200  # enough batches for a steady figure; this part is only the model's arithmetic


def tutorial_math_img_s(name: str, images: int, data_dir=None) -> float:
    """The same steps on batches already in memory: the tutorial loop with its data loading free,
    the most that a faster input pipeline alone could give."""
    x = data.to_float(data.load_split("train", data_dir)[0][: min(images, MATH_IMAGES)])
    return _tutorial_steps(name, x[torch.randperm(len(x))].split(64))


def in_fresh_process(measure: str, name: str, images: int, data_dir=None) -> float:
    """`measure(name, images, data_dir)` in a new interpreter, as a user would run either loop:
    nothing carried over from the other (our loop's allocator setting, warm caches)."""
    code = "import json, sys; from bench import training; print(json.dumps(getattr(training, sys.argv[1])(*json.loads(sys.argv[2]))))"
    args = [sys.executable, "-c", code, measure, json.dumps([name, images, data_dir])]
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"{measure}({name}) failed:\n{run.stderr[-2000:]}")
    return float(run.stdout.splitlines()[-1])


def training(names: list[str], images: int, rounds: int, data_dir=None, math: bool = True) -> list[dict]:
    """Ours against the tutorial loop, medians of interleaved rounds; with `math`, also the
    tutorial's arithmetic alone (it explains the ratio: what is left when data loading is free)."""
    rows = []
    for name in names:
        if models.model_class(name).closed_form:  # no training loop to compare
            continue
        measures = ("ours_img_s", "tutorial_img_s") + (("tutorial_math_img_s",) if math else ())
        figures: dict[str, list[float]] = {m: [] for m in measures}
        for _ in range(rounds):  # interleaved, so a slow spell of the machine hits all three
            for measure, values in figures.items():
                values.append(in_fresh_process(measure, name, images, data_dir))
        row = {"model": name, **{k: round(statistics.median(v)) for k, v in figures.items()}}
        row["ratio"] = round(row["ours_img_s"] / row["tutorial_img_s"], 2)
        rows.append(row)
        print(f"train {name:15s} {row}", file=sys.stderr)
    return rows
