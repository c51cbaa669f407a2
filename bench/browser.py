"""The app in a headless browser: cold start to the first page, and the Draw page's stroke-to-picture latency."""

from __future__ import annotations

import sys
import time

import numpy as np

from bench import live
from tests.harness import appserver


def app_timings(cold_start: bool, strokes: int, live_models: list[str], data_dir=None) -> dict:
    """One server for all: from `streamlit run app.py` to the first page's title showing in a
    headless browser (the browser is up before the clock starts); the Draw page's server path
    (mouse-up to the server's reconstruction, the runtime blocked); the live path per model and
    the page's weight."""
    out: dict = {}
    with appserver.browser() as b:
        start = time.perf_counter()
        with appserver.serve() as url:
            if cold_start:
                page = b.new_page()
                page.goto(url)
                page.wait_for_selector("[data-testid='stMain'] h1", timeout=120_000)
                out["cold_start_s"] = round(time.perf_counter() - start, 2)
                page.close()
                print(f"cold start: {out['cold_start_s']:.2f} s", file=sys.stderr)
            if strokes:
                out["latency"] = draw_latency(b, url, strokes)
            if live_models:
                out["live"] = live.live_rows(b, url, live_models, data_dir)
                out.update(live.page_weight(b, url))
                out["live_compare"] = live.compare_row(b, url)
    return out


# In the Draw widget's frame: each pointer-up makes a promise, window.__done, of the time from it to
# the widget's painting of what the server computed for that stroke (draw.js's servedAt, the frame's
# clock); awaiting it is one round trip.
LATENCY_JS = """() => document.addEventListener('pointerup', () => {
  const up = performance.now(), from = window.aeLive.servedPaints;
  window.__done = new Promise((resolve) => {
    const check = () => (window.aeLive.servedPaints > from ? resolve(window.aeLive.servedAt - up) : setTimeout(check, 5));
    check();
  });
}, true)"""

# The latency of the last stroke in ms; rejects when no reconstruction shows within `ms`.
AWAIT_SHOWN_JS = """ms => Promise.race([window.__done, new Promise((_, no) =>
  setTimeout(() => no(new Error(`no reconstruction within ${ms} ms`)), ms))])"""


def scribble_strokes(n: int):
    """n short strokes at different places, so every one changes the drawing."""
    rng = np.random.default_rng(0)
    for i in range(n):
        x, y = 0.2 + 0.6 * rng.random(), 0.2 + 0.6 * rng.random()
        yield [(x, y), (min(0.9, x + 0.15), min(0.9, y + 0.1 * (1 if i % 2 else -1) + 0.05))]


def draw_latency(b, url: str, strokes: int) -> dict:
    """Where the page cannot run the model (its runtime blocked here): pointer-up to the server's
    reconstruction painted by the widget, on the Draw page, over n strokes."""
    times = []
    page = b.new_page(viewport={"width": 1440, "height": 1000})
    page.route("**/ort/**", lambda route: route.abort())
    page.goto(f"{url}/draw")
    frame = appserver.live_frame(page)
    frame.evaluate(LATENCY_JS)
    for stroke in scribble_strokes(strokes):
        appserver.draw(page, [stroke], canvas=frame.locator("canvas.ink"))
        times.append(frame.evaluate(AWAIT_SHOWN_JS, 15_000))
        appserver.wait_idle(page)
        page.wait_for_timeout(150)
    page.close()
    p50, p95 = np.percentile(times, [50, 95])
    print(f"server path latency over {strokes} strokes: p50 {p50:.0f} ms, p95 {p95:.0f} ms", file=sys.stderr)
    return {"strokes": strokes, "p50_ms": round(float(p50)), "p95_ms": round(float(p95)), "all_ms": [round(t) for t in times]}
