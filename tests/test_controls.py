"""The app as shipped (the real checkpoints/ folder) and the controls no other test drives."""

import json

import numpy as np
import pytest

from app_pages import PAGES
from tests.apptools import SEVEN, app, images, live_value, no_exception, served
from tests.conftest import ROOT


@pytest.fixture
def shipped(monkeypatch, mnist_dir):
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(ROOT / "checkpoints"))
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))


def _choose(at, name: str):
    at.sidebar.selectbox(key="model_name").set_value(name).run()
    no_exception(at)
    return at


def _psnr_in(caption: str) -> float:
    return float(caption.rsplit("·", 1)[1].split("dB")[0])


def test_the_denoiser_beats_its_plain_twin_on_the_denoise_page(shipped):
    at = _choose(app("denoise"), "conv32_denoise")
    at.selectbox(key="denoise_compare").set_value("conv32").run()
    for seed in range(3):
        at.number_input(key="denoise_seed").set_value(seed).run()
        captions = {c.split(" ")[0]: c for c, _ in images(at)}
        assert _psnr_in(captions["conv32_denoise"]) > _psnr_in(captions["conv32"])


def test_salt_and_pepper_noise_and_compare_with_change_the_pictures(shipped):
    at = _choose(app("denoise"), "conv32")
    before = images(at)
    at.radio(key="denoise_kind").set_value("salt_pepper").run()
    noisy = images(at)[1]
    assert noisy != before[1]
    pixels = _pixels(noisy[1])
    assert set(np.unique(pixels)) - set(np.unique(_pixels(before[0][1]))) <= {0, 255}  # only black and white added
    at.selectbox(key="denoise_compare").set_value("pca32").run()
    assert images(at)[3][0].startswith("pca32") and images(at)[3] != before[3]


def _pixels(url: str) -> np.ndarray:
    import base64
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


@pytest.mark.parametrize("name", ["conv2", "pca2"])
def test_a_2d_model_gets_the_grid_and_the_grid_slider_changes_it(shipped, name):
    at = _choose(app("explore"), name)
    grid = [u for c, u in images(at) if c.startswith("decode(x, y)")]
    assert grid
    at.slider(key="explore_grid").set_value(8).run()
    smaller = [u for c, u in images(at) if c.startswith("decode(x, y)")]
    assert smaller and smaller != grid
    assert _pixels(smaller[0]).shape[0] < _pixels(grid[0]).shape[0]


def test_the_maps_digit_count_changes_the_points(shipped):
    at = _choose(app("explore"), "conv32")

    def points():
        import base64

        def count(xs):  # a list, or plotly's typed array {"dtype", "bdata"}
            return len(base64.b64decode(xs["bdata"])) // np.dtype(xs["dtype"]).itemsize if isinstance(xs, dict) else len(xs)

        figure = json.loads(at.get("plotly_chart")[0].proto.spec)
        return sum(count(trace["x"]) for trace in figure["data"])

    assert points() == 2000
    at.select_slider(key="explore_count").set_value(500).run()
    assert points() == 500


@pytest.mark.parametrize("page", [file for file, _, _ in PAGES])
def test_a_pca_model_works_on_every_page(shipped, page):
    at = _choose(app(None if page == "home" else page), "pca32")
    if page == "draw":
        at.session_state["draw_live"] = live_value(SEVEN, runtime="failed")
        at.run()
        no_exception(at)
        assert served(at)["model"] == "pca32"


def test_the_train_form_shows_a_bad_or_taken_name_on_the_page_and_overwrites_nothing(shipped, monkeypatch, tmp_path):
    import shutil

    shutil.copy(ROOT / "checkpoints" / "dense.safetensors", tmp_path)
    shutil.copytree(ROOT / "checkpoints" / "dense.served", tmp_path / "dense.served")
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tmp_path))
    before = (tmp_path / "dense.safetensors").read_bytes()
    at = app("train")
    at.selectbox(key="train_arch").set_value("dense").run()
    for name, message in [("../escape", "not a plain name"), ("dense", "exists already")]:
        next(t for t in at.text_input if t.label == "Save as").set_value(name)
        next(b for b in at.get("form_submit_button") if b.label == "Start training").click().run()
        no_exception(at)
        assert any(message in e.value for e in at.error), name
    assert (tmp_path / "dense.safetensors").read_bytes() == before
    assert not (tmp_path.parent / "escape.safetensors").exists()


def test_the_train_form_is_made_from_every_setting_of_a_run_with_its_words_and_range(shipped):
    """A new TrainConfig field is on the page or named as not (NOT_ON_THE_PAGE); each one on it says
    TrainConfig's words and keeps inside its range."""
    import ast

    from ae.train_config import settings

    source = ast.parse((ROOT / "app_pages" / "train.py").read_text())
    kept_off = next(ast.literal_eval(n.value) for n in source.body if isinstance(n, ast.Assign) and n.targets[0].id == "NOT_ON_THE_PAGE")
    at = app("train")
    at.selectbox(key="train_arch").set_value("conv").run()
    widgets = {w.key: w for kind in ("number_input", "selectbox", "checkbox") for w in getattr(at, kind)}
    for f in settings():
        widget = widgets.get(f"train_{f.name}")
        assert (widget is None) == (f.name in kept_off), f.name
        if widget is None:
            continue
        assert f.metadata["help"] in widget.help, f.name
        if f.metadata["between"]:
            lo, hi = f.metadata["between"]
            assert lo <= widget.min <= widget.value <= widget.max <= hi, f.name


def test_the_train_forms_number_fields_hold_their_values_in_range(shipped):
    at = app("train")
    at.selectbox(key="train_arch").set_value("conv").run()
    epochs = at.number_input(key="train_epochs")
    assert (epochs.min, epochs.max) == (1, 200)
    limit = at.number_input(key="train_limit")
    assert (limit.min, limit.max) == (500, 48_000)
    for key in ("train_conv_latent_dim", "train_conv_width"):
        field = at.number_input(key=key)
        assert field.min >= 1 and field.max <= 784
