"""The benchmark's training comparison and its JSON, which other tools read."""

import json

import pytest

from bench import training
from bench.__main__ import main as bench_main


@pytest.mark.slow
def test_bench_writes_the_promised_json_and_our_loop_beats_the_tutorials(mnist_dir, tmp_path):
    out = tmp_path / "bench.json"
    assert bench_main(["--only", "train", "preprocess", "--models", "dense", "--rounds", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["machine"] and result["preprocess_ms"] > 0
    (row,) = result["train"]
    assert row["model"] == "dense"
    assert row["ratio"] == pytest.approx(row["ours_img_s"] / row["tutorial_img_s"], rel=0.01)
    # the dense model trains >= 10x faster here; 3x leaves room for a slow machine
    assert row["ratio"] > 3
    assert 0 < row["tutorial_img_s"] < row["tutorial_math_img_s"]  # its data loading costs it time


def test_a_measurement_that_fails_in_its_process_says_why(mnist_dir):
    with pytest.raises(RuntimeError, match="unknown architecture 'nope'"):
        training.in_fresh_process("ours_img_s", "nope", 1000)
