"""The Draw page in each engine a class brings, with each pen: Chromium (Playwright), Firefox
(WebDriver BiDi, tests/harness/firefox.py) and WebKit, Safari's engine (WebKitWebDriver and its
MiniBrowser through Selenium, on a virtual screen). One small interface over the three, shared
by tests/test_engines.py and the bench's table of engines and pens:

    with engines.open("firefox", url, pen="touch") as page:
        page.wait_live()                       # the runtime started (or failed)
        page.stroke([(0.3, 0.5), (0.6, 0.5)])  # canvas fractions, with the page's pen
        page.live("window.aeLive.runtime")     # evaluated in the live widget's frame
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harness import appserver, firefox

ENGINES = ("chromium", "firefox", "webkit")
WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
MINIBROWSER = [f"/usr/lib/{arch}/webkit2gtk-4.1/MiniBrowser" for arch in ("x86_64-linux-gnu", "aarch64-linux-gnu")]
PHONE = (390, 844)
DESKTOP = (1440, 1000)
STROKE = [(0.3 + 0.03 * i, 0.5) for i in range(11)]  # across the canvas at half its height, 30% to 60%

# Where the ink lies on the canvas's middle row, as fractions of its width; and a count of paints.
INK_ROW = """(() => {
  const c = document.querySelector('canvas.ink'), row = c.getContext('2d').getImageData(0, c.height / 2, c.width, 1).data;
  const xs = []; for (let i = 0; i < c.width; i++) if (row[4 * i] > 128) xs.push(i);
  return xs.length ? [xs[0] / c.width, (xs[xs.length - 1] + 1) / c.width] : null;
})()"""
# In the widget's frame: counts the reconstruction's paints, and how many came before the pen lifted.
WATCH_PAINTS = """(() => {
  const out = document.querySelectorAll('canvas.digit')[1];
  window.__paints = () => Number(out.dataset.painted || 0);
  window.__beforeUp = null; window.__start = window.__paints();
  document.addEventListener('pointerup', () => { window.__beforeUp = window.__paints() - window.__start; }, true);
  return true;
})()"""


def missing(engine: str) -> str | None:
    """Why this engine cannot be driven here (with the command that fixes it), or None."""
    if engine == "chromium":
        return None if appserver.chromium() else appserver.NO_BROWSER
    if engine == "firefox":
        return None if firefox.available() else "No Firefox for the browser tests: apt-get install -y firefox-esr"
    if not (Path(WEBKIT_DRIVER).exists() and _minibrowser() and shutil.which("Xvfb")):
        return "No WebKit for the browser tests: apt-get install -y webkit2gtk-driver xvfb"
    return None


def _minibrowser() -> str | None:
    return next((p for p in MINIBROWSER if Path(p).exists()), None)


# the index among the page's iframes of its first live widget drawn and shown, but a class's Follow
# widget (which heads a student's every page): -1 until one is drawn
DRAWN_FRAME = (
    "[...document.querySelectorAll('iframe')].findIndex((f) => { let k = ''; try { k = f.contentDocument.body.dataset.widget || ''; }"
    " catch (e) {} return f.title.includes('live') && k && k !== 'follow' && f.getClientRects().length > 0; })"
)


class Page:
    """The Draw page (or another) open in one engine; subclasses speak to the engine."""

    engine = ""

    def __init__(self, pen: str):
        self.pen = pen

    def top(self, expression: str):  # evaluated in the page
        raise NotImplementedError

    def live(self, expression: str):  # evaluated in the frame DRAWN_FRAME names
        raise NotImplementedError

    def drawn_frame(self) -> int:
        index = self.top(DRAWN_FRAME)
        if index < 0:
            raise LookupError(f"{self.engine}: no live widget drawn yet")
        return index

    def _drag(self, points: list[tuple[float, float]], button: int) -> None:  # viewport CSS pixels
        raise NotImplementedError

    def reload(self) -> None:
        raise NotImplementedError

    def ready_s(self) -> float:
        """Seconds from the page's navigation to the live path running (the widget's own clock)."""
        return (self.live("window.aeLive.readyAt") - self.top("performance.timeOrigin")) / 1000

    def wait(self, expression: str, where: str = "live", timeout: float = 90) -> object:
        deadline = time.time() + timeout
        while True:
            try:
                value = (self.live if where == "live" else self.top)(expression)
            except Exception:  # the frame not there yet
                value = None
            if value:
                return value
            if time.time() > deadline:
                raise TimeoutError(f"{self.engine}: not true within {timeout} s: {expression}")
            time.sleep(0.1)

    def wait_live(self, timeout: float = 90) -> str:
        """Waits for the live widget's runtime to start or fail; which."""
        self.wait("document.querySelector(\"iframe[title*='live']\")", where="top", timeout=timeout)
        return self.wait("window.aeLive && window.aeLive.runtime !== 'loading' && window.aeLive.runtime", timeout=timeout)

    def canvas_box(self) -> tuple[float, float, float, float]:
        """The drawing canvas in the page's viewport: left, top, width, height (CSS pixels)."""
        self.live("document.querySelector('canvas.ink').scrollIntoView({block: 'center'}), true")  # and the frame's page
        time.sleep(0.3)
        fx, fy = self.top(
            f"(() => {{ const r = document.querySelectorAll('iframe')[{self.drawn_frame()}].getBoundingClientRect(); return [r.left, r.top]; }})()"
        )
        x, y, w, h = self.live(
            "(() => { const r = document.querySelector('canvas.ink').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()"
        )
        return fx + x, fy + y, w, h

    def stroke(self, fractions=STROKE, button: int = 0) -> None:
        x, y, w, h = self.canvas_box()
        self._drag([(x + fx * w, y + fy * h) for fx, fy in fractions], button)

    def ink(self) -> tuple[float, float] | None:
        return self.live(INK_ROW)


