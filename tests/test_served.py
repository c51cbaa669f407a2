"""Torch trains, ONNX serves: every checkpoint's served form is written with it, matches torch, and
is all a serving process needs (ae/served.py, ae/export.py, ae/web.py)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ae import checkpoints, export, features, latent, mnist, served
from tests.conftest import ROOT

SHIPPED = checkpoints.checkpoint_files(ROOT / "checkpoints")


def _parity(path, digits):
    model, _ = checkpoints.load(path)
    fast = served.load(path)
    z = latent.encode(model, digits)
    assert np.abs(fast.encode(digits) - z).max() <= 1e-4
    assert np.abs(fast.decode(z) - latent.decode(model, z)).max() <= 1e-4


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_each_shipped_model_is_served_as_torch_computes_it(path, mnist_dir):
    assert served.description(path)["source"] == served.source_digest(path)  # written from this very file
    _parity(path, mnist.digits("test", 250))


def test_the_layer_view_shows_what_the_encoders_layers_output(mnist_dir):
    path = ROOT / "checkpoints" / "conv_bn_elu.safetensors"
    model, _ = checkpoints.load(path)
    digit = mnist.digits("test", 1)[0]
    found = {}
    modules = dict(model.named_modules())
    names = [name for name, _ in export.shown_layers(model)]
    hooks = [modules[n].register_forward_hook(lambda m, _, out, n=n: found.__setitem__(n, out[0].numpy())) for n in names]
    with torch.inference_mode():
        model.encode(torch.as_tensor(digit)[None, None])
    for hook in hooks:
        hook.remove()
    maps = features.feature_maps(served.load(path), digit)
    assert [m.layer.split(":")[0] for m in maps] == names and len(maps) >= 2
    for fmap, name in zip(maps, names):
        assert fmap.shape == found[name].shape
        assert np.allclose(fmap.tiles, features._map("", found[name]).tiles, atol=1e-4)


@pytest.mark.slow
def test_saving_a_checkpoint_writes_its_served_form_and_a_changed_file_is_not_served_stale(tmp_path):
    model, meta = checkpoints.load(ROOT / "checkpoints" / "dense.safetensors")
    path = export.save(tmp_path / "mine.safetensors", model, dict(meta))
    folder = served.folder_of(path)
    assert sorted(p.name for p in folder.iterdir()) == ["decoder.packed.gz", "encoder.packed.gz", "meter.json.gz", "served.json"]
    assert served.load(path).latent_dim == model.latent_dim
    with torch.no_grad():
        model.decoder.bias += 0.1  # "retrained" by a tool that forgot its served form
    from safetensors.torch import save as save_tensors

    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    path.write_bytes(save_tensors(tensors, metadata={checkpoints.META_KEY: json.dumps(meta)}))
    with pytest.raises(checkpoints.CheckpointError, match="older version of the file.*python -m ae.export"):
        served.load(path)
    assert subprocess.run([sys.executable, "-m", "ae.export", str(path)], cwd=ROOT, capture_output=True).returncode == 0
    assert served.load(path).latent_dim == model.latent_dim  # written again: served


def test_a_checkpoint_without_a_served_form_says_how_to_make_one(tmp_path):
    (tmp_path / "bare.safetensors").write_bytes((ROOT / "checkpoints" / "pca2.safetensors").read_bytes())
    with pytest.raises(checkpoints.CheckpointError, match="no served form.*python -m ae.export"):
        served.load(tmp_path / "bare.safetensors")


def test_the_split_file_is_torchs_split():
    perm = torch.randperm(60_000, generator=torch.Generator().manual_seed(0))
    train, val = mnist.split_indices()
    assert np.array_equal(val, np.sort(perm[: mnist.VAL_SIZE].numpy())) and np.array_equal(train, np.sort(perm[mnist.VAL_SIZE :].numpy()))


SERVING = """
import sys
from streamlit.testing.v1 import AppTest
from app_pages import PAGES
for file, _, _ in PAGES:
    at = AppTest.from_file("app.py", default_timeout=120)
    at.switch_page(f"app_pages/{file}.py") if file != "home" else None
    at.run()
    assert not at.exception, (file, at.exception)
