"""Start the Streamlit app on a free port and drive it in headless Chromium (tests, benchmarks, screenshots)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_CHROMIUM = "/usr/bin/chromium"
NO_BROWSER = (
    "No Chromium for the browser tests: run `.venv/bin/playwright install chromium`, or install "
    "your system's (Debian: apt-get install -y chromium), or point CHROMIUM at one."
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Every picture in the main area: st.image's and the inline ones of ae.ui's strips (no other <img> there).
PICTURES = "[data-testid='stMain'] img"


@contextlib.contextmanager
def redis_server():
    """A redis-server (Debian's package) on a free port, in a folder of its own, until the block
    ends; yields its URL. FileNotFoundError where there is none."""
    import shutil

    import redis

    program = shutil.which("redis-server")
    if program is None:
        raise FileNotFoundError("No Redis: apt-get install -y redis-server")
    port, folder = free_port(), tempfile.mkdtemp(prefix="ae-redis-")
    proc = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client, deadline = redis.Redis(port=port), time.time() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def behind_nginx(urls: list[str]):
    """Debian's nginx with the repo's recipe (deploy/nginx.conf), its app servers and port swapped
    for these, until the block ends; yields its URL once it answers."""
    import re
    import shutil

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = re.findall(r"server app\d:8501[^;]*;", conf)
    if len(servers) != len(urls):
        raise ValueError(f"deploy/nginx.conf lists {len(servers)} app servers, not {len(urls)}")
    for line, url in zip(servers, urls):
        conf = conf.replace(line, line.replace(line.split()[1], url.removeprefix("http://")), 1)
    port, folder = free_port(), Path(tempfile.mkdtemp(prefix="ae-nginx-"))
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};").replace(
        "access_log /dev/stdout ae;", f"access_log {folder}/access.log ae;"
    )
    (folder / "nginx.conf").write_text(conf)
    settings = f"daemon off; pid {folder}/nginx.pid; error_log {folder}/error.log;"
    program = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(
        [program, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", settings], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ae/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(
                        f"nginx did not answer: {(folder / 'error.log').read_text()[-500:] if (folder / 'error.log').exists() else ''}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(
    env: dict | None = None, port: int | None = None, timeout: float = 60.0, script: str | Path = "app.py", python: str | None = None
):
    """Run the app (`python -m ae.serve`, which warms it as it starts) until the block ends; yields
    the base URL once it answers. `python`: another install's interpreter (a serving venv's)."""
    port = port or free_port()
    python = python or sys.executable
    start = [python, "-m", "ae.serve"] if script == "app.py" else [python, "-m", "streamlit", "run", str(ROOT / script)]
    cmd = [
        *start,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    # The server's output goes to a file, not a pipe: nobody reads a pipe while tests run, and a
    # full one (64 KiB) would stop the server at its next write.
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    _PIDS[url] = proc.pid
    try:
        wait_healthy(url, proc, timeout, log)
        yield url
    finally:
        _PIDS.pop(url, None)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


_PIDS: dict[str, int] = {}


def server_pid(url: str) -> int:
    """The process id of a server started by `serve` (for memory readings)."""
    return _PIDS[url]


def get_json(url: str, cookie: str | None = None, timeout: float = 30.0):
    """A GET of one of our JSON routes (a teacher's map: with the teacher's key cookie)."""
    import json

    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return json.loads(r.read())


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 60.0, log=None) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc is not None and proc.poll() is not None:
            output = ""
            if log is not None:  # what the server printed before it exited
                log.seek(0)
                output = log.read()
            raise RuntimeError(f"streamlit exited early:\n{output}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def chromium() -> str | None:
    """The Chromium to drive: $CHROMIUM if set, else Playwright's own where it is installed, else
    the system's; None when there is none."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"] if Path(os.environ["CHROMIUM"]).exists() else None
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            own = p.chromium.executable_path
        if own and Path(own).exists():
            return own
    except Exception:  # Playwright without its browser raises its own error type
        pass
    return SYSTEM_CHROMIUM if Path(SYSTEM_CHROMIUM).exists() else None


def launch_options() -> dict:
    path = chromium()
    if path is None:
        raise FileNotFoundError(NO_BROWSER)
    return {"executable_path": path, "args": CHROMIUM_ARGS, "headless": True}


@contextlib.contextmanager
def browser():
    """A headless Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    options = launch_options()
    with sync_playwright() as p:
        b = p.chromium.launch(**options)
        try:
            yield b
        finally:
            b.close()


def wait_idle(page, timeout: float = 30_000) -> None:
    """Connected, and no script running."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def open_page(b, url: str, path: str = "", width: int = 1440, height: int = 1000):
    page = b.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/{path}")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)  # every page has a title
    wait_idle(page)
    return page


LIVE = "iframe[title*='live']"  # the widgets of ae.live, one iframe each


def live_frame_now(page, index: int = 0, timeout: float = 60_000, widget: str | None = None):
    """The index-th live widget's frame the page shows, as soon as it is there: of the kind `widget`
    (main.js's names), else of any kind but a class's Follow widget, which heads a student's every
    page (a frame in a hidden part of the page, a lesson's step not shown, is not counted)."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        seen = 0
        for handle in page.locator(LIVE).element_handles():
            if not handle.evaluate("(e) => e.getClientRects().length > 0"):
                continue  # in a hidden part of the page (main.js makes its widget once it is shown)
            frame = handle.content_frame()
            kind = frame.evaluate("document.body.dataset.widget || ''") if frame else ""
            if not kind:
                break  # not drawn yet: its kind decides what the index counts
            if (kind == widget) if widget else kind != "follow":
                if seen == index:
                    return frame
                seen += 1
        if time.monotonic() > deadline:
            raise TimeoutError(f"no live widget #{index} ({widget or 'any'}) on {page.url}")
        page.wait_for_timeout(100)


def live_frame(page, index: int = 0, timeout: float = 60_000):
    """The index-th live widget's frame, once its runtime has started or failed (window.aeLive.runtime)."""
    frame = live_frame_now(page, index, timeout)
    frame.wait_for_function("() => window.aeLive && window.aeLive.runtime !== 'loading'", timeout=timeout)
    return frame


def draw(page, strokes, canvas=None, steps: int = 6, during=None) -> None:
    """Draw polylines given in canvas-relative fractions [(x, y), ...] with the mouse, on `canvas`
    (a locator; default the first drawable canvas of Streamlit's canvas widget). `during(page)` is
    called before each stroke's mouse-up."""
    canvas = canvas if canvas is not None else page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in strokes:
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        page.wait_for_timeout(300)  # a fast drag right after the move may not register
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=steps)
        if during is not None:
            during(page)
        page.mouse.up()


SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]]
ZERO = [[(0.5, 0.15), (0.3, 0.3), (0.28, 0.6), (0.45, 0.85), (0.65, 0.75), (0.72, 0.45), (0.62, 0.2), (0.5, 0.15)]]
ONE = [[(0.5, 0.15), (0.5, 0.85)]]


def ensure_browser() -> int:
    """`make test`'s check: a Chromium to drive, or Playwright's installed now, or the sentence saying what to install."""
    if chromium() is None:
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=False)
    if chromium() is None:
        print(NO_BROWSER, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__" and sys.argv[1:] == ["--ensure-browser"]:
    sys.exit(ensure_browser())
