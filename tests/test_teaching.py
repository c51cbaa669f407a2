"""What autoencoders are for: "is this a digit?", a learned compressor against JPEG and PCA, and
what the encoder sees."""

import re

import numpy as np
import pytest
import torch

from ae import checkpoints, meter
from tests.apptools import SEVEN, app, images, live_value, no_exception, served
from tests.conftest import ROOT
from tests.harness import appserver

FILLED_SQUARE = [(60, 60), (220, 60), (220, 220), (60, 220), (60, 60), (220, 220), (60, 220), (220, 60)]


@pytest.fixture
def lab(monkeypatch, tiny_checkpoints, mnist_dir):
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tiny_checkpoints))
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))


def _verdict(at) -> str:
    return served(at)["meter"]["verdict"]  # the server's words, which the widget shows


def test_a_digit_looks_like_one_and_a_filled_square_does_not(lab):
    at = app("draw")
    at.sidebar.selectbox(key="model_name").set_value("tiny_conv").run()
    at.session_state["draw_live"] = live_value(SEVEN, runtime="failed")  # the server's own meter
    at.run()
    no_exception(at)
    assert "looks like a digit" in _verdict(at)
    captions = served(at)["meter"]["captions"]
    assert [c.split(":")[0] for c in captions] == [meter.WORDS["error_score"], meter.WORDS["code_score"]]
    at.session_state["draw_live"] = live_value(FILLED_SQUARE, runtime="failed")
    at.run()
    assert "does not look like anything the model has seen" in _verdict(at)


def test_the_encoder_view_shows_each_layer_of_a_convolutional_model(lab):
    at = app("draw")
    at.sidebar.selectbox(key="model_name").set_value("tiny_conv").run()
    at.session_state["draw_live"] = live_value(SEVEN)
    at.run()
    at.toggle(key="draw_features").set_value(True).run()
    no_exception(at)
    layers = [c for c, _ in images(at) if "maps of" in c]
    assert len(layers) >= 3 and layers[0].startswith("encoder.0.2: SiLU: 8 maps of 28×28")
    at.sidebar.selectbox(key="model_name").set_value("tiny_dense").run()
    assert any("no convolutional layers" in c.value for c in at.caption)


def _squeezed_three_ways(at) -> None:
    no_exception(at)
    captions = [c for c, _ in images(at)]
    assert sum(c.startswith("Original") for c in captions) == 3
    assert any(c.startswith("JPEG") for c in captions) and any(c.startswith("PCA, ") for c in captions)
    assert at.get("plotly_chart")


def test_the_compress_page_squeezes_a_digit_three_ways_and_plots_the_curves_at_once(lab, monkeypatch):
    """A scored checkpoint ships its quantiser and curves (ae.shipping.ship), the package PCA's basis:
    the first run shows all, and the server never reads the training digits for them."""
    from ae import compress, mnist
    from ae.ui import inputs

    test_split = mnist.load_split

    def test_digits_only(split, *args, **kwargs):
        assert split == "test", "the server read the training digits"
        return test_split(split, *args, **kwargs)

    monkeypatch.setattr(mnist, "load_split", test_digits_only)
    compress.pca_basis.cache_clear(), compress.pca_quantiser.cache_clear(), inputs._train_digits.cache_clear()
    _squeezed_three_ways(app("compress"))


def test_a_checkpoint_without_shipped_measures_has_them_measured_in_the_background(monkeypatch, tiny_checkpoints, mnist_dir, tmp_path):
    import shutil
    import time

    from ae import served

    folder = tmp_path / "checkpoints"
    shutil.copytree(tiny_checkpoints, folder)
    for measures in folder.glob(f"*.served/{served.MEASURES}"):
        measures.unlink()
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(folder))
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    at = app("compress")
    no_exception(at)
    assert not at.get("plotly_chart") and any("Compressing 500 test digits" in i.value for i in at.info)
    deadline = time.time() + 180
    while not at.get("plotly_chart") and time.time() < deadline:  # measured in the background, then shown
        time.sleep(1)
        at.run()
    _squeezed_three_ways(at)


# ---- in a browser, with the shipped models ---------------------------------------------------------

LETTER_M = [[(0.2, 0.85), (0.2, 0.15), (0.5, 0.6), (0.8, 0.15), (0.8, 0.85)]]
LETTER_T = [[(0.2, 0.15), (0.8, 0.15)], [(0.5, 0.15), (0.5, 0.85)]]
SQUARE = [[(0.2 + 0.05 * i, 0.2), (0.2 + 0.05 * i, 0.8)] for i in range(13)]  # filled in with the brush


