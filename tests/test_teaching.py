"""What autoencoders are for: "is this a digit?", a learned compressor against JPEG and PCA, and
what the encoder sees."""

import json
import re

import numpy as np
import pytest
import torch

from ae import checkpoints, compress, export, features, meter, models, non_digits, novelty, served
from bench import appserver
from tests.apptools import SEVEN, app, images, live_value, no_exception
from tests.conftest import ROOT

FILLED_SQUARE = [(60, 60), (220, 60), (220, 220), (60, 220), (60, 60), (220, 220), (60, 220), (220, 60)]


def test_the_quantiser_moves_a_code_by_at_most_half_a_step_and_fewer_bits_cost_fewer_bytes():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(1000, 32)) * np.linspace(0.5, 5, 32)
    q = compress.Quantiser.fit(codes)
    for bits in (8, 4, 2):
        moved = np.abs(q.round_trip(codes, bits) - codes)
        assert np.all(moved <= q.step(bits) / 2 + 1e-6)
        assert q.quantise(codes, bits).max() <= 2**bits - 1
    assert [compress.code_bytes(32, b) for b in (8, 4, 2)] == [32, 16, 8]
    assert compress.code_bytes(11, 3) == 5  # 33 bits


def test_the_jpeg_matcher_never_goes_over_the_budget_and_uses_it(mnist_dir):
    from ae import data

    digit = data.to_float(data.load_split("test", mnist_dir)[0][:1])[0, 0].numpy()
    smallest, _ = compress.jpeg(digit, 1)
    for budget in (smallest, smallest + 40, smallest + 150, 2000):
        size, decoded, quality = compress.jpeg_within(digit, budget)
        assert size <= budget and decoded.shape == (28, 28)
        if quality < 95:
            assert compress.jpeg(digit, quality + 1)[0] > budget  # the best quality that fits
    size, _, quality = compress.jpeg_within(digit, 8)
    assert quality == 1 and size == smallest > 8  # too small for JPEG: its smallest, and the page says so


@pytest.mark.parametrize("name", models.available())
def test_the_feature_map_view_works_for_every_architecture(name, tmp_path):
    torch.manual_seed(0)
    model = models.build(name)
    path = export.save(tmp_path / f"{name}.safetensors", model, {})
    maps = features.feature_maps(served.load(path), np.random.default_rng(0).random((28, 28), dtype=np.float32))
    has_convolutions = any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    assert bool(maps) == has_convolutions
    for fmap in maps:
        c, h, w = fmap.shape
        assert fmap.tiles.shape == (min(c, features.MAX_CHANNELS), h, w)
        assert 0 <= fmap.tiles.min() and fmap.tiles.max() <= 1
        assert features.mosaic(fmap).ndim == 2


