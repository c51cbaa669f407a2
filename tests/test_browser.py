"""The app in a real browser: Debian's Chromium driven by Playwright, against a live server."""

import shutil
from pathlib import Path

import pytest

from tests.harness import appserver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def folder(tiny_checkpoints, tmp_path_factory):
    """The server's checkpoint folder: training here adds models, so it is a copy."""
    folder = tmp_path_factory.mktemp("browser-checkpoints")
    shutil.copytree(tiny_checkpoints, folder, dirs_exist_ok=True)  # each model with its served form
    return folder


@pytest.fixture(scope="module")
def server(folder, mnist_dir, chromium):
    env = {"AE_CHECKPOINT_DIR": str(folder), "MNIST_DIR": str(mnist_dir)}
    with appserver.serve(env) as url, appserver.browser() as b:
        yield url, b


def _pictures(page) -> list[str]:
    """src of every picture in the main area: Streamlit serves each distinct image at its own URL."""
    return page.locator(appserver.PICTURES).evaluate_all("els => els.map(e => e.src)")


def _no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0


def _wait_for_change(page, before: list[str], index: int, timeout=15_000):
    """Wait until picture number `index` exists and differs from what it was (reruns swap them in)."""
    page.wait_for_function(
        """([selector, before, index]) => {
            const now = Array.from(document.querySelectorAll(selector)).map(e => e.src);
            return now.length > index && now[index] !== before[index];
        }""",
        arg=[appserver.PICTURES, before, index],
        timeout=timeout,
    )
    appserver.wait_idle(page)


@pytest.mark.parametrize("path", ["", "draw", "denoise", "interpolate"])
def test_every_page_opens_without_exception(server, path):
    url, b = server
    page = appserver.open_page(b, url, path)
    page.wait_for_timeout(500)
    _no_exception(page)
    assert page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").count() == 1
    page.close()


def test_drawing_strokes_show_and_change_the_reconstruction_and_clear_empties_it(server):
    url, b = server
    page = appserver.open_page(b, url, "draw")
    frame = appserver.live_frame(page)
    canvas = frame.locator("canvas.ink")
    output = frame.locator("canvas.digit").nth(1)
    appserver.draw(page, appserver.ONE, canvas=canvas)
    frame.wait_for_function("() => document.querySelectorAll('canvas.digit')[1].dataset.painted >= 1")
    first = output.evaluate("c => c.toDataURL()")
    appserver.draw(page, [[(0.3, 0.3), (0.7, 0.3)]], canvas=canvas)  # a bar across: now a seven-ish shape
    frame.wait_for_function("first => document.querySelectorAll('canvas.digit')[1].toDataURL() !== first", arg=first)
    assert frame.evaluate("window.aeLive.output !== null")
    frame.get_by_role("button", name="Clear").click()
    frame.wait_for_function("() => window.aeLive.input === null && window.aeLive.output === null")
    assert frame.locator("[data-stat='MSE']").inner_text() == "–"
    _no_exception(page)
    page.close()


def _press_slider(page, label: str, key: str, times: int):
    slider = page.get_by_role("slider", name=label)  # react-aria: an <input type=range> per thumb
    slider.focus()
    for _ in range(times):
        page.keyboard.press(key)


def test_noise_slider_changes_the_noisy_digit(server):
    url, b = server
    page = appserver.open_page(b, url, "denoise")
    page.wait_for_function("s => document.querySelectorAll(s).length === 4", arg=appserver.PICTURES)
    before = _pictures(page)
    assert len(before) == 4
    _press_slider(page, "Noise level", "ArrowRight", 4)
    _wait_for_change(page, before, index=1)  # the noisy digit
    after = _pictures(page)
    assert after[0] == before[0] and after[1] != before[1]
    _no_exception(page)
    page.close()


def test_navigating_between_pages_keeps_the_chosen_model(server):
    url, b = server
    page = appserver.open_page(b, url, "")
    picker = page.get_by_role("combobox", name="Model")
    assert not picker.input_value().startswith("tiny_dense")
    picker.click()
    page.get_by_role("option", name="tiny_dense").click()
    appserver.wait_idle(page)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Denoise").click()
    page.get_by_role("heading", name="Denoise").wait_for()
    appserver.wait_idle(page)
    assert picker.input_value().startswith("tiny_dense")
    page.get_by_text("tiny_dense (plain)").wait_for(timeout=15_000)  # the page uses it
    _no_exception(page)
    page.close()


def _start_training(url, b, name: str, epochs: int, images: int):
    """The Train page's form filled in for a small conv model and started."""
    page = appserver.open_page(b, url, "train")
    page.get_by_role("combobox", name="Architecture").click()
    page.get_by_role("option", name="conv", exact=True).click()
    appserver.wait_idle(page)
    for label, value in [("Code size", "8"), ("Width (channels)", "8"), ("Epochs", str(epochs)), ("Training images", str(images))]:
        box = page.get_by_role("spinbutton", name=label)
        box.fill(value)
        box.press("Tab")
    page.get_by_role("textbox", name="Save as").fill(name)
    page.get_by_role("button", name="Start training").click()
    return page


