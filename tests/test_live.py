"""The live path: ONNX copies of the models, the vendored runtime, and the widgets in a real browser
doing in the page what Python does on the server (preprocessing, encode, decode, paths)."""

import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from ae import checkpoints, export, live, meter, preprocess, rooms, served
from tests.conftest import ROOT
from tests.harness import appserver

# ---- export and vendoring, no browser ------------------------------------------------------------


def test_the_meter_file_beside_the_model_holds_the_checkpoints_meter():
    path = ROOT / "checkpoints" / "conv2.safetensors"
    meta = checkpoints.load(path)[1]
    assert json.loads(gzip.decompress((served.folder_of(path) / served.METER).read_bytes())) == meter.for_the_page(meta)
    assert meta.code_network and meta.code_network["layers"][-1]["shape"][0] == 10


def test_a_model_that_cannot_be_exported_is_not_saved_as_served(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("Exporting the operator 'aten::weird' to ONNX is not supported\nmore")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    model, meta = checkpoints.load(ROOT / "checkpoints" / "dense.safetensors")
    with pytest.raises(export.ExportError, match="ONNX export failed: RuntimeError: Exporting the operator 'aten::weird'"):
        export.save(tmp_path / "dense.safetensors", model, dict(meta))
    with pytest.raises(checkpoints.CheckpointError, match="no served form"):  # the app lists it as broken, with why
        served.load(tmp_path / "dense.safetensors")


def test_the_vendored_runtime_is_the_recorded_npm_release():
    folder = live.FRONTEND / "ort"
    record = json.loads((folder / "VENDOR.json").read_text())
    assert record["package"] == "onnxruntime-web" and record["version"] == live.runtime_version()
    assert sorted(record["files"]) == sorted(p.name for p in folder.iterdir() if p.name != "VENDOR.json")
    for name, facts in record["files"].items():
        data_bytes = (folder / name).read_bytes()
        assert len(data_bytes) == facts["bytes"] and hashlib.sha256(data_bytes).hexdigest() == facts["sha256"], name
    import gzip

    wasm = gzip.decompress((folder / "ort-wasm-simd-threaded.wasm.gz").read_bytes())
    assert hashlib.sha256(wasm).hexdigest() == record["files"]["ort-wasm-simd-threaded.wasm.gz"]["unpacked_sha256"]
    assert wasm[:4] == b"\0asm"


def test_a_drawing_that_is_not_a_png_is_refused():
    with pytest.raises(ValueError):
        live.digit_of("data:text/html;base64,PGgxPg==")
    with pytest.raises(ValueError, match="not the canvas"):
        live.digit_of(live.PNG_PREFIX + base64.b64encode(b"not a png").decode())


@pytest.mark.parametrize("size", [(281, 280), (280, 4000), (28, 28), (10_000, 10_000)])
def test_the_server_accepts_a_drawing_only_at_the_canvas_own_size(size):
    import io

    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, format="PNG", optimize=True)  # 10,000 x 10,000 of nothing packs into a few kB
    with pytest.raises(ValueError, match="280x280"):
        live.digit_of(live.PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode())


def test_a_drawing_at_the_canvas_size_is_read():
    points = [(70, 56), (210, 56), (126, 238)]
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(img).line(points, fill=(255, 255, 255, 255), width=20)
    import io

    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    digit = live.digit_of(live.PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode())
    assert digit.shape == (28, 28) and digit.max() == pytest.approx(1.0, abs=0.01)


# ---- in a browser --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tiny_checkpoints, mnist_dir, chromium, tmp_path_factory):
    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_CACHE_DIR": str(tmp_path_factory.mktemp("exports"))}
    with appserver.serve(env) as url, appserver.browser() as b:
        yield url, b, tiny_checkpoints


def _open(server, path: str, model: str | None = None):
    url, b, _ = server
    page = appserver.open_page(b, url, path)
    if model:
        picker = page.get_by_role("combobox", name="Model")
        picker.click()
        page.get_by_role("option", name=model).click()
        appserver.wait_idle(page)
    return page


def _painted(frame, selector: str, index: int = 0) -> int:
    return int(frame.locator(selector).nth(index).get_attribute("data-painted") or 0)