def _drawn_on_the_page(page, frame, strokes):
    """Clear, draw, wait for the frame loop to settle; (verdict, shares, input, code) as the page has them."""
    frame.get_by_role("button", name="Clear").click()
    appserver.draw(page, strokes, canvas=frame.locator("canvas.ink"))
    frame.wait_for_function("() => !window.aeLive.frames.busy && !window.aeLive.frames.requested && window.aeLive.shares")
    page.wait_for_timeout(200)
    return frame.evaluate(
        "() => [document.querySelector('.verdict').textContent, window.aeLive.shares, Array.from(window.aeLive.input), Array.from(window.aeLive.code)]"
    )


@pytest.mark.browser
def test_the_default_models_meter_in_the_page_tells_a_seven_from_a_letter_and_a_square(shipped_app):
    """conv32 on Draw: a seven looks like a digit; a letter M and a filled square do not, and a T is
    unusual by its code (the README's table: four in five pen-drawn letters and shapes are
    called unusual); and the page's shares are the ones ae.meter.Meter gives for the same drawing."""
    url, b = shipped_app
    page = appserver.open_page(b, url, "draw")
    frame = appserver.live_frame(page)
    assert page.get_by_role("combobox", name="Model").input_value().startswith("conv32 ")
    model, meta = checkpoints.load(ROOT / "checkpoints" / "conv32.safetensors")
    placed = meter.Meter.of(meta)
    seen = {}
    for name, strokes in [("seven", appserver.SEVEN), ("letter", LETTER_M), ("square", SQUARE), ("T", LETTER_T)]:
        verdict, shares, x, code = seen[name] = _drawn_on_the_page(page, frame, strokes)
        x = np.array(x, np.float32).reshape(28, 28)
        with torch.inference_mode():
            error = float((model(torch.as_tensor(x)[None, None])[0, 0] - torch.as_tensor(x)).pow(2).mean())
        assert np.allclose(shares, placed.shares(error, np.array(code)), atol=2e-3), name
        assert frame.locator("canvas.meter").count() == 2 and frame.locator("canvas.meter").nth(1).is_visible()
    page.close()
    assert "looks like a digit" in seen["seven"][0] and max(seen["seven"][1]) < 0.9, seen["seven"][:2]
    for name in ("letter", "square"):
        assert "does not look like anything the model has seen" in seen[name][0] and max(seen[name][1]) >= 0.99, seen[name][:2]
    assert seen["T"][0].startswith("Its code looks less like any one digit's"), seen["T"][:2]
    assert "an unusual digit, or not a digit at all" in seen["T"][0]


@pytest.mark.browser
def test_the_encoder_view_in_the_page_shows_each_layer_after_a_stroke(shipped_app):
    url, b = shipped_app
    page = appserver.open_page(b, url, "draw")
    frame = appserver.live_frame(page)
    appserver.draw(page, appserver.SEVEN, canvas=frame.locator("canvas.ink"))
    appserver.wait_idle(page)
    page.get_by_text("What the encoder sees").click()
    page.get_by_text("maps of").first.wait_for(timeout=30_000)
    appserver.wait_idle(page)
    layers = page.get_by_text("maps of").all_inner_texts()
    assert len(layers) >= 3 and all(": " in text and "×" in text for text in layers), layers
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


@pytest.mark.browser
def test_the_compress_page_in_the_browser_shows_three_budgets_and_three_curves(shipped_app):
    url, b = shipped_app
    page = appserver.open_page(b, url, "compress")
    page.locator("[data-testid='stPlotlyChart'] .scatterlayer .trace").nth(2).wait_for(timeout=180_000)
    appserver.wait_idle(page)
    text = page.locator("[data-testid='stMain']").inner_text()
    for size, bits in [(32, 8), (16, 4), (8, 2)]:  # conv32's 32 numbers
        assert f"{size} bytes: {bits} bits for each of the 32 numbers of the code" in text
    assert (
        text.count("Original (784 bytes)") == 3
        and len(re.findall(r"JPEG, \d+ bytes", text)) == 3
        and len(re.findall(r"PCA, \d+ numbers", text)) == 3
    )
    assert page.locator("[data-testid='stPlotlyChart'] .scatterlayer .trace").count() == 3  # conv32, PCA, JPEG
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()