class _Chromium(Page):
    engine = "chromium"

    def __init__(self, page, pen: str):
        super().__init__(pen)
        self.page = page
        self.cdp = page.context.new_cdp_session(page) if pen in ("touch", "pen") else None

    def top(self, expression):
        return self.page.evaluate(expression)

    def live(self, expression):
        return appserver.live_frame_now(self.page).evaluate(expression)

    def reload(self):
        self.page.reload()

    def _drag(self, points, button):
        if self.pen == "touch":
            for i, (x, y) in enumerate(points):
                kind = "touchStart" if i == 0 else "touchMove"
                self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
                self.page.wait_for_timeout(16)
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            return
        if self.pen == "pen":  # a stylus: the mouse's events with the pen's pointerType
            last = len(points) - 1
            for i, (x, y) in enumerate(points):
                kind = "mousePressed" if i == 0 else "mouseReleased" if i == last else "mouseMoved"
                event = {"type": kind, "x": x, "y": y, "pointerType": "pen", "button": "left", "buttons": 1, "clickCount": 1}
                self.cdp.send("Input.dispatchMouseEvent", event)
                self.page.wait_for_timeout(16)
            return
        name = {0: "left", 1: "middle", 2: "right"}[button]
        self.page.mouse.move(*points[0])
        self.page.wait_for_timeout(100)
        self.page.mouse.down(button=name)
        for x, y in points[1:]:
            self.page.mouse.move(x, y, steps=2)
            self.page.wait_for_timeout(16)
        self.page.mouse.up(button=name)


class _Firefox(Page):
    engine = "firefox"

    def __init__(self, ff: firefox.Firefox, pen: str):
        super().__init__(pen)
        self.ff = ff

    def top(self, expression):
        return self.ff.evaluate(expression)

    def live(self, expression):
        return self.ff.evaluate(expression, self.ff.frame(self.drawn_frame()))

    def reload(self):
        self.ff.send("browsingContext.reload", {"context": self.ff.context, "wait": "complete"})

    def _drag(self, points, button):
        self.ff.perform([firefox.pointer(self.pen, points, button=button)])


