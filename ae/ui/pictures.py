"""Digits as pictures: PNG and GIF bytes, and the inline-HTML strips the pages show (the Draw page's
pictures are its live widget's, whoever computes them: ae/live, ae/ui/server_path.py).

A strip is one `st.html` block of inline 28x28 PNGs scaled up by CSS, not several st.image
elements: no request per picture, one element to re-render (docs/performance.md).
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import streamlit as st
from PIL import Image

DIGIT_PX = 168  # a 28x28 digit shown at 6x, nearest-neighbour: crisp pixels
CAPTION_CSS = "font-size:0.875rem;opacity:0.75;margin-top:0.3rem;white-space:pre-line;line-height:1.35;overflow-wrap:anywhere"


def digit_picture(a: np.ndarray, size: int | None = DIGIT_PX) -> Image.Image:
    """A (28, 28) array in [0, 1] as a greyscale picture, scaled up with crisp pixels (None: as it is)."""
    picture = Image.fromarray((np.clip(a, 0.0, 1.0) * 255).round().astype(np.uint8))
    return picture if size is None else picture.resize((size, size), Image.Resampling.NEAREST)


def row_picture(images, size: int = 112, gap: int = 4) -> Image.Image:
    """Digits in one row as one picture, on a dark grey gutter."""
    n = len(images)
    out = Image.new("L", (n * size + (n - 1) * gap, size), 60)
    for i, a in enumerate(images):
        out.paste(digit_picture(a, size), (i * (size + gap), 0))
    return out


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(images, size: int = 196, ms: int = 80) -> bytes:
    """An animation that plays the frames forward and back."""
    frames = [digit_picture(a, size) for a in images]
    frames = frames + frames[-2:0:-1]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return buf.getvalue()


def data_uri(picture) -> str:
    """A (28, 28) array in [0, 1], a PIL image or SVG markup as a data: URI."""
    if isinstance(picture, str):
        return "data:image/svg+xml;base64," + base64.b64encode(picture.encode()).decode()
    if not isinstance(picture, Image.Image):
        picture = digit_picture(picture, None)  # 28x28: the page scales it up
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode()


def picture_html(picture, caption: str | None, width: int, height: int | None = None, crisp: bool = True, alt: str | None = None) -> str:
    """One picture with its caption under it, at most `width` wide; `crisp` scales pixels up as squares.
    `alt` says what the picture shows for a screen reader (default: the caption)."""
    text = html.escape(caption or "")
    style = "display:block;border-radius:4px;width:100%;height:auto" + (";image-rendering:pixelated" if crisp else "")
    return (
        f'<figure style="margin:0;min-width:0;max-width:{width}px">'
        f'<img src="{data_uri(picture)}" alt="{html.escape(alt or caption or "")}" width="{width}" height="{height or width}" style="{style}">'
        f'<figcaption style="{CAPTION_CSS}">{text.replace("_", "_<wbr>")}</figcaption></figure>'  # model names break at _
    )


def gallery_html(images, captions=None, size: int = DIGIT_PX) -> str:
    """Digits side by side (28x28 arrays or PIL images) with captions: a grid whose cells shrink to
    60% of `size` before a row wraps, all the same width."""
    images = list(images)
    captions = list(captions) if captions is not None else [None] * len(images)
    figures = "".join(picture_html(img, cap, size) for img, cap in zip(images, captions))
    grid = f"display:grid;grid-template-columns:repeat(auto-fit,minmax({int(size * 0.6)}px,1fr));gap:0.75rem 1rem"
    return f'<div style="{grid};margin-bottom:0.5rem">{figures}</div>'


def picture(image, caption: str | None = None, alt: str | None = None, width: int | None = None) -> None:
    """One picture (a PIL image made at the size it is shown, or SVG markup `width` wide) with its
    caption, and `alt` for a screen reader (default: the caption); st.image writes no alternative text."""
    if isinstance(image, str):
        st.html(picture_html(image, caption, width, crisp=False, alt=alt))
    else:
        st.html(picture_html(image, caption, image.width, image.height, alt=alt))


def gallery(images, captions=None, size: int = DIGIT_PX) -> None:
    """`gallery_html` on the page."""
    st.html(gallery_html(images, captions, size))