def _drag(page, frame, slider, picture: str, stops) -> tuple[int, int]:
    """Drag a slider from its middle through `stops` (fractions of its width) with the mouse; the
    picture's paint count before, and while the button is still down."""
    slider.scroll_into_view_if_needed()
    frame.wait_for_function(f"() => document.querySelector({picture!r}).dataset.painted >= 1")
    before = _painted(frame, picture)
    box = slider.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.down()
    for f in stops:
        page.mouse.move(box["x"] + box["width"] * f, box["y"] + box["height"] / 2, steps=3)
        page.wait_for_timeout(50)
    during = _painted(frame, picture)
    page.mouse.up()
    return before, during


@pytest.mark.browser
def test_the_reconstruction_follows_the_pen_and_the_server_hears_only_the_stroke_end(server):
    url, b, folder = server
    page = _open(server, "draw")
    frame = appserver.live_frame(page)
    assert frame.evaluate("window.aeLive.runtime") == "ok"
    told = []  # what the page sends the server (a rerun request each), as the network sees it
    cdp = page.context.new_cdp_session(page)
    cdp.on("Network.webSocketFrameSent", lambda event: told.append(event["timestamp"]))
    cdp.send("Network.enable")
    seen = {}

    def mid_stroke(page):  # before mouse-up
        seen["painted"] = _painted(frame, "canvas.digit", 1)
        seen["runs"] = len(told)

    appserver.draw(page, appserver.SEVEN, canvas=frame.locator("canvas.ink"), steps=12, during=mid_stroke)
    assert seen["painted"] >= 3  # redrawn again and again while the pen moved
    assert seen["runs"] == 0  # and the server was not asked
    deadline = time.time() + 20
    while not told and time.time() < deadline:  # once the last ink is painted, on a busy machine too
        page.wait_for_timeout(100)
    page.wait_for_timeout(1500)  # time for a second one, which must not come
    appserver.wait_idle(page)
    assert len(told) == 1  # one rerun asked for when the stroke ended
    digit = np.array(frame.evaluate("Array.from(window.aeLive.input)"), np.float32).reshape(28, 28)
    png = frame.evaluate("document.querySelector('canvas.ink').toDataURL('image/png')")
    ink = np.argwhere(preprocess.ink(preprocess.read_image(base64.b64decode(png.split(",", 1)[1]))) > 0.5) / 280
    (top, left), (bottom, right) = ink.min(0), ink.max(0)  # the ink lies where the pen went
    xs, ys = [x for x, _ in appserver.SEVEN[0]], [y for _, y in appserver.SEVEN[0]]
    assert np.allclose([left, right, top, bottom], [min(xs), max(xs), min(ys), max(ys)], atol=0.06)
    assert np.abs(live.digit_of(png) - digit).max() <= 1 / 255  # the server's copy of the same drawing
    name = page.get_by_role("combobox", name="Model").input_value().split(" · ")[0]
    in_page = frame.evaluate("async (x) => window.aeLive.run(x)", digit.ravel().tolist())
    page.close()
    model, _ = checkpoints.load(folder / f"{name}.safetensors")
    with torch.inference_mode():
        code = model.encode(torch.as_tensor(digit)[None, None])
        output = model.decode(code)
    assert np.abs(np.array(in_page["code"]) - code.numpy().ravel()).max() <= 1e-4
    assert np.abs(np.array(in_page["output"]) - output.numpy().ravel()).max() <= 1e-4


def _visit(context, url: str):
    page = context.new_page()
    page.goto(f"{url}/draw")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    return page


def _server_draws(page, frame) -> int:
    """A stroke, then how many times the widget painted what the server computed of it (0 while the
    page runs the model); the page shows no picture of its own beside the widget's."""
    appserver.wait_idle(page)
    frame.get_by_role("button", name="Clear").click()
    appserver.wait_idle(page)
    before = frame.evaluate("window.aeLive.servedPaints")
    appserver.draw(page, appserver.SEVEN, canvas=frame.locator("canvas.ink"))
    page.wait_for_timeout(500)
    appserver.wait_idle(page)
    assert page.locator(appserver.PICTURES).count() == 0
    return frame.evaluate("window.aeLive.servedPaints") - before


