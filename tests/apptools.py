"""Helpers for AppTest: start the app on a page, inject a drawing into a canvas."""

import base64
import html
import io
import json
import re

import numpy as np
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

SEVEN = [(70, 56), (210, 56), (126, 238)]
ZERO = [(140, 40), (80, 90), (75, 180), (130, 240), (190, 200), (205, 120), (175, 55), (140, 40)]


def drawing(points, size=280, width=22) -> dict:
    """What the canvas component keeps in session state after a stroke: its PNG as a data URL."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    ImageDraw.Draw(img).line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}}


def live_value(points=None, runtime: str = "ok") -> dict:
    """What the live Draw widget tells the server after a stroke (ae.live.draw): the canvas as a PNG
    data URL, and whether the page runs the model ("failed": the server must)."""
    png = drawing(points)["drawing"]["data"] if points else None
    return {"png": png, "strokes": 1, "runtime": runtime, "reason": "no WebAssembly" if runtime == "failed" else ""}


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    return at


# ae.ui.picture_html: the picture, its alternative text, and its caption
INLINE_PICTURE = re.compile(r'<img src="([^"]+)" alt="([^"]*)"[^>]*><figcaption[^>]*>(.*?)</figcaption>', re.S)


def images(at) -> list[tuple[str, str]]:
    """(caption, or else alternative text; URL) of every picture on the page, st.image's and inline
    ones: the URL changes with the pixels."""
    found = []
    for e in at.main:
        if type(e).__name__ == "Image":
            found += [(i.caption, i.url) for i in e.proto.imgs]
        elif type(e).__name__ == "Html":
            found += [(html.unescape(caption.replace("<wbr>", "") or alt), src) for src, alt, caption in INLINE_PICTURE.findall(e.value)]
    return found


def served(at, key: str = "draw_live") -> dict | None:
    """What the server computed for a Draw widget to paint (ae.live.server_computed), read back:
    input, output (28x28) and code as arrays, the meter's placing, compare {name: output}, and the
    model the widget was given (name, latent_dim); None where the server computed nothing (the page runs the model)."""
    args = widget_args(at, key)
    shown = args.get("served")
    if shown is None:
        return None
    return {
        "input": floats(shown["input"]).reshape(28, 28),
        "output": floats(shown["output"]).reshape(28, 28),
        "code": floats(shown["code"]),
        "meter": shown["meter"],
        "compare": {c["name"]: floats(c["output"]).reshape(28, 28) for c in shown["compare"]},
        "model": args["model_name"],
        "latent_dim": args["latent_dim"],
    }


def widget_args(at, key: str) -> dict:
    """The arguments the server gave one of our live widgets (ae.live), by its key."""
    (widget,) = [e for e in at.get("component_instance") if e.proto.id.endswith(key)]
    return json.loads(widget.proto.json_args)


def floats(b64: str) -> np.ndarray:
    """Numbers the server sent a widget (ae.live.floats_b64), read back."""
    return np.frombuffer(base64.b64decode(b64), "<f4")


def served_frame(at, key: str) -> tuple | None:
    """What the server decoded for a morph, hover or class map widget to paint: (where: t or the
    point, the 28x28 digit), or None where it decoded nothing."""
    shown = widget_args(at, key).get("served")
    return None if shown is None else (shown.get("t", shown.get("z")), floats(shown["image"]).reshape(28, 28))


def served_mse(at, key: str = "draw_live") -> float:
    """The MSE the widget shows for the server's reconstruction (paint.js's mse, of the same arrays)."""
    shown = served(at, key)
    return float(np.mean((shown["input"] - shown["output"]) ** 2))


def link_notes(at) -> list[str]:
    """The "Part of this link could not be used" lines (ae.ui.links), as the reader sees them: text."""
    found = [re.search(r'class="ae-link-note"[^>]*>(.*?)</div>', e.value, re.S) for e in at.main if type(e).__name__ == "Html"]
    return [html.unescape(m.group(1)) for m in found if m]


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


# In a browser page: counts the server script runs the page sees start (window.__runs).
COUNT_RUNS = """() => {
  window.__runs = 0;
  // the whole document watched: an app element replaced after this still counts
  new MutationObserver((changes) => {
    for (const c of changes) if (c.target.dataset.testid === 'stApp' && c.target.dataset.testScriptState === 'running') window.__runs += 1;
  }).observe(document.body, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
}"""