def test_training_from_the_page_survives_navigation_and_lands_in_the_picker(server):
    url, b = server
    page = _start_training(url, b, name="browser-run", epochs=12, images=6000)  # long enough to outlast the visits below on a fast machine
    page.get_by_text("browser-run: conv, running").wait_for(timeout=30_000)
    # away and back while it runs: the job goes on and the page shows it again
    page.locator("[data-testid='stSidebarNav'] a", has_text="Draw").click()
    page.get_by_role("heading", name="Draw a digit").wait_for()
    page.locator("[data-testid='stSidebarNav'] a", has_text="Train").click()
    page.get_by_role("heading", name="Train a model").wait_for()
    page.get_by_text("browser-run: conv, running").wait_for()
    # a second tab sees the same run, with Stop and no second Start; a reload finds it too
    other = appserver.open_page(b, url, "train")
    other.get_by_text("browser-run: conv, running").wait_for()
    assert other.get_by_role("button", name="Start training").count() == 0
    other.close()
    page.reload()
    page.get_by_text("browser-run", exact=False).first.wait_for()
    page.get_by_text("Epochs: 12 of 12").wait_for(timeout=300_000)
    page.get_by_text("Finished. Kept the best epoch").wait_for(timeout=60_000)
    bars = page.locator("[data-testid='stProgress'] [role='progressbar']")
    assert bars.first.get_attribute("aria-valuenow") == "100"
    _no_exception(page)
    picker = page.get_by_role("combobox", name="Model")
    picker.click()
    assert page.get_by_role("option", name="browser-run").count() == 1
    page.close()


def _upload_tab(url, b):
    """The Draw page on its Upload tab, and the file input behind its drop zone."""
    page = appserver.open_page(b, url, "draw")
    page.get_by_text("Upload", exact=True).click()
    appserver.wait_idle(page)
    return page, page.locator("[data-testid='stFileUploaderDropzoneInput']")


def _upload_shown(page):
    """The frame of the Draw widget without its canvas, once it shows the server's pictures of an upload:
    input, rebuilt, error, the code, the meter's words and its two histograms."""
    frame = appserver.live_frame_now(page)
    shown = """() => [...document.querySelectorAll('canvas.digit, canvas.bars, canvas.meter, .verdict, canvas.ink')]
                 .filter(e => e.getClientRects().length > 0).map(e => e.className).join()"""
    frame.wait_for_function(f"() => ({shown})() === 'digit,digit,digit,bars,verdict,meter,meter'", timeout=20_000)
    return frame


def test_uploads_bad_files_get_a_message_and_a_good_photo_is_reconstructed(server, tmp_path):
    from PIL import Image

    from ae import data

    page, chooser = _upload_tab(*server)
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not a picture at all")
    chooser.set_input_files(str(bad))
    page.get_by_text("Could not use notes.png").wait_for(timeout=20_000)
    assert _pictures(page) == []
    digit = data.load_mnist(False)[0][0, 0].numpy()
    photo = Image.fromarray(255 - digit).resize((300, 300)).convert("RGB")  # dark ink on white paper
    good = tmp_path / "seven.jpg"
    photo.save(good, quality=90)
    chooser.set_input_files(str(good))
    frame = _upload_shown(page)
    assert float(frame.locator("[data-stat=MSE]").inner_text()) < 0.05
    _no_exception(page)
    page.close()


def test_clicking_a_dot_on_the_map_shows_that_digit(server):
    url, b = server
    page = appserver.open_page(b, url, "explore")
    page.wait_for_selector(".js-plotly-plot")
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')._fullLayout !== undefined")
    spot = page.evaluate(
        """() => {
          const gd = document.querySelector('.js-plotly-plot');
          const layout = gd._fullLayout, ones = gd._fullData[1];  // the trace of the 1s
          const box = gd.getBoundingClientRect();
          return {x: box.left + layout._size.l + layout.xaxis.l2p(ones.x[0]),
                  y: box.top + layout._size.t + layout.yaxis.l2p(ones.y[0])};
        }"""
    )
    page.mouse.click(spot["x"], spot["y"])
    page.get_by_text("a 1", exact=False).first.wait_for(timeout=20_000)
    assert page.get_by_text("Test digit #", exact=False).count() == 1
    _no_exception(page)
    page.close()


def test_stop_clicked_during_a_run_keeps_the_best_epoch_and_it_loads(server, folder):
    from ae import checkpoints

    page = _start_training(*server, name="stopped-run", epochs=200, images=3000)
    # the page polls once a second, so on a fast machine it may never show epoch 2 itself
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stProgress"]')].some(
               bar => { const m = bar.innerText.match(/Epochs: (\\d+) of 200/); return m && +m[1] >= 2; })""",
        timeout=120_000,
    )
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("stopped-run: Stopped. Kept the best epoch").wait_for(timeout=60_000)
    _no_exception(page)
    page.close()
    model, meta = checkpoints.load(folder / "stopped-run.safetensors")
    assert not meta["complete"] and 2 <= meta["epochs_done"] < 200 and meta.test_mse is not None


def test_the_png_and_gif_downloads_are_pictures_of_the_frames(server):
    import io

    from PIL import Image

    url, b = server
    page = appserver.open_page(b, url, "interpolate")
    files = {}
    for label in ("Download the strip (PNG)", "Download the animation (GIF)"):
        with page.expect_download() as download:
            page.get_by_role("button", name=label).click()
        files[label] = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    strip, gif = files.values()
    frames = 9  # the page's default
    assert strip.format == "PNG" and strip.size == (frames * 112 + (frames - 1) * 4, 112)
    assert gif.format == "GIF" and gif.n_frames == 2 * frames - 2 and gif.size == (196, 196)  # forward and back
    page.close()


def test_a_blank_picture_gets_the_looks_blank_warning_and_a_wrong_extension_is_read_for_what_it_is(server, tmp_path):
    from PIL import Image

    from ae import data

    page, chooser = _upload_tab(*server)
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    chooser.set_input_files(str(blank))
    page.get_by_text("blank.png looks blank: no ink found").wait_for(timeout=20_000)
    disguised = tmp_path / "digit.png"  # a JPEG under a .png name
    Image.fromarray(255 - data.load_mnist(False)[0][0, 0].numpy()).resize((200, 200)).save(disguised, "JPEG")
    chooser.set_input_files(str(disguised))
    _upload_shown(page)
    _no_exception(page)
    page.close()