def _says_one_plain_sentence(page, frame) -> str:
    status = frame.locator(".status").inner_text()
    assert "the server computes the pictures" in status and "Unexpected" not in status and "HTTP" not in status, status
    assert page.get_by_text("Live mode is off").count() == 0  # no second message beside the widget's
    return status


GARBLED = {"status": 200, "content_type": "text/html", "body": "<html><body>Blocked by your school's web filter</body></html>"}


@pytest.mark.browser
@pytest.mark.parametrize("what", ["runtime", "model"])
@pytest.mark.parametrize("how", ["blocked", "garbled"])
def test_a_runtime_or_model_file_blocked_or_garbled_falls_back_and_the_next_visit_works(server, what, how):
    url, b, _ = server
    context = b.new_context(viewport={"width": 1440, "height": 1000})  # one profile: IndexedDB lives across visits
    pattern = "**/ort/**" if what == "runtime" else "**/ae/models/**"
    context.route(pattern, (lambda route: route.abort()) if how == "blocked" else (lambda route: route.fulfill(**GARBLED)))
    sent = []  # what the page tells the server (Streamlit's BackMsg, whose widget values are JSON)
    keep = lambda data: sent.append(data if isinstance(data, bytes) else data.encode())  # noqa: E731
    context.on("page", lambda p: p.on("websocket", lambda ws: ws.on("framesent", keep)))
    page = _visit(context, url)
    frame = appserver.live_frame(page)
    assert frame.evaluate("window.aeLive.runtime") == "failed"
    _says_one_plain_sentence(page, frame)
    assert _server_draws(page, frame) == 1  # the server's reconstruction, as before
    assert any(b'"input":"' in data for data in sent)  # of the page's own 28x28: the server need not decode the canvas
    page.close()
    context.unroute(pattern)  # the network is fine again: nothing kept from the failure stands in the way
    page = _visit(context, url)
    frame = appserver.live_frame(page)
    assert frame.evaluate("window.aeLive.runtime") == "ok"
    assert _server_draws(page, frame) == 0
    context.close()


def _offline(server, path: str, widget: str | None = None):
    """A page whose runtime cannot load: its (first, or `widget`'s) live widget on the server path."""
    url, b, _ = server
    page = b.new_page(viewport={"width": 1440, "height": 1000})
    page.route("**/ort/**", lambda route: route.abort())
    page.goto(f"{url}/{path}")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    frame = appserver.live_frame_now(page, widget=widget)
    frame.wait_for_function("() => window.aeLive.runtime === 'failed'", timeout=60_000)
    appserver.wait_idle(page)
    _says_one_plain_sentence(page, frame)
    return page, frame


def _served_after(page, frame, before: int) -> str:
    """Wait for the widget to paint one more of the server's frames; what it then shows."""
    frame.wait_for_function(f"() => window.aeLive.servedPaints > {before}", timeout=30_000)
    appserver.wait_idle(page)
    assert frame.locator("canvas.digit").is_visible()
    return frame.evaluate("document.querySelector('canvas.digit').toDataURL()")


@pytest.mark.browser
def test_interpolate_without_the_runtime_paints_the_servers_frame_where_its_slider_is_let_go(server):
    page, frame = _offline(server, "interpolate")
    middle = _served_after(page, frame, 0)
    slider = frame.locator("input[type=range]")
    before = frame.evaluate("window.aeLive.servedPaints")
    _drag(page, frame, slider, "canvas.digit", (0.3, 0.1))  # released near A
    assert _served_after(page, frame, before) != middle
    assert "by the server" in frame.locator("output").inner_text()
    assert float(slider.input_value()) < 0.3 and page.get_by_role("slider", name="t: from A (0) to B (1)").count() == 0  # one slider
    page.close()


