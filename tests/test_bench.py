"""The benchmark's JSON, which the README quotes and other tools read, from a --quick run.

The quick run is a smoke test: fewer images, one round, a looser time-to-quality target on a
subset. It checks that every part runs and reports what it should; the README's figures come from
the full run (`make bench`), which a test compares with the README (tests/test_readme.py).
"""

import json

import pytest

from bench import training
from bench.__main__ import main as bench_main


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
    (race,) = result["time_to_quality"]
    assert race["quick"] and race["model"] == "conv_bn_elu" and set(race) >= {"target_mse", "ours_s", "ours_epochs", "seed_recipe_s", "ratio"}
    assert race["ours_s"] > 0 and race["seed_recipe_s"] > 0 and race["ratio"] > 0
    assert race["test_mse_per_epoch"][-1] <= race["target_mse"]
    (live,) = result["live"]  # the default model only
    assert live["model"] == "conv32" and 0 < live["p50_ms"] <= live["p95_ms"] and live["frames"] > 10
    assert live["max_abs_diff"] <= 1e-4  # the page computes what torch computes
    assert 0 < result["live_page_mb"] and result["live_reload_mb"] == 0  # a reload downloads nothing


def test_a_measurement_that_fails_in_its_process_says_why(mnist_dir):
    with pytest.raises(RuntimeError, match="unknown architecture 'nope'"):
        training.in_fresh_process("ours_img_s", "nope", 1000)
