"""Every device a class brings: the Draw page in Chromium, Firefox and WebKit (Safari's engine),
with a mouse, a stylus and a finger, at browser zoom; the ink lands under the pen (tests/harness/engines.py drives
the three)."""

import pytest

from tests.conftest import missing
from tests.harness import appserver, engines

pytestmark = pytest.mark.browser
BRUSH = 20 / 280  # the default brush's width, as a fraction of the canvas: ink reaches half of it past each end


@pytest.fixture(scope="module")
def url(tiny_checkpoints, mnist_dir):
    with appserver.serve({"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir)}) as url:
        yield url


def _need(engine):
    reason = engines.missing(engine)
    if reason:
        missing(reason)


def _stroke_lands_and_is_followed(page):
    """The standard stroke (30% to 60% across, half-way down): where the ink landed, and how many
    times the reconstruction was painted before the pen lifted."""
    page.live(engines.WATCH_PAINTS)
    scroll = page.top("window.scrollY")
    page.stroke()
    page.wait("window.__beforeUp !== null")
    page.wait("window.aeLive.frames.since === null && !window.aeLive.frames.busy")
    left, right = page.ink()  # the brush's round ends, from where the pen came down to where it lifted
    assert abs(left - (0.3 - BRUSH / 2)) <= 0.01 and abs(right - (0.6 + BRUSH / 2)) <= 0.01, (left, right)
    assert page.live("window.__beforeUp") >= 3  # the picture followed the pen, not only its lifting
    assert page.top("window.scrollY") == scroll  # the page stayed still under the pen
    assert page.live("window.aeLive.strokes") == 1  # the server heard of one stroke
    verdict = page.live("document.querySelector('p.verdict').textContent")  # the meter ran in this engine
    assert verdict.startswith(("Rebuilt", "Its code")) and page.live("document.querySelectorAll('canvas.meter').length") == 2, verdict
    meter = page.live("document.querySelector('figure.novelty').textContent")  # both scores placed, the code's by its network
    assert "Reconstruction error: yours" in meter and "of every digit: yours (orange line) is larger than" in meter, meter


@pytest.mark.parametrize("engine", engines.ENGINES)
def test_in_every_engine_the_runtime_starts_and_the_ink_lands_under_the_mouse(url, engine):
    _need(engine)
    with engines.open(engine, url) as page:
        assert page.wait_live() == "ok"
        assert page.live("window.aeLive.placement.isolated") is True  # ae/web.py's headers reached the widget's frame
        _stroke_lands_and_is_followed(page)


# Firefox's WebDriver has no stylus ("Unimplemented pointerMove for pointerType pen"), WebKit's no touch
@pytest.mark.parametrize("engine,pen", [("chromium", "touch"), ("firefox", "touch"), ("chromium", "pen")])
def test_a_finger_on_a_phone_or_a_stylus_draws_where_it_touches(url, engine, pen):
    _need(engine)
    with engines.open(engine, url, pen=pen) as page:
        assert page.wait_live() == "ok"
        _stroke_lands_and_is_followed(page)


@pytest.mark.parametrize("zoom", [0.8, 1.5])
def test_at_browser_zoom_the_ink_lands_under_the_mouse(url, zoom):
    _need("chromium")
    with engines.open("chromium", url, zoom=zoom) as page:
        assert page.wait_live() == "ok"
        assert abs(page.top("devicePixelRatio") - zoom) < 0.01  # the zoom took
        _stroke_lands_and_is_followed(page)


def test_at_pinch_zoom_a_finger_draws_where_it_touches(url):
    _need("chromium")
    with engines.open("chromium", url, pen="touch") as page:
        assert page.wait_live() == "ok"
        page.cdp.send("Emulation.setPageScaleFactor", {"pageScaleFactor": 1.6})
        assert page.top("visualViewport.scale") > 1.5
        page.live(engines.WATCH_PAINTS)
        x, y, w, h = page.canvas_box()
        ox, oy = page.top("[visualViewport.offsetLeft, visualViewport.offsetTop]")
        # the finger's place on the zoomed screen: CSS pixels from the visible part's corner
        page._drag([(x + fx * w - ox, y + 0.5 * h - oy) for fx in (0.3, 0.4, 0.5, 0.6)], 0)
        page.wait("window.aeLive.strokes === 1")
        left, right = page.ink()
        assert abs(left - 0.3) <= BRUSH / 2 + 0.01 and abs(right - 0.6) <= BRUSH / 2 + 0.01, (left, right)


def test_a_second_finger_neither_joins_nor_ends_the_stroke(url):
    _need("chromium")
    with engines.open("chromium", url, pen="touch") as page:
        assert page.wait_live() == "ok"
        x, y, w, h = page.canvas_box()
        at = lambda fx, fy: {"x": x + fx * w, "y": y + fy * h}  # noqa: E731
        touch = lambda kind, *points: page.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": list(points)})  # noqa: E731
        touch("touchStart", {**at(0.3, 0.5), "id": 1})
        touch("touchMove", {**at(0.4, 0.5), "id": 1})
        touch("touchStart", {**at(0.4, 0.5), "id": 1}, {**at(0.5, 0.85), "id": 2})  # a palm lands
        touch("touchMove", {**at(0.5, 0.5), "id": 1}, {**at(0.8, 0.85), "id": 2})
        touch("touchEnd", {**at(0.8, 0.85), "id": 2})  # the palm lifts: the stroke goes on
        assert page.live("window.aeLive.strokes") == 0
        touch("touchMove", {**at(0.6, 0.5), "id": 1})
        touch("touchEnd")
        page.wait("window.aeLive.strokes === 1")
        left, right = page.ink()
        assert abs(left - 0.3) <= BRUSH / 2 + 0.01 and abs(right - 0.6) <= BRUSH / 2 + 0.01, (left, right)
        assert page.live("""(() => { const c = document.querySelector('canvas.ink');
            return c.getContext('2d').getImageData(0, Math.round(0.85 * c.height), c.width, 1).data.every((v, i) => i % 4 === 3 || v === 0); })()""")


@pytest.mark.parametrize("engine", ["chromium", "firefox"])
def test_the_right_button_does_not_draw(url, engine):
    _need(engine)
    with engines.open(engine, url) as page:
        assert page.wait_live() == "ok"
        page.stroke(button=2)
        page.top("new Promise(r => setTimeout(r, 300))")
        assert page.ink() is None and page.live("window.aeLive.strokes") == 0


def test_explore_draws_its_map_without_webgl(url):
    _need("chromium")
    from playwright.sync_api import sync_playwright

    options = appserver.launch_options()
    with sync_playwright() as p:
        b = p.chromium.launch(**{**options, "args": [*options["args"], "--disable-3d-apis"]})
        page = appserver.open_page(b, url, "explore")
        assert not page.evaluate("!!document.createElement('canvas').getContext('webgl')")
        page.wait_for_selector(".scatterlayer .point", timeout=60_000)
        assert page.locator(".scatterlayer .point").count() == 2000  # every test digit asked for, as SVG
        assert page.get_by_text("WebGL").count() == 0
        b.close()


@pytest.mark.parametrize("engine", ["firefox", "webkit"])  # Chromium's: tests/test_class.py
def test_a_class_draws_and_the_teacher_sees_it_in_firefox_and_webkit(tiny_checkpoints, mnist_dir, tmp_path, engine):
    """A student's strokes are posted to the room by the page (grown into one drawing, said by the
    canvas, nobody's identity in the address bar), and the teacher's map follows the room."""
    _need(engine)
    from ae import rooms

    location = str(tmp_path / "rooms.sqlite3")
    store = rooms.open_store(location)
    room, secret = store.create("tiny_dense", 16)
    with appserver.serve({"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": location}) as url:
        with engines.open(engine, url, path=f"draw?room={room.code}") as page:
            assert page.wait_live() == "ok"
            page.stroke()
            assert "On the class map" in page.wait(
                "document.querySelector('.sent') && document.querySelector('.sent').textContent", timeout=30
            )
            page.stroke([(0.2, 0.8), (0.8, 0.8)])
            page.wait("window.aeLive.posted === 2", timeout=30)
            assert store.counts(room.code) == (1, 1) and "me=" not in page.top("location.search")  # two strokes, one drawing
        with engines.open(engine, url, path=f"class?room={room.code}&teacher={secret}", size=(1440, 1100)) as page:
            page.wait("document.querySelector(\"iframe[title*='live']\")", where="top", timeout=90)
            assert page.wait("window.aeLive && window.aeLive.drawings && window.aeLive.drawings.length", timeout=60) == 1
            assert page.live("document.querySelector('.counts').textContent") == "1 students · 1 drawings · open"


@pytest.fixture(scope="module")
def class_url(tiny_checkpoints, mnist_dir, tmp_path_factory):
    location = str(tmp_path_factory.mktemp("class") / "rooms.sqlite3")
    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": location}
    with appserver.serve(env) as url:
        yield url, location


SHOWN_TITLES = "[...document.querySelectorAll('h1')].filter((h) => h.offsetParent !== null).map((h) => h.textContent).join(' | ')"


@pytest.mark.parametrize("engine", engines.ENGINES)
def test_in_every_engine_a_students_page_shows_the_teachers_step_by_itself(class_url, engine):
    """The Follow widget reaches into its page to show the step (follow.js): in each engine, the
    teacher's step and the lesson's end are shown with no help from the server."""
    from ae import rooms

    _need(engine)
    url, location = class_url
    store = rooms.open_store(location)
    room, secret = store.create("tiny_dense", 16)
    with engines.open(engine, url, path=f"draw?room={room.code}") as page:
        page.wait(f"({SHOWN_TITLES}) === 'Draw a digit' && document.querySelector(\"iframe[title*='live']\")", where="top")
        page.wait("document.body.dataset.widget === 'draw'")  # the page has drawn its widgets (the Follow widget first)
        store.pace(room.code, secret, 2)
        assert page.wait(f"({SHOWN_TITLES}).startsWith('Lesson, step 2 of 6') && ({SHOWN_TITLES})", where="top", timeout=10)
        assert " | " not in page.top(SHOWN_TITLES)  # one step shown, the others hidden
        assert "ae_step_2)" in page.top("document.getElementById('ae-follow-step').textContent")  # by follow.js, in the page
        store.pace(room.code, secret, 0)
        page.wait(f"({SHOWN_TITLES}) === 'Draw a digit'", where="top", timeout=10)