@pytest.mark.browser
def test_explore_without_the_runtime_decodes_the_point_clicked_on_the_server(server):
    page, frame = _offline(server, "explore?model=tiny_vae2")
    assert "Click the map" in frame.locator("figcaption").inner_text() and not frame.locator("canvas.digit").is_visible()
    frame.locator("canvas.map").scroll_into_view_if_needed()
    box = frame.locator("canvas.map").bounding_box()
    shown = []
    for fx in (0.2, 0.8):
        before = frame.evaluate("window.aeLive.servedPaints")
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fx)
        shown.append(_served_after(page, frame, before))
    assert shown[0] != shown[1] and "by the server" in frame.locator("figcaption").inner_text()
    page.close()


@pytest.mark.browser
def test_the_class_map_without_the_runtime_paints_the_servers_morph_of_two_chosen_drawings(server):
    store = rooms.open_store(os.environ["AE_ROOMS"])  # the server's (conftest)
    room, secret = store.create("tiny_dense", 16)
    ids = [store.add(room.code, f"s{i}", f"Ada{i}", np.full((28, 28), 60 * i, np.uint8), np.full(16, 2.0 * i)).id for i in range(2)]
    page, frame = _offline(server, f"class?room={room.code}&teacher={secret}", "classmap")
    for i in ids:  # as a click on each drawing does
        frame.evaluate(f"window.aeLive.choose({i})")
        appserver.wait_idle(page)
    middle = _served_after(page, frame, 0)
    slider = frame.locator(".pair input[type=range]")
    assert not frame.locator(".pair button").is_visible()  # no Play where the page cannot decode
    before = frame.evaluate("window.aeLive.servedPaints")
    _drag(page, frame, slider, "canvas.digit", (0.8, 0.95))
    assert _served_after(page, frame, before) != middle and float(slider.input_value()) > 0.8
    page.close()


@pytest.mark.browser
def test_a_stalled_download_hands_over_to_the_server_in_time_and_the_page_takes_back_when_it_arrives(server):
    url, b, _ = server
    context = b.new_context(viewport={"width": 1440, "height": 1000})
    held = []
    context.route("**/ae/models/**", lambda route: held.append(route))  # never answered, until released below
    start = time.perf_counter()
    page = _visit(context, url)
    frame = appserver.live_frame(page, timeout=40_000)
    assert frame.evaluate("window.aeLive.runtime") == "failed" and time.perf_counter() - start < 30
    assert "still loading" in _says_one_plain_sentence(page, frame)
    assert _server_draws(page, frame) == 1
    context.route("**/ae/models/**", lambda route: route.continue_())  # later requests go through
    for route in held:
        route.continue_()
    frame.wait_for_function("() => window.aeLive.runtime === 'ok'", timeout=30_000)
    appserver.wait_idle(page)
    assert _server_draws(page, frame) == 0  # the server was told, and stopped drawing
    context.close()


@pytest.mark.browser
def test_an_error_after_the_model_loaded_hands_over_to_the_server_and_another_model_runs_again(server):
    url, b, _ = server
    page = _open(server, "draw")
    frame = appserver.live_frame(page)
    assert frame.evaluate("window.aeLive.runtime") == "ok"
    frame.evaluate("() => { window.aeLive.model.encode = () => Promise.reject(new Error('RangeError: out of memory')); }")
    appserver.draw(page, appserver.ONE, canvas=frame.locator("canvas.ink"))
    frame.wait_for_function("() => window.aeLive.runtime === 'failed'", timeout=10_000)
    assert "ran out of memory" in _says_one_plain_sentence(page, frame)
    assert _server_draws(page, frame) == 1
    picker = page.get_by_role("combobox", name="Model")
    picker.click()
    page.get_by_role("option", name="tiny_dense").click()
    frame.wait_for_function("() => window.aeLive.runtime === 'ok'", timeout=30_000)
    assert _server_draws(page, frame) == 0
    page.close()


