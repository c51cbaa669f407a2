"""Helpers for AppTest: start the app on a page, inject a drawing into a canvas."""

import base64
import io

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


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    return at


def images(at) -> list[tuple[str, str]]:
    """(caption, media URL) of every picture on the page: the URL changes when the pixels change."""
    return [(i.caption, i.url) for e in at.main if type(e).__name__ == "Image" for i in e.proto.imgs]


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
