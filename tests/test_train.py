import math
import time

import pytest
import torch

from ae import checkpoints, data, export, models, results
from ae.models import base
from ae.train import (
    BatchEnd,
    Done,
    EpochEnd,
    Started,
    TrainConfig,
    TrainingDiverged,
    cli,
    train,
)

SMALL = dict(limit=2000, val_limit=500, test_metrics=False)


def test_loss_falls_on_a_2000_image_subset_within_seconds(mnist_dir):
    start = time.perf_counter()
    events = list(train(TrainConfig(model="dense", epochs=3, lr=3e-3, **SMALL)))
    assert time.perf_counter() - start < 30
    assert isinstance(events[0], Started) and isinstance(events[-1], Done)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert len(epochs) == 3
    assert epochs[-1].val_loss < epochs[0].val_loss < 0.2
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert len(batches) == 3 * events[0].batches
    assert batches[-1].loss < batches[0].loss


@pytest.mark.slow
def test_best_checkpoint_is_written_with_history_then_scored_after_training(mnist_dir, tmp_path):
    out = tmp_path / "d.safetensors"
    cfg = TrainConfig(
        model="dense", model_config={"latent_dim": 8}, epochs=2, lr=1e-2, batch_size=32, limit=2000, val_limit=500, out=str(out), seed=7
    )
    done = list(train(cfg))[-1]
    assert done.path == str(out) and checkpoints.load(out)[1]["metrics"] == {}  # training keeps the weights; scoring is after
    assert results.score(cfg)["test"] == checkpoints.load(out)[1]["metrics"]["test"]
    model, meta = checkpoints.load(out)
    assert meta["complete"] and meta["seed"] == 7 and meta["epochs_done"] == 2
    assert [h["epoch"] for h in meta["history"]] == [1, 2]
    assert meta["train"]["loss"] == "mse" and meta["train"]["limit"] == 2000
    test = meta["metrics"]["test"]
    assert set(test) == {"mse", "psnr", "bce"} and 0 < test["mse"] < 0.09
    spot = meta["metrics"]["test_spot_check"]
    assert spot["images"] == 1000 and spot["mse"] != test["mse"]
    assert model.latent_dim == 8


def test_closing_the_generator_keeps_the_best_so_far(mnist_dir, tmp_path):
    out = tmp_path / "stopped.safetensors"
    events = train(TrainConfig(model="dense", epochs=50, out=str(out), **SMALL))
    for ev in events:
        if isinstance(ev, EpochEnd) and ev.epoch == 2:
            break
    events.close()
    _, meta = checkpoints.load(out)
    assert meta["epochs_done"] == 2 and not meta["complete"]


@pytest.mark.parametrize("after_calls", [0, 40])  # at once, or after a good first epoch was written
def test_diverging_run_raises_and_writes_nothing(mnist_dir, tmp_path, monkeypatch, after_calls):
    out = tmp_path / "nan.safetensors"
    calls = {"n": 0}
    real = base.reconstruction_loss

    def poisoned(name, output, target):  # Adam keeps real runs finite even at lr 10: force a NaN
        calls["n"] += 1
        loss = real(name, output, target)
        return loss * math.nan if calls["n"] > after_calls else loss

    monkeypatch.setattr(base, "reconstruction_loss", poisoned)
    with pytest.raises(TrainingDiverged, match="nothing was saved"):
        for _ in train(TrainConfig(model="dense", epochs=5, out=str(out), **SMALL)):
            pass
    assert not out.exists()


def test_denoising_run_sees_noisy_inputs_and_clean_targets(mnist_dir):
    cfg = TrainConfig(model="dense", epochs=1, noise="gaussian", noise_level=0.5, **SMALL)
    epoch = next(e for e in train(cfg) if isinstance(e, EpochEnd))
    assert not (epoch.inputs == epoch.targets).all()
    assert epoch.targets.min() >= 0 and epoch.targets.max() <= 1


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(model="conv_bn_elu", schedule="onecycle", augment=True),
        dict(model="vae", model_config={"latent_dim": 4}),
        dict(model="stacked", loss="l1", optimizer="adamw"),
        dict(model="conv", model_config={"latent_dim": 2, "width": 8}, noise="mixed", noise_level=0.5, precision="bf16"),
    ],
)
def test_every_option_trains(mnist_dir, kwargs):
    events = list(train(TrainConfig(epochs=1, limit=512, val_limit=256, test_metrics=False, **kwargs)))
    assert math.isfinite(events[-1].best_val_loss)