print("torch" in sys.modules, "safetensors" in sys.modules)
"""


@pytest.mark.slow
def test_a_serving_process_never_imports_torch(mnist_dir, tmp_path):
    env = {**os.environ, "AE_TRAINING": "off", "AE_ROOMS": str(tmp_path / "rooms.sqlite3"), "AE_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", SERVING], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["False", "False"], out.stdout[-500:]


@pytest.fixture(scope="module")
def serving_app(mnist_dir, chromium):
    """The app served from an install of requirements.txt alone (make serve-venv: no torch), in Chromium."""
    from tests.conftest import missing
    from tests.harness import appserver

    python = os.environ.get("AE_SERVE_PYTHON")
    if not python or not os.path.exists(python):
        missing(
            "this test serves the app from an install of requirements.txt alone: run make serve-venv, then set AE_SERVE_PYTHON=.venv-serve/bin/python (make test does both)"
        )
    probe = subprocess.run(
        [python, "-c", "import importlib.util as u; print(u.find_spec('torch') is None)"], capture_output=True, text=True
    )
    assert probe.stdout.strip() == "True", "the serving install has torch in it"
    with appserver.serve({"MNIST_DIR": str(mnist_dir), "AE_TRAINING": "off"}, python=python) as url, appserver.browser() as b:
        yield url, b


@pytest.mark.browser
def test_every_page_works_from_the_serving_install_and_the_page_gets_the_served_files(serving_app):
    from app_pages import PAGES
    from tests.harness import appserver

    url, b = serving_app
    for file, _, _ in PAGES:
        page = appserver.open_page(b, url, "" if file == "home" else file)
        if file == "draw":
            frame = appserver.live_frame(page)
            assert frame.evaluate("() => window.aeLive.runtime") == "ok"  # the page ran the served files
        if file == "train":
            assert "Training is turned off" in page.inner_text("[data-testid='stMain']")
        assert page.locator("[data-testid='stException']").count() == 0, file
        page.close()


@pytest.mark.browser
def test_every_response_isolates_the_page_and_the_routes_serve_model_files_by_version(serving_app):
    import urllib.error
    import urllib.parse
    import urllib.request

    from tests.harness import appserver

    url, b = serving_app
    with urllib.request.urlopen(f"{url}/ae/health") as r:
        assert r.read() == b"ok"
    page = appserver.open_page(b, url, "draw")
    widget = appserver.live_frame(page).url.split("?")[0]  # the live widget's frame, registered once a page drew it
    page.close()
    for address in [url, f"{url}/draw", f"{url}/ae/health", f"{url}/_stcore/health", widget, urllib.parse.urljoin(widget, "main.js")]:
        with urllib.request.urlopen(address) as r:  # cross-origin isolated: the page may have threads
            isolation = (r.headers["Cross-Origin-Opener-Policy"], r.headers["Cross-Origin-Embedder-Policy"])
            assert isolation == ("same-origin", "require-corp"), address
    digest = served.description(ROOT / "checkpoints" / "conv32.safetensors")["source"][:16]
    with urllib.request.urlopen(f"{url}/ae/models/conv32/encoder.packed.gz?v={digest}") as r:
        assert "immutable" in r.headers["Cache-Control"]
        assert served.unpack(r.read()).startswith(b"\x08")  # an ONNX model's first field
    for wrong in [
        "conv32/encoder.packed.gz?v=0000000000000000",
        "conv32/encoder.packed.gz?v=",  # no version is not every version
        "conv32/conv32.safetensors",
        "..%2Fconv32/meter.json.gz",
        "nope/meter.json.gz",
    ]:
        with pytest.raises(urllib.error.HTTPError, match="40[04]"):
            urllib.request.urlopen(f"{url}/ae/models/{wrong}")
