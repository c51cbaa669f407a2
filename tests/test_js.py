"""The page's pure functions (ae/live/frontend: preprocess.js, latent.js, meter.js) held to Python
without a browser: golden fixtures that Python writes (tests/js/fixtures.py) and node checks
(tests/js/pure.test.mjs)."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ae import meter
from tests.conftest import missing
from tests.js import fixtures

HERE = Path(__file__).parent


def test_the_fixtures_hold_what_python_computes_now():
    """Python changed without `python -m tests.js.fixtures` fails here, not in the page."""
    stored = fixtures.load()
    given, want = stored["inputs"], stored["outputs"]
    now = fixtures.outputs(given)
    assert given["words"] == meter.WORDS
    for ours, theirs in zip(now["mnist"], want["mnist"]):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert np.abs(fixtures.mnist_of(ours) - fixtures.mnist_of(theirs)).max() <= 1e-6
    assert sum(m is None for m in want["mnist"]) == 1  # the empty canvas, and only it
    assert np.allclose(now["paths"], want["paths"], rtol=0, atol=1e-12)
    assert (now["verdicts"], now["captions"]) == (want["verdicts"], want["captions"])
    assert now["shares"] == pytest.approx(want["shares"], abs=1e-12)
    assert np.allclose(now["logits"], want["logits"], rtol=1e-9, atol=1e-9)
    assert np.allclose(now["unsure"], want["unsure"], rtol=1e-6, atol=1e-15)


def test_the_pages_pure_functions_give_what_python_gives_under_node():
    node = shutil.which("node")
    if node is None:
        missing("these tests need Node.js (`node`) to run the page's JavaScript")
    out = subprocess.run([node, "--test", str(HERE / "js")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "# pass 4" in out.stdout and "# fail 0" in out.stdout
