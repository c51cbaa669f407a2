"""The live path in a real browser: pointer event to painted reconstruction for every shipped
model, the page's outputs against torch, and what the page downloads for it."""

from __future__ import annotations

import re
import sys

import numpy as np
import torch

from ae import checkpoints, data
from tests.harness import appserver

# A scripted drawing: a seven, then a zero, each stroke a run of small mouse moves.
DRAWING = [appserver.SEVEN[0], appserver.ZERO[0]]
PARITY_DIGITS = 16  # test digits run through each model in the page and in torch


def choose_model(page, name: str) -> None:
    picker = page.get_by_role("combobox", name="Model")
    picker.click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(name)} ·")).click()
    appserver.wait_idle(page)


def model_row(page, name: str, digits: np.ndarray) -> dict:
    """p50/p95 of pointer event to painted reconstruction over the scripted drawing, and the
    largest difference between the page's code and reconstruction and torch's."""
    choose_model(page, name)
    appserver.wait_idle(page)
    frame = appserver.live_frame(page)
    frame.wait_for_function("() => window.aeLive.model && window.aeLive.model.spec.digest === window.aeLive.digest", timeout=60_000)
    frame.get_by_role("button", name="Clear").click()
    frame.evaluate("() => { window.aeLive.frames.latencies.length = 0 }")
    appserver.draw(page, DRAWING, canvas=frame.locator("canvas.ink"), steps=25)
    page.wait_for_timeout(300)
    latencies = frame.evaluate("Array.from(window.aeLive.frames.latencies)")
    model, _ = checkpoints.load(appserver.ROOT / "checkpoints" / f"{name}.safetensors")
    worst = 0.0
    for x in digits:
        in_page = frame.evaluate("async (x) => window.aeLive.run(x)", x.ravel().tolist())
        with torch.inference_mode():
            code = model.encode(torch.as_tensor(x)[None, None])
            output = model.decode(code)
        worst = max(worst, float(np.abs(np.array(in_page["code"]) - code.numpy().ravel()).max()))
        worst = max(worst, float(np.abs(np.array(in_page["output"]) - output.numpy().ravel()).max()))
    p50, p95 = np.percentile(latencies, [50, 95])
    row = {
        "model": name,
        "p50_ms": round(float(p50), 2),
        "p95_ms": round(float(p95), 2),
        "frames": len(latencies),
        "max_abs_diff": float(f"{worst:.3g}"),
    }
    print(f"live {name:20s} {row}", file=sys.stderr)
    return row


COMPARED = ["conv2", "conv32", "conv128", "pca32"]  # Draw's compare mode: four code sizes rebuild the same stroke


def compare_row(b, url: str, names=COMPARED) -> dict:
    """Pointer event to painted reconstructions with compare mode on: the drawn model and the four
    compared (the drawn one among them, computed once), over the scripted drawing."""
    page = appserver.open_page(b, url, f"draw?model={names[1]}&compare=1&models={','.join(names)}")
    frame = appserver.live_frame(page)
    frame.wait_for_function(f"() => document.querySelectorAll('.compare-row canvas').length === {len(names)}")
    frame.wait_for_function("() => window.aeLive.compare.entries.every((e) => e.model)", timeout=60_000)
    frame.evaluate("() => { window.aeLive.frames.latencies.length = 0 }")
    appserver.draw(page, DRAWING, canvas=frame.locator("canvas.ink"), steps=25)
    page.wait_for_timeout(300)
    latencies = frame.evaluate("Array.from(window.aeLive.frames.latencies)")
    page.close()
    p50, p95 = np.percentile(latencies, [50, 95])
    row = {"models": names, "p50_ms": round(float(p50), 2), "p95_ms": round(float(p95), 2), "frames": len(latencies)}
    print(f"live compare {row}", file=sys.stderr)
    return row


def live_rows(b, url: str, names: list[str], data_dir=None) -> list[dict]:
    digits = data.digits("test", PARITY_DIGITS, data_dir)
    page = appserver.open_page(b, url, "draw")
    rows = [model_row(page, name, digits) for name in names]
    page.close()
    return rows


def _bytes_received(page, action) -> dict[str, int]:
    """Bytes on the wire (headers and compressed bodies) per URL while `action()` runs, from Chromium's network log."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls, sizes = {}, {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    action()
    return {urls.get(k, k): v for k, v in sizes.items()}


def page_weight(b, url: str) -> dict:
    """MB (10^6 bytes) the live path downloads: the runtime and the default model's files on a first
    visit (fresh browser profile), and again on a reload."""
    context = b.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()

    def visit():
        page.goto(f"{url}/draw")
        page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
        frame = appserver.live_frame(page)
        frame.wait_for_function("() => window.aeLive.runtime === 'ok'")

    ours = re.compile(r"/component/[^/]+/ort/|/ae/models/")  # the runtime; the model's files, from our route (ae/web.py)
    first = _bytes_received(page, visit)
    reload = _bytes_received(page, lambda: (page.reload(), visit()))
    context.close()

    def megabytes(sizes: dict[str, int]) -> float:
        return round(sum(v for k, v in sizes.items() if ours.search(k)) / 1e6, 3)

    out = {"live_page_mb": megabytes(first), "live_reload_mb": megabytes(reload)}
    print(f"live page weight: {out}", file=sys.stderr)
    return out