def test_the_share_of_digits_rebuilt_better_and_what_it_means():
    quantiles = np.linspace(0.001, 0.1, novelty.QUANTILES)
    assert meter.share_better(quantiles, 0.0) == 0 and meter.share_better(quantiles, 1.0) == 1
    assert meter.share_better(quantiles, 0.0505) == pytest.approx(0.5, abs=1e-3)
    assert "looks like a digit" in meter.verdict(0.38) and "62%" in meter.verdict(0.38)
    assert "99.7%" in meter.verdict(0.997) and "does not look like anything" in meter.verdict(0.997)
    assert "every real digit" in meter.verdict(1.0)
    assert novelty.roc_auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 1.0
    assert novelty.roc_auc(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.5


def test_the_verdict_names_the_score_that_spoke():
    both_low = meter.verdict(0.38, 0.45)
    assert "62% of real digits" in both_low and "55% of theirs" in both_low and "looks like a digit" in both_low
    by_code = meter.verdict(0.5, 0.997)
    assert by_code.startswith("Its code looks less like any one digit's than 99.7%") and "does not look like anything" in by_code
    by_error = meter.verdict(0.98, 0.5)
    assert by_error.startswith("Rebuilt worse than 98%") and "an unusual digit" in by_error
    assert "looks like a digit" in meter.verdict(0.97, 0.2)  # under the line: at most 5% of real digits are above it
    assert "any real digit's" in meter.verdict(0.2, 1.0)
    assert meter.percent(0.125) == "13%" and meter.percent(0.9965) == "99.7%"  # halves up, as the page


class Identity(torch.nn.Module):  # the code is the image's first two pixels
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # says where it runs: the CPU

    def encode(self, x):
        return x.flatten(1)[:, :2]


def _two_number_digits(n_per_class: int, seed: int):
    """Images whose code (Identity's) is (label, label) plus noise, narrow along the second number."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), n_per_class)
    images = np.zeros((len(labels), 28, 28))
    images[:, 0, :2] = np.stack([labels, labels], 1) + rng.normal(0, 1, (len(labels), 2)) * [0.1, 0.01]
    return images, labels


def _off_the_line(n: int, seed: int) -> np.ndarray:
    """Images whose code (Identity's) is off the digits' line: (a, a + 2) and (a + 2, a)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 9, n)
    images = np.zeros((n, 28, 28))
    images[:, 0, :2] = np.stack([a, a + 2], 1)
    images[::2, 0, :2] = images[::2, 0, 1::-1]
    return images


def test_the_codes_network_knows_the_digits_and_is_unsure_of_what_it_was_shown_is_none():
    images, labels = _two_number_digits(200, 0)
    z = images[:, 0, :2]
    a = novelty.directions(z, labels)
    stored = {"directions": a.tolist(), "layers": novelty.train_network(z @ a.T, labels, _off_the_line(1000, 1)[:, 0, :2] @ a.T)}
    network = meter.CodeNetwork.of(json.loads(json.dumps(stored)))  # as a checkpoint stores it
    centres = np.stack([np.arange(10), np.arange(10)], 1).astype(float)
    assert (network.logits(centres).argmax(1) == np.arange(10)).all()
    assert network.unsure(centres).max() < 0.05
    assert np.median(network.unsure(_off_the_line(200, 2)[:, 0, :2])) > 0.5  # others of the kind it was shown


def test_the_meter_places_a_drawing_by_its_error_and_by_its_code(monkeypatch):
    train, labels = _two_number_digits(200, 0)
    test, _ = _two_number_digits(100, 1)
    as_stored = torch.as_tensor(train[:, None] * 255)  # what ae.data.to_float turns back into `train`
    monkeypatch.setattr(novelty.data, "load_split", lambda split, data_dir=None: (as_stored, torch.as_tensor(labels)))
    monkeypatch.setattr(novelty, "_outliers", lambda n: _off_the_line(n, 1))
    errors = np.linspace(0.01, 0.02, len(test))
    placed = meter.Meter.of(checkpoints.Meta(metrics=novelty.measure(Identity(), test, errors)))
    assert placed.shares(0.015, test[0, 0, :2])[0] == pytest.approx(0.5, abs=0.01) and placed.shares(0.015, test[0, 0, :2])[1] < 0.99
    by_error, by_code = placed.shares(0.015, np.array([3.0, 5.0]))  # off the digits' line
    assert by_error == pytest.approx(0.5, abs=0.01) and by_code == 1.0
    assert "Its code looks less like any one digit's" in meter.verdict(by_error, by_code)
    assert placed.shares(0.5, test[0, 0, :2])[0] == 1.0
    assert meter.Meter.of(checkpoints.Meta()) is None  # a checkpoint without the quantiles has no meter


def test_non_digits_are_made_the_same_way_every_time():
    a, b = non_digits.non_digits(9), non_digits.non_digits(9)
    assert a.shape == (9, 28, 28) and np.array_equal(a, b) and (a.reshape(9, -1).max(1) > 0.5).all()


@pytest.fixture
def lab(monkeypatch, tiny_checkpoints, mnist_dir):
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tiny_checkpoints))
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))


def _verdict(at) -> str:
    return next(e.value for e in at.main if type(e).__name__ == "Html" and "Is this a digit?" in e.value)


def test_a_digit_looks_like_one_and_a_filled_square_does_not(lab):
    at = app("draw")
    at.sidebar.selectbox(key="model_name").set_value("tiny_conv").run()
    at.session_state["draw_live"] = live_value(SEVEN, runtime="failed")  # the server's own meter
    at.run()
    no_exception(at)
    assert "looks like a digit" in _verdict(at)
    meters = [caption for caption, _ in images(at) if "test digits'" in caption]
    assert [m.split(":")[0] for m in meters] == [meter.WORDS["error_score"], meter.WORDS["code_score"]]
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


def test_the_compress_page_squeezes_a_digit_three_ways_and_plots_the_curves(lab):
    import time

    at = app("compress")
    deadline = time.time() + 180
    while not at.get("plotly_chart") and time.time() < deadline:  # measured in the background, then shown
        time.sleep(1)
        at.run()
    no_exception(at)
    captions = [c for c, _ in images(at)]
    assert sum(c.startswith("Original") for c in captions) == 3
    assert any(c.startswith("JPEG") for c in captions) and any(c.startswith("PCA, ") for c in captions)
    assert at.get("plotly_chart")


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