@pytest.mark.slow
def test_pca_fits_in_closed_form_and_beats_nothing_less_than_its_published_score(mnist_dir, tmp_path):
    out = tmp_path / "pca32.safetensors"
    cfg = TrainConfig(model="pca", model_config={"latent_dim": 32}, out=str(out), epochs=1)
    list(train(cfg))
    results.score(cfg)
    _, meta = checkpoints.load(out)
    assert abs(meta["metrics"]["test"]["mse"] - 0.0152) < 0.0005


def test_resume_continues_the_history(mnist_dir, tmp_path):
    out = tmp_path / "r.safetensors"
    list(train(TrainConfig(model="dense", epochs=1, out=str(out), **SMALL)))
    list(train(TrainConfig(resume=str(out), epochs=2, out=str(out), lr=1e-3, **SMALL)))
    _, meta = checkpoints.load(out)
    assert [h["epoch"] for h in meta["history"]] == [1, 2, 3]
    assert meta["architecture"] == "dense"


@pytest.mark.parametrize(
    "bad,message",
    [
        (dict(lr=-1), "learning rate"),
        (dict(lr=float("nan")), "learning rate"),
        (dict(epochs=0), "epochs"),
        (dict(batch_size=1), "batch size"),
        (dict(loss="elbo"), "elbo"),
        (dict(model="vae", loss="mse"), "elbo"),
        (dict(noise="fog"), "noise"),
        (dict(noise="gaussian", noise_level=2), "noise level"),
        (dict(model="conv", model_config={"latent_dim": 0}), "code size"),
        (dict(model="nope"), "unknown architecture"),
    ],
)
def test_bad_settings_are_refused_with_a_message(bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**bad).validate()


def test_cli_trains_and_evaluate_scores_the_result(mnist_dir, tmp_path, capsys):
    out = tmp_path / "cli.safetensors"
    assert cli.main(["--model", "dense", "--epochs", "1", "--limit", "1000", "--out", str(out)]) == 0
    test = checkpoints.load(out)[1]["metrics"]["test"]  # scored once training ended
    assert f"test MSE {test['mse']:.5f}" in capsys.readouterr().err
    assert results.main([str(out)]) == 0
    table = capsys.readouterr().out
    assert "| cli | dense | 32 |" in table
    assert cli.main(["--model", "dense", "--lr", "-1"]) == 2


@pytest.mark.slow
def test_rescore_measures_a_checkpoint_again_and_stores_it(mnist_dir, tmp_path):
    out = tmp_path / "r.safetensors"
    model = models.build("pca", latent_dim=4).fit(data.to_float(data.load_split("train")[0][:2000]))
    export.save(out, model, {"metrics": {"test": {"mse": 1.0}}})
    results.rescore(out)
    metrics = checkpoints.load(out)[1]["metrics"]
    assert 0.03 < metrics["test"]["mse"] < 0.1 and "test_spot_check" in metrics and "pca" in metrics


def test_a_later_worse_epoch_does_not_replace_the_best_weights(mnist_dir, tmp_path, monkeypatch):
    from ae import train as train_module

    real = train_module._validate
    worse_after = 2

    def validate(model, val_x, cfg, autocast):  # epoch 3 scores worse than epoch 2 on validation
        loss, mse, samples = real(model, val_x, cfg, autocast)
        return (loss + 1.0 if validate.calls >= worse_after else loss), mse, samples

    validate.calls = 0
    monkeypatch.setattr(train_module, "_validate", validate)
    out = tmp_path / "best.safetensors"
    kept = None
    for ev in train(TrainConfig(model="dense", epochs=3, out=str(out), lr=3e-3, **SMALL)):
        if isinstance(ev, Started):
            network = ev.network
        if isinstance(ev, EpochEnd):
            validate.calls += 1
            if ev.epoch == 2:
                kept = {k: v.clone() for k, v in network.state_dict().items()}
            if ev.epoch == 3:
                last = network.state_dict()["decoder.weight"].clone()
            assert ev.improved == (ev.epoch <= 2)
    model, meta = checkpoints.load(out)
    assert meta["best_epoch"] == 2 and meta["epochs_done"] == 3
    assert all(torch.equal(model.state_dict()[k], v.cpu()) for k, v in kept.items())
    assert not torch.equal(last, kept["decoder.weight"])  # epoch 3 had moved on