class _WebKit(Page):
    engine = "webkit"

    def __init__(self, driver, pen: str):
        super().__init__(pen)
        self.driver = driver

    def top(self, expression):
        self.driver.switch_to.default_content()
        return self.driver.execute_script(f"return {expression}")

    def live(self, expression):
        index = self.drawn_frame()
        self.driver.switch_to.frame(self.driver.find_elements("css selector", "iframe")[index])
        try:
            return self.driver.execute_script(f"return {expression}")
        finally:
            self.driver.switch_to.default_content()

    def reload(self):
        self.driver.switch_to.default_content()
        self.driver.refresh()

    def _drag(self, points, button):
        from selenium.webdriver.common.actions.action_builder import ActionBuilder
        from selenium.webdriver.common.actions.pointer_input import PointerInput

        self.driver.switch_to.default_content()
        actions = ActionBuilder(self.driver, mouse=PointerInput("mouse", "mouse"), duration=16)
        actions.pointer_action.move_to_location(round(points[0][0]), round(points[0][1]))
        actions.pointer_action.pointer_down(button)
        for x, y in points[1:]:
            actions.pointer_action.move_to_location(round(x), round(y))
        actions.pointer_action.pointer_up(button)
        actions.perform()


@contextlib.contextmanager
def open(engine: str, url: str, pen: str = "mouse", zoom: float = 1.0, path: str = "draw", size=None):
    """The page at url/path in a fresh browser of that engine (fresh profile: a first visit).
    pen: "mouse", "pen" (a stylus) or "touch" (a phone's viewport); zoom: Chromium's browser zoom."""
    reason = missing(engine)
    if reason:
        raise FileNotFoundError(reason)
    width, height = size or (PHONE if pen == "touch" else DESKTOP)
    opener = {"chromium": _open_chromium, "firefox": _open_firefox, "webkit": _open_webkit}[engine]
    with opener(f"{url}/{path}", pen, zoom, width, height) as page:
        yield page


@contextlib.contextmanager
def _open_chromium(url, pen, zoom, width, height):
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="ae-chromium-")
    if zoom != 1.0:  # Chromium's own zoom, as a person sets it: zoom = 1.2 ** level
        Path(profile, "Default").mkdir()
        level = {"partition": {"default_zoom_level": {"x": math.log(zoom) / math.log(1.2)}}}
        Path(profile, "Default", "Preferences").write_text(json.dumps(level))
    options = appserver.launch_options()
    touch = {"has_touch": True, "is_mobile": True} if pen == "touch" else {}
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(profile, viewport={"width": width, "height": height}, **touch, **options)
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.goto(url)
                yield _Chromium(page, pen)
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def _open_firefox(url, pen, zoom, width, height):
    with firefox.launch(width, height) as ff:
        ff.goto(url)
        yield _Firefox(ff, pen)


@contextlib.contextmanager
def _open_webkit(url, pen, zoom, width, height):
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    if pen != "mouse":
        raise ValueError("WebKitWebDriver drives a mouse only")
    with _virtual_screen() as display:
        options = Options()
        options.binary_location = _minibrowser()
        options.add_argument("--automation")
        service = Service(executable_path=WEBKIT_DRIVER, env={**os.environ, "DISPLAY": display})
        driver = webdriver.WebKitGTK(options=options, service=service)
        try:
            driver.set_window_size(width, height)
            driver.get(url)
            yield _WebKit(driver, pen)
        finally:
            driver.quit()


@contextlib.contextmanager
def _virtual_screen():
    """An Xvfb display for MiniBrowser, which opens a real window."""
    for number in range(90, 190):
        if not Path(f"/tmp/.X{number}-lock").exists():
            break
    process = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1600x1200x24", "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.time() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.time() < deadline:
            time.sleep(0.05)
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(10)
