"""The live path: our Streamlit component runs the chosen model in the page with onnxruntime-web.

Python stays the source of truth and the browser gets copies: a checkpoint's served form (its
encoder and decoder as ONNX, ae/export.py, beside the checkpoint; the server runs the same files)
fetched from our route (ae/web.py), the
vendored runtime (`frontend/ort/`, VENDOR.json), and the same preprocessing in JavaScript
(`frontend/preprocess.js`). Each widget returns what it heard from the page, with `failed` true
where the page cannot run the model (the server then computes, and the widget paints what it
computed: `server_computed`) and `reason`:

    drawn = live.draw(choice, key="draw_live", serve=...)   # Drawn: .digit, .strokes, .code, .shares
    live.draw_served(choice, server_computed(digit, ...), key="draw_upload_view")   # an upload's pictures
    slid = live.morph(choice, za, zb, "linear", 0.5, key="interp_live", decode=...)   # Slid: .t
    live.hover(choice, points, labels, lo, hi, key="explore_live", decode=...)       # Pointed: .z
    live.classmap(choice, background, room, pair, key="class_map", decode=...)   # Slid; chosen(key): the clicks
"""

from __future__ import annotations

import base64
import functools
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import streamlit.components.v1 as components

from ae import checkpoints, preprocess, served, web

FRONTEND = Path(__file__).parent / "frontend"
PALETTE = [
    "#7c9cff",
    "#ff6e6e",
    "#50fa7b",
    "#ffb86b",
    "#bd93f9",
    "#8be9fd",
    "#ff79c6",
    "#f1fa8c",
    "#a0a0a0",
    "#ffffff",
]  # a colour per digit class
PNG_PREFIX = "data:image/png;base64,"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CANVAS = 280  # the Draw canvas's own pixels (draw.js's SIZE): the only drawing the server accepts
MAX_DRAWING_BYTES = 2 * 1024 * 1024  # a 280x280 canvas as PNG is a few kB

_component = components.declare_component("live", path=str(FRONTEND))


def _registered() -> None:
    """The component registered with the running server: Streamlit registers one only when it is
    declared inside a script run, and this module may first be imported by the warm-up, before any."""
    from streamlit.runtime import Runtime

    if Runtime.exists():
        registry = Runtime.instance().component_registry
        if registry.get_component_path(_component.name) is None:
            registry.register_component(_component)


@functools.cache
def runtime_version() -> str:
    return json.loads((FRONTEND / "ort" / "VENDOR.json").read_text())["version"]


def _spec(choice) -> dict:
    """What the page needs to load the model: its served files' URLs, by their version."""
    digest = choice.model.digest
    files = {"encoder": f"encoder{served.PACKED}", "decoder": f"decoder{served.PACKED}", "meter": served.METER}
    return {
        "digest": digest,
        "latent_dim": choice.model.latent_dim,
        **{k: web.url_of_model_file(choice.name, f, digest) for k, f in files.items()},
    }


def beside_model(choice, name: str, data: bytes) -> str | None:
    """A file made for the page from this model (the class map's points), kept under the model's
    version and served with it: its URL for the widget, or None where it cannot be."""
    path = web.made_dir() / choice.model.digest / name
    try:
        if not path.exists():
            checkpoints.write_atomic(path, data)
    except OSError:
        return None
    return web.url_of_made_file(choice.model.digest, name)


def model_args(choice) -> dict:
    """The arguments every widget gets about the chosen model (an `ae.ui.LoadedModel`)."""
    _registered()
    return {
        "model": _spec(choice),
        "model_name": choice.name,
        "latent_dim": choice.model.latent_dim,
        "version": runtime_version(),
    }


@dataclass(frozen=True)
class Heard:
    """What a widget told the server: whether the page could not run the model, and why."""

    failed: bool
    reason: str


@dataclass(frozen=True)
class Slid(Heard):
    """Interpolate's slider: where it was let go."""

    t: float = 0.5


@dataclass(frozen=True)
class Pointed(Heard):
    """Explore's code plane: the point the page asked the server to decode (a click where the page
    cannot run the model), within the plane it was given, or None."""

    z: tuple | None = None


@dataclass(frozen=True)
class Drawn(Heard):
    """The Draw widget: the drawing as a 28x28 digit (None when empty), how many strokes (and
    clears) it has seen, and how many clears (a new count: a drawing begun)."""

    digit: np.ndarray | None = None
    strokes: int = 0
    drawing: int = 0
    code: np.ndarray | None = None  # what the page's model made of the drawing, where it ran: unchecked
    shares: tuple | None = None  # the page's "is this a digit?" shares for it: unchecked
    posted: str | None = None  # a class's stroke the page posted itself: "ok", or the store's sentence


