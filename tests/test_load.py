"""Load: 8 browser sessions draw on the live canvas at once for 30 s (LOAD_SECONDS) against one app server."""

import asyncio
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from tests.apptools import COUNT_RUNS
from tests.harness import appserver

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SESSIONS = int(os.environ.get("LOAD_SESSIONS", 8))
SECONDS = float(os.environ.get("LOAD_SECONDS", 30))


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _open(browser, url: str):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/draw")
    await page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
    handle = await page.wait_for_selector(appserver.LIVE, timeout=60_000)
    frame = await handle.content_frame()
    await frame.wait_for_function("() => window.aeLive && window.aeLive.runtime === 'ok'", timeout=120_000)
    await page.evaluate(COUNT_RUNS)
    return page, frame


# Resolves once every input has been painted: no frame pending or running.
SETTLED = "() => { const f = window.aeLive.frames; return !f.busy && !f.requested && f.since === null; }"
GRID = 6  # strokes go to the cells of a 6x6 grid in random order, then the canvas is cleared


async def _rerun_after(page, runs: int) -> None:
    """Wait until the server's rerun for what was just done has started, so that a late one is not
    counted as "while drawing" the next stroke; none at all shows in runs_after, which is bounded."""
    try:
        await page.wait_for_function(f"() => window.__runs > {runs}", timeout=5_000, polling=50)
    except PlaywrightTimeout:
        pass


async def _draw(page, frame, seed: int, until: float, report: dict) -> None:
    """Strokes on fresh parts of the canvas, so that each one changes the 28x28 input; after each,
    the page must have painted that stroke's reconstruction, and the server heard of it once."""
    rng = random.Random(seed)
    box = await frame.locator("canvas.ink").bounding_box()
    output = frame.locator("canvas.digit").nth(1)
    cells, drawn = [], 0
    while time.time() < until:
        if not cells:
            if drawn:
                runs = await page.evaluate("window.__runs")
                await frame.get_by_role("button", name="Clear").click()
                await _rerun_after(page, runs)  # the Clear's own, not during the next stroke
                report["runs_after"] += await page.evaluate("window.__runs") - runs
                report["clears"] += 1
            cells = [(0.1 + (i + 0.5) * 0.8 / GRID, 0.1 + (j + 0.5) * 0.8 / GRID) for i in range(GRID) for j in range(GRID)]
            rng.shuffle(cells)
        x, y = cells.pop()
        await page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        runs = await page.evaluate("window.__runs")
        painted = int(await output.get_attribute("data-painted") or 0)
        await page.mouse.move(box["x"] + (x - 0.04) * box["width"], box["y"] + (y - 0.03) * box["height"])
        await page.mouse.down()
        await page.mouse.move(box["x"] + (x + 0.04) * box["width"], box["y"] + (y + 0.03) * box["height"], steps=6)
        report["runs_during"] += await page.evaluate("window.__runs") - runs
        await page.mouse.up()
        drawn += 1
        report["strokes"] += 1
        try:
            await frame.wait_for_function(SETTLED, timeout=10_000, polling=50)
            if int(await output.get_attribute("data-painted") or 0) <= painted:
                report["missed"] += 1
        except Exception:
            report["missed"] += 1
        if await page.locator("[data-testid='stException']").count():
            report["exceptions"] += 1
        await _rerun_after(page, runs)  # this stroke's, before the next stroke starts
        await page.wait_for_timeout(rng.randint(300, 800))  # a person pauses between strokes
        report["runs_after"] += await page.evaluate("window.__runs") - runs
    report["latency"] += await frame.evaluate("Array.from(window.aeLive.frames.latencies)")


async def _load(url: str, server_pid: int) -> dict:
    report = {"latency": [], "missed": 0, "exceptions": 0, "strokes": 0, "clears": 0, "runs_during": 0, "runs_after": 0, "rss_mb": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(**appserver.launch_options())
        # Every session is open before the clock starts: the half minute is eight people drawing, not
        # eight pages loading while the first ones draw.
        pages = await asyncio.gather(*(_open(browser, url) for _ in range(SESSIONS)))
        until = time.time() + SECONDS

        async def sample_memory():
            while time.time() < until:
                report["rss_mb"].append(_rss_mb(server_pid))
                await asyncio.sleep(2)

        await asyncio.gather(sample_memory(), *(_draw(page, frame, i, until, report) for i, (page, frame) in enumerate(pages)))
        await browser.close()
    return report


def test_eight_sessions_drawing_for_half_a_minute(tiny_checkpoints, mnist_dir, chromium, tmp_path):
    folder = tmp_path / "ck"
    shutil.copytree(tiny_checkpoints, folder)
    env = {"AE_CHECKPOINT_DIR": str(folder), "MNIST_DIR": str(mnist_dir)}
    with appserver.serve(env) as url:
        pid = appserver.server_pid(url)
        cpu_before = _cpu_s(pid)
        report = asyncio.run(_load(url, pid))
        rss_after = _rss_mb(pid)
        server_cpu = _cpu_s(pid) - cpu_before
    lat = np.array(report["latency"])
    p50, p95 = np.percentile(lat, [50, 95])
    rss = report["rss_mb"]
    half = rss[len(rss) // 2 :]
    print(
        f"\n{SESSIONS} sessions x {SECONDS:.0f} s: {report['strokes']} strokes, {report['missed']} without a reconstruction, "
        f"{report['exceptions']} exceptions; server reruns: {report['runs_during']} while drawing, {report['runs_after']} for "
        f"{report['strokes']} strokes and {report['clears']} clears; pointer to painted reconstruction over {len(lat)} frames: "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms; server memory "
        f"{rss[0]:.0f} -> {max(rss):.0f} MB peak, {rss_after:.0f} MB at the end; the server used "
        f"{server_cpu:.0f} CPU-seconds ({1000 * server_cpu / max(report['strokes'], 1):.0f} ms a stroke)"
    )
    assert report["exceptions"] == 0
    # at least four strokes a session in the half minute (seven seconds a stroke would be broken to a
    # user); how many more is the machine's speed, which the bench measures, not this test
    assert report["missed"] == 0 and report["strokes"] >= SESSIONS * 4
    assert report["runs_during"] == 0  # the server is not asked while a stroke is drawn
    assert report["runs_after"] <= report["strokes"] + report["clears"]  # and at most once when it ends (and per Clear)
    assert p95 < 500
    assert max(half) - min(half) < 150  # settled: the second half of the run does not keep growing
