import math
import threading
import time

import pytest

from ae import checkpoints, jobs
from ae.models import base
from ae.train import TrainConfig

QUICK = dict(model="dense", limit=1000, val_limit=300, batch_size=64)


def _wait(job, timeout=90):
    start = time.time()
    while job.running:
        assert time.time() - start < timeout, f"job still {job.state} after {timeout} s"
        time.sleep(0.05)
    return job


def _wait_for_epochs(job, n, timeout=90):
    start = time.time()
    while job.epochs_done < n:
        assert job.running and time.time() - start < timeout
        time.sleep(0.05)


@pytest.mark.slow
def test_a_tiny_run_finishes_and_writes_a_checkpoint(mnist_dir, tmp_path):
    manager = jobs.Manager()
    job = _wait(manager.start(TrainConfig(epochs=2, **QUICK), "tiny", tmp_path))
    assert job.state == "done", job.message
    assert job.epochs_done == 2 and job.batch == job.batches and len(job.steps) == 2 * job.batches
    _, meta = checkpoints.load(tmp_path / "tiny.safetensors")
    assert meta["complete"] and meta["metrics"]["test"]["mse"] == job.metrics["test"]["mse"]
    assert "test MSE" in job.message
    assert manager.jobs() == [job]


@pytest.mark.slow
def test_stop_mid_run_keeps_the_best_so_far(mnist_dir, tmp_path):
    manager = jobs.Manager()
    job = manager.start(TrainConfig(epochs=200, **QUICK), "long", tmp_path)
    _wait_for_epochs(job, 2)
    assert manager.stop()
    _wait(job)
    assert job.state == "stopped" and "Kept the best epoch" in job.message
    model, meta = checkpoints.load(tmp_path / "long.safetensors")
    assert 2 <= meta["epochs_done"] < 200 and not meta["complete"]
    assert meta["metrics"]["test"]["mse"] > 0  # scored on the way out
    assert not manager.stop()  # nothing left to stop


def test_a_second_start_is_refused_while_one_runs(mnist_dir, tmp_path):
    manager = jobs.Manager()
    first = manager.start(TrainConfig(epochs=200, **QUICK), "first", tmp_path)
    with pytest.raises(jobs.JobError, match="'first' is training now"):
        manager.start(TrainConfig(epochs=1, **QUICK), "second", tmp_path)
    manager.stop()
    _wait(first)
    assert not (tmp_path / "second.safetensors").exists()


def test_two_start_requests_at_once_start_one_job(mnist_dir, tmp_path):
    manager = jobs.Manager()
    barrier = threading.Barrier(2)
    results = []

    def request(name):
        barrier.wait()
        try:
            results.append(manager.start(TrainConfig(epochs=200, **QUICK), name, tmp_path))
        except jobs.JobError as e:
            results.append(e)

    threads = [threading.Thread(target=request, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    started = [r for r in results if isinstance(r, jobs.Job)]
    assert len(started) == 1 and sum(isinstance(r, jobs.JobError) for r in results) == 1
    manager.stop()
    _wait(started[0])


def test_a_diverging_run_stops_with_a_message_and_writes_nothing(mnist_dir, tmp_path, monkeypatch):
    real = base.reconstruction_loss
    calls = {"n": 0}

    def poisoned(name, output, target):
        calls["n"] += 1
        return real(name, output, target) * (math.nan if calls["n"] > 30 else 1.0)

    monkeypatch.setattr(base, "reconstruction_loss", poisoned)
    manager = jobs.Manager()
    job = _wait(manager.start(TrainConfig(epochs=5, **QUICK), "nan", tmp_path))
    assert job.state == "diverged" and "nothing was saved" in job.message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../evil", "a/b", "", "x" * 65])
def test_bad_names_are_refused(mnist_dir, tmp_path, name):
    with pytest.raises(jobs.JobError, match="Bad name"):
        jobs.Manager().start(TrainConfig(epochs=1, **QUICK), name, tmp_path)


def test_an_existing_model_is_never_overwritten(mnist_dir, tmp_path):
    (tmp_path / "conv32.safetensors").write_bytes(b"shipped")
    with pytest.raises(jobs.JobError, match="exists already"):
        jobs.Manager().start(TrainConfig(epochs=1, **QUICK), "conv32", tmp_path)
    assert (tmp_path / "conv32.safetensors").read_bytes() == b"shipped"


def test_bad_settings_and_missing_mnist_are_refused_before_starting(tmp_path, mnist_dir):
    with pytest.raises(jobs.JobError, match="learning rate"):
        jobs.Manager().start(TrainConfig(lr=-1, **QUICK), "x", tmp_path)
    with pytest.raises(jobs.JobError, match="MNIST was not found"):
        jobs.Manager().start(TrainConfig(data_dir=str(tmp_path / "none"), **QUICK), "x", tmp_path)


def test_eta_counts_down(mnist_dir, tmp_path):
    job = jobs.Job(name="x", path=tmp_path / "x", config=TrainConfig(), epochs=4, batches=10)
    job.epoch, job.batch, job.epoch_seconds = 1, 5, 10.0
    assert job.eta_seconds() == pytest.approx(10 + 3 * 20)
    job.history = [{"epoch": 1, "seconds": 30.0, "val_loss": 1.0}]
    job.epoch, job.batch = 2, 5
    assert job.eta_seconds() == pytest.approx(15 + 2 * 30)
