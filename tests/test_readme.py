"""The README's figures are what the repo's commands print: a number there cannot drift from the
command that measures it."""

import json

import pytest

from ae import checkpoints, compress, novelty
from bench.__main__ import markdown
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_the_speed_and_class_sections_are_the_bench_json_as_the_bench_prints_it():
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_script", ROOT / "scripts" / "readme.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    result = json.loads((ROOT / "docs" / "bench.json").read_text())
    for name, text in script.bench_blocks(result).items():
        assert f"<!-- {name} -->\n{text}\n<!-- /{name} -->" in README, name
    assert (ROOT / "docs" / "bench.md").read_text().strip() == markdown(result).strip()


@pytest.mark.slow
def test_the_is_it_a_digit_table_is_what_ae_novelty_prints(mnist_dir, capsys):
    novelty.main([str(p) for p in checkpoints.checkpoint_files(ROOT / "checkpoints")])
    assert capsys.readouterr().out.strip() in README


@pytest.mark.slow
def test_the_compression_table_is_what_ae_compress_prints(mnist_dir, capsys):
    compress.main([str(ROOT / "checkpoints" / "conv32.safetensors")])
    assert capsys.readouterr().out.strip() in README