def _widget(**kwargs):
    """The component drawn, and what the page last sent: None (with one line) for a value that is
    not JSON, or too deeply nested to read, which Streamlit parses before we see it."""
    try:
        return _component(**kwargs)
    except (ValueError, RecursionError):
        st.caption("The page sent something this server could not read: it was ignored.")
        return None


def _number(value, lo: float, hi: float) -> float | None:
    """A finite number in [lo, hi] from the page, or None (not a bool, a string, a list)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:  # NaN fails this too
        return None
    return float(value)


def heard(value) -> Heard:
    value = value if isinstance(value, dict) else {}
    return Heard(value.get("runtime") == "failed", str(value.get("reason") or "")[:300])


@functools.lru_cache(maxsize=32)  # not Streamlit's cache, which any client may empty
def digit_of(png_data_url: str) -> np.ndarray | None:
    """The canvas the page sent (a PNG data URL of 280x280 pixels) through ae.preprocess.to_mnist;
    ValueError if it is not one, checked from its header before anything is decoded."""
    if not png_data_url.startswith(PNG_PREFIX) or len(png_data_url) > MAX_DRAWING_BYTES:
        raise ValueError("the drawing did not arrive as a PNG")
    data = base64.b64decode(png_data_url[len(PNG_PREFIX) :], validate=True)
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR" or struct.unpack(">II", data[16:24]) != (CANVAS, CANVAS):
        raise ValueError(f"the drawing is not the canvas's {CANVAS}x{CANVAS} PNG")
    return preprocess.to_mnist(preprocess.read_image(data))


def page_input(value) -> np.ndarray | None:
    """The 28x28 digit the page made of its drawing (784 bytes, base64), or None if it is not one."""
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) and len(value) < 2048 else b""
    except ValueError:
        return None
    return np.frombuffer(raw, np.uint8).reshape(28, 28) / np.float32(255.0) if len(raw) == 784 else None


def draw(choice, key: str, editor: dict | None = None, compare=(), room: dict | None = None, serve=None) -> Drawn:
    """The canvas, with the model's reconstruction of the drawing computed in the page on every
    frame; the server hears of the drawing when a stroke ends. `editor`: latent.code_directions;
    `compare`: up to four more models (ae.ui.LoadedModel) that rebuild the same drawing live;
    `room`: the class this canvas draws for (classroom.for_the_canvas: its pens down stop it);
    `serve(drawn)`: where the page cannot run the model, what the server computed of the drawing
    the page sent last (`server_computed`), which the widget paints, or None.
    The digit is the page's own 28x28 (preprocess.js, held to ae.preprocess within 1/255 by the
    tests), which it sends even where it cannot run the model; else the server reads the canvas's PNG."""
    shown = serve(drawn_of(st.session_state.get(key))) if serve is not None else None  # the value this run's widget returns
    others = [model_args(c) for c in compare]
    value = _widget(widget="draw", editor=editor, compare=others, room=room, served=shown, key=key, default=None, **model_args(choice))
    return drawn_of(value)


def drawn_of(value) -> Drawn:
    """What the Draw widget said, read: nothing of the wrong kind is trusted."""
    said = heard(value)
    value = value if isinstance(value, dict) else {}
    png = value.get("png") if isinstance(value.get("png"), str) else None
    digit = page_input(value.get("input")) if png else None
    try:
        digit = digit_of(png) if png and digit is None else digit
    except (ValueError, preprocess.ImageError):
        digit = None
    strokes, code, shares = value.get("strokes"), value.get("code"), value.get("shares")
    try:
        code = np.asarray(code, np.float64) if isinstance(code, list) and digit is not None else None
    except (TypeError, ValueError):
        code = None
    if code is not None and (code.ndim != 1 or not np.isfinite(code).all()):
        code = None
    shares = tuple(_number(v, 0.0, 1.0) for v in shares) if isinstance(shares, list) and len(shares) == 2 and code is not None else None
    shares = None if shares is None or None in shares else shares
    strokes, drawing = (v if isinstance(v, int) and not isinstance(v, bool) else 0 for v in (strokes, value.get("drawing")))
    posted = value.get("posted")
    posted = posted[:300] if isinstance(posted, str) and digit is not None else None
    return Drawn(said.failed, said.reason, digit, strokes, drawing, code, shares, posted)


def draw_served(choice, shown: dict, key: str, compare=()) -> None:
    """The Draw widget without its canvas: the server's pictures of a digit (an upload), `shown`:
    server_computed."""
    others = [model_args(c) for c in compare]
    _widget(widget="draw", canvas=False, compare=others, served=shown, key=key, default=None, **model_args(choice))


def floats_b64(a) -> str:
    """Numbers as little-endian float32, base64: paint.js's floatsOf reads them (3 kB a digit, no rounding)."""
    return base64.b64encode(np.ascontiguousarray(np.ravel(a), "<f4").tobytes()).decode()


