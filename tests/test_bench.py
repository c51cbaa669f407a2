"""The benchmark's JSON, which the README quotes and other tools read, from a --quick run.

The quick run is a smoke test: fewer images, one round, a looser time-to-quality target on a
subset. It checks that every part runs and reports what it should; the README's figures come from
the full run (`make bench`), which a test compares with the README (tests/test_readme.py).
"""

import json

import pytest

from ae import checkpoints
from bench import quality, training
from bench.__main__ import main as bench_main
from tests.conftest import ROOT


@pytest.mark.slow
@pytest.mark.browser
def test_a_quick_bench_writes_every_part_of_the_promised_json(mnist_dir, chromium, tmp_path):
    out = tmp_path / "bench.json"
    parts = ["train", "quality", "preprocess", "live"]
    assert bench_main(["--quick", "--only", *parts, "--models", "dense", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["machine"] and result["preprocess_ms"] > 0
    (row,) = result["train"]
    assert row["model"] == "dense" and row["ratio"] == pytest.approx(row["ours_img_s"] / row["tutorial_img_s"], rel=0.01)
    races = {r["model"]: r for r in result["time_to_quality"]}
    assert set(races) == {"conv_bn_elu", "keras_conv"}  # seeds 004 and 002
    assert races["conv_bn_elu"]["target_mse"] == races["conv_bn_elu"]["target"]
    for race in races.values():
        assert race["quick"] and set(race) >= {"loss", "target", "ours_s", "ours_epochs", "seed_recipe_s", "ratio"}
        assert race["ours_s"] > 0 and race["seed_recipe_s"] > 0 and race["ratio"] > 0
        assert race["test_loss_per_epoch"][-1] <= race["target"]
    (live,) = result["live"]  # the default model only
    assert live["model"] == "conv32" and 0 < live["p50_ms"] <= live["p95_ms"] and live["frames"] > 10
    assert live["max_abs_diff"] <= 1e-4  # the page computes what torch computes
    assert 0 < result["live_page_mb"] and result["live_reload_mb"] == 0  # a reload downloads nothing


def test_the_seed_002_target_is_the_shipped_seed_recipe_run():
    """Seed 002 publishes no test loss: its race's target is the seed recipe's run in our loop."""
    _, meta = checkpoints.load(ROOT / "checkpoints" / "keras_conv.safetensors")
    assert meta.train["epochs"] == 50 and meta.train["batch_size"] == 128 and meta.train["loss"] == "bce"
    assert meta.train["lr"] == 1e-3 and meta.train["schedule"] == "constant" and not meta.train["ema"]
    assert quality.SEED_002.target == pytest.approx(meta.test["bce"], abs=5e-7)


def test_a_measurement_that_fails_in_its_process_says_why(mnist_dir):
    with pytest.raises(RuntimeError, match="unknown architecture 'nope'"):
        training.in_fresh_process("ours_img_s", "nope", 1000)


def test_the_tutorial_loop_trains_torchs_own_elu_as_the_seed_wrote_it():
    import torch

    from ae import models
    from ae.models import base

    ours = models.build("conv_bn_elu")
    assert any(type(m) is base.ELU for m in ours.modules())
    theirs = training._as_tutorials_write_it(models.build("conv_bn_elu"))
    activations = [type(m) for m in theirs.modules() if isinstance(m, torch.nn.ELU)]
    assert len(activations) == 6 and set(activations) == {torch.nn.ELU}


def test_figures_kept_from_another_machine_say_which_machine_measured_them(tmp_path, monkeypatch):
    """--update keeps the parts a run did not measure, each with the machine that measured it."""
    from bench import __main__ as bench

    out = tmp_path / "bench.json"
    out.write_text(json.dumps({"machine": "CPU A", "torch": "2", "preprocess_ms": 1.0, "cold_start_s": 2.0, "inference": []}))
    monkeypatch.setattr(bench.checkpoints, "machine", lambda: "CPU B")
    monkeypatch.setattr(bench, "preprocess_ms", lambda n: 0.5)
    assert bench_main(["--only", "preprocess", "--json", str(out), "--update"]) == 0
    result = json.loads(out.read_text())
    assert result["preprocess_ms"] == 0.5 and result["cold_start_s"] == 2.0
    assert bench.machines(result) == {"preprocess_ms": "CPU B", "cold_start_s": "CPU A", "inference": "CPU A"}
    assert bench.markdown(result).startswith("Measured on CPU A (torch ")
    assert "; preprocess_ms on CPU B." in bench.markdown(result).splitlines()[0]