@pytest.mark.browser
def test_a_model_switch_keeps_the_widget_and_its_drawing_on_a_busy_machine(server):
    page = _open(server, "draw")
    frame = appserver.live_frame(page)
    frame.evaluate("() => { window.__same = true; }")
    appserver.draw(page, appserver.SEVEN, canvas=frame.locator("canvas.ink"))
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        for name in ["tiny_dense", "tiny_conv", "tiny_vae2"]:  # each exported for the first time here
            picker = page.get_by_role("combobox", name="Model")
            picker.click()
            page.get_by_role("option", name=name).click()
            appserver.wait_idle(page, timeout=120_000)
            frame = appserver.live_frame(page)
            frame.wait_for_function("() => window.aeLive.runtime === 'ok' && window.aeLive.model", timeout=60_000)
            assert frame.evaluate("window.__same === true")  # the same frame: not replaced
            assert frame.evaluate("window.aeLive.input !== null")  # and the drawing is still there
    finally:
        for p in busy:
            p.kill()
    page.close()


@pytest.mark.browser
def test_a_page_keeps_at_most_five_models_loaded(server):
    page = _open(server, "draw")
    frame = appserver.live_frame(page)
    loaded = frame.evaluate("""async () => {
        const runtime = await import('./runtime.js');
        const spec = window.aeLive.model.spec;
        for (const n of [1, 2, 3, 4, 5]) await runtime.loadModel(window.aeLive.args.version, { ...spec, digest: `copy ${n}` });
        return runtime.loadedModels();
    }""")
    assert loaded == ["copy 1", "copy 2", "copy 3", "copy 4", "copy 5"]  # the first model's sessions were released
    page.close()


@pytest.mark.browser
def test_on_a_phone_the_reconstruction_stays_in_view_while_a_finger_draws(server):
    url, b, _ = server
    context = b.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{url}/draw")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    appserver.wait_idle(page)
    frame = appserver.live_frame(page)
    box = frame.locator("canvas.ink").bounding_box()
    touch = context.new_cdp_session(page)

    def finger(kind, points):
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in points]})

    x0, y0 = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.2
    finger("touchStart", [(x0, y0)])
    for i in range(1, 15):
        finger("touchMove", [(x0 + 4 * i, y0 + 10 * i)])
        page.wait_for_timeout(20)
    painted = _painted(frame, "canvas.digit", 1)
    shown = frame.locator("canvas.digit").nth(1).bounding_box()
    finger("touchEnd", [])
    context.close()
    assert painted >= 2
    assert 0 <= shown["y"] and shown["y"] + shown["height"] <= 844 and box["y"] + 0.5 * box["height"] <= 844


@pytest.mark.browser
def test_dragging_a_code_slider_redraws_the_digit_while_dragging(server):
    page = _open(server, "draw", model="tiny_conv")
    frame = appserver.live_frame(page)
    appserver.draw(page, appserver.ZERO, canvas=frame.locator("canvas.ink"))
    frame.locator("details.edit summary").click()
    before, during = _drag(page, frame, frame.locator(".sliders input").first, "details.edit canvas.digit", (0.6, 0.7, 0.8, 0.9))
    assert during >= before + 2
    assert frame.locator(".sliders input").count() == 8  # tiny_conv's 8 numbers, a slider each
    page.close()


@pytest.mark.browser
def test_the_interpolation_frame_follows_the_slider_while_it_is_dragged(server):
    page = _open(server, "interpolate")
    frame = appserver.live_frame(page)
    before, during = _drag(page, frame, frame.locator("input[type=range]"), "canvas.digit", (0.4, 0.3, 0.2, 0.1))
    assert during >= before + 2
    appserver.wait_idle(page)
    assert float(frame.evaluate("document.querySelector('input[type=range]').value")) < 0.3
    page.close()


@pytest.mark.browser
def test_hovering_the_code_plane_of_a_2d_model_decodes_the_point_under_the_pointer(server):
    page = _open(server, "explore", model="tiny_vae2")
    frame = appserver.live_frame(page)
    frame.locator("canvas.map").scroll_into_view_if_needed()
    box = frame.locator("canvas.map").bounding_box()
    pictures = []
    for fx, fy in [(0.2, 0.2), (0.8, 0.8)]:
        before = _painted(frame, "canvas.digit")
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy, steps=4)
        frame.wait_for_function(f"() => document.querySelector('canvas.digit').dataset.painted > {before}")
        pictures.append(frame.evaluate("document.querySelector('canvas.digit').toDataURL()"))
    assert pictures[0] != pictures[1]
    assert "decode(" in frame.locator("figcaption").inner_text()
    page.close()