def server_computed(digit: np.ndarray, output: np.ndarray, code: np.ndarray, placed: dict | None = None, compare=()) -> dict:
    """What the server computed of a digit, for the Draw widget to paint as it paints its own: the
    input, the reconstruction and the code; `placed`: the meter's shares, the code's unsureness and
    the words (or None); `compare`: (model name, its reconstruction) pairs."""
    return {
        "input": floats_b64(digit),
        "output": floats_b64(output),
        "code": floats_b64(code),
        "meter": placed,
        "compare": [{"name": name, "output": floats_b64(out)} for name, out in compare],
    }


def morph(choice, za: np.ndarray, zb: np.ndarray, method: str, t: float, key: str, decode=None) -> Slid:
    """A slider whose frame follows it in the page; where it was let go. `decode(t)`: where the page
    cannot run the model, the frame at t computed by the server (28x28), which the widget paints."""
    before = slid_of(st.session_state.get(key), t)  # the value this run's widget returns
    served = None
    if decode is not None and before.failed:
        served = {"t": before.t, "image": floats_b64(decode(before.t))}
    value = _widget(
        widget="morph", za=_floats(za), zb=_floats(zb), method=method, t=t, served=served, key=key, default=None, **model_args(choice)
    )
    return slid_of(value, t)


def slid_of(value, t: float) -> Slid:
    said = heard(value)
    slid = _number(value.get("t"), 0.0, 1.0) if isinstance(value, dict) else None
    return Slid(said.failed, said.reason, t if slid is None else slid)


def pointed_of(value, lo, hi) -> Pointed:
    said = heard(value)
    point = value.get("point") if isinstance(value, dict) else None
    z = tuple(_number(v, float(a), float(b)) for v, a, b in zip(point, lo, hi)) if isinstance(point, list) and len(point) == 2 else None
    return Pointed(said.failed, said.reason, None if z is None or None in z else z)


def hover(choice, points: np.ndarray, labels: np.ndarray, lo, hi, key: str, decode=None) -> Pointed:
    """The code plane of a 2-d model with the digit under the pointer decoded in the page; `decode(z)`:
    where the page cannot run the model, the digit of the point clicked computed by the server."""
    before = pointed_of(st.session_state.get(key), lo, hi)
    served = None
    if decode is not None and before.failed and before.z is not None:
        served = {"z": list(before.z), "image": floats_b64(decode(np.array(before.z)))}
    args = {
        "points": np.round(points, 3).tolist(),
        "labels": labels.astype(int).tolist(),
        "lo": _floats(lo),
        "hi": _floats(hi),
        "palette": PALETTE,
        "served": served,
    }
    return pointed_of(_widget(widget="hover", key=key, default=None, **args, **model_args(choice)), lo, hi)


def chosen(key: str) -> list[int]:
    """The drawings the teacher has clicked on the class map (at most two, ids), as of this run."""
    value = st.session_state.get(key)
    picked = value.get("selected") if isinstance(value, dict) else None
    return [int(i) for i in picked if isinstance(i, int)][-2:] if isinstance(picked, list) else []


def classmap(choice, background: dict, room: str, pair: dict | None, key: str, decode=None) -> Slid:
    """The class's map (background: the test digits' points or their URL, lo, hi) of the room's
    drawings, which the page follows itself (ae/ui/classmap.py), and the morph of the chosen pair
    (a, b: codes; names) decoded in the page (`chosen(key)`: the clicks); `decode(t)`: where the
    page cannot run the model, the pair's frame at t (where its slider was let go) by the server."""
    before = slid_of(st.session_state.get(key), 0.5)
    served = {"t": before.t, "image": floats_b64(decode(before.t))} if decode is not None and before.failed and pair else None
    value = _widget(
        widget="classmap", room=room, pair=pair, palette=PALETTE, served=served, key=key, default=None, **background, **model_args(choice)
    )
    return slid_of(value, 0.5)


def teacher(room: str, secret: str | None, key: str, copy: bool = True) -> None:
    """The teacher's key to a room kept on this device (a cookie the server sets), with a button
    (`copy`) that copies the private teacher link without showing it; `secret` None: forgotten here."""
    _widget(widget="teacher", room=room, secret=secret, copy=copy, key=key, default=None)


def follow(
    room: str, state: dict, words: dict, key: str, keep: str | None = None, rules: list[str] | None = None, follows: str = ""
) -> None:
    """A student's page following its room: the teacher's changes heard within a second, pens down
    passed to the canvas; `rules`: on a page that holds the lesson's steps, the CSS that shows each
    one (rules[n], step n), with which the page shows a new step itself (else the page reruns, see
    classroom.follow), put over the page's own while the page's body has the class `follows`;
    `keep`: the student's token, for the page to have this browser keep (ae/web.py's /ae/me)."""
    _registered()
    _widget(widget="follow", room=room, state=state, words=words, keep=keep, rules=rules, follows=follows, key=key, default=None)


def _floats(a) -> list[float]:
    return [float(v) for v in np.ravel(a)]
