"""Shared Streamlit pieces: the model catalogue and picker, the canvas, image strips, cached loaders.

The only module of `ae` that imports Streamlit. Pages call these and do nothing else with models.
"""

from __future__ import annotations

import base64
import gc
import html
import io
import os
from dataclasses import dataclass
from pathlib import Path

# One OpenMP thread per Python thread. Streamlit runs every rerun in a fresh thread, and a fresh
# thread takes OpenMP's default team (every core) in oneDNN's convolutions: with the browsers'
# load on a 2-core machine the team's spinning barrier made a 2 ms inference take 60 ms (25 ms of
# CPU). Read when torch loads, so it must come before the first `import torch` of the process.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import plotly.graph_objects  # noqa: F401  (the Explore and Train pages use it: imported before gc.freeze below)
import streamlit as st
import torch
from PIL import Image

from ae import checkpoints, data, latent, models, preprocess, train

MODEL_KEY = "model_name"  # the chosen model, shared by every page
DEFAULT_MODEL = "conv32"
CANVAS_SIZE = 280
DIGIT_PX = 168  # a 28x28 digit shown at 6x, nearest-neighbour: crisp pixels

torch.set_num_threads(1)  # many small requests from many sessions: narrow is better (jobs widen their own thread)
train.keep_freed_memory()  # the Explore map and other batches reuse their buffers
# torch, plotly and Streamlit leave ~10^6 objects behind; every full garbage collection walked them
# all, mid-rerun (+90 ms per stroke on the Draw page). Imported once per process: freeze them.
gc.freeze()


def checkpoint_dir() -> Path:
    return Path(os.environ.get("AE_CHECKPOINT_DIR", "checkpoints"))


# ---- the model catalogue -----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One checkpoint file as the app sees it: a loaded model, or why it could not be loaded."""

    name: str
    path: Path
    model: models.Autoencoder | None
    meta: dict | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.model is not None

    @property
    def test(self) -> dict:
        return (self.meta or {}).get("metrics", {}).get("test", {})

    @property
    def noise(self) -> str:
        t = (self.meta or {}).get("train", {})
        return t.get("noise", "none") if t.get("noise_level") else "none"

    @property
    def denoising(self) -> bool:
        return self.noise != "none"

    def label(self) -> str:
        parts = [self.name, f"{self.model.latent_dim}-d"]
        if "mse" in self.test:
            parts.append(f"MSE {self.test['mse']:.4f}")
        if self.denoising:
            parts.append("denoiser")
        return " · ".join(parts)


@st.cache_resource(max_entries=256, show_spinner=False)
def _load(path: str, mtime_ns: int, size: int) -> tuple:
    """Load once per file version: a retrained or replaced file has a new mtime and size."""
    try:
        model, meta = checkpoints.load(path)
        return models.for_inference(model), meta, None
    except checkpoints.CheckpointError as e:
        return None, None, str(e)


def catalog() -> list[Choice]:
    """Every checkpoint in the folder, read now, so a newly trained model shows up at once."""
    out = []
    for path in checkpoints.checkpoint_files(checkpoint_dir()):
        try:
            stat = path.stat()
        except FileNotFoundError:  # deleted since the listing
            continue
        model, meta, error = _load(str(path), stat.st_mtime_ns, stat.st_size)
        out.append(Choice(path.stem, path, model, meta, error))
    return out


def usable() -> list[Choice]:
    """The loadable models, smallest code first: models of one code size sit together."""
    return sorted((c for c in catalog() if c.ok), key=lambda c: (c.model.latent_dim, c.name))


def model_picker() -> Choice | None:
    """The sidebar's model choice, kept in session state across pages."""
    choices = usable()
    if not choices:
        st.sidebar.warning(
            f"No trained models in `{checkpoint_dir()}`. Train one on the **Train** page, "
            "or run `python -m ae.train --out checkpoints/mine.safetensors`."
        )
        return None
    names = [c.name for c in choices]
    if st.session_state.get(MODEL_KEY) not in names:
        st.session_state[MODEL_KEY] = DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]
    by_name = {c.name: c for c in choices}
    st.sidebar.selectbox("Model", names, key=MODEL_KEY, format_func=lambda n: by_name[n].label())
    chosen = by_name[st.session_state[MODEL_KEY]]
    st.sidebar.caption(describe(chosen))
    broken = [c for c in catalog() if not c.ok]
    if broken:
        with st.sidebar.expander(f"{len(broken)} checkpoint(s) could not be loaded"):
            for c in broken:
                st.write(f"**{c.name}**: {c.error}")
    return chosen


def chosen_model() -> Choice | None:
    """The model picked in the sidebar (None when there is none)."""
    by_name = {c.name: c for c in usable()}
    return by_name.get(st.session_state.get(MODEL_KEY))


def require_model() -> Choice:
    """The chosen model; without one, the page says how to get one and stops there."""
    choice = chosen_model()
    if choice is None:
        st.warning("There is no trained model to use yet: train one on the **Train** page.")
        st.stop()
    return choice


def describe(c: Choice) -> str:
    arch = c.meta["architecture"]
    text = f"**{arch}**, {c.model.latent_dim}-d code, {c.meta.get('parameters', 0):,} parameters. {models.origin(arch)}"
    if c.denoising:
        text += f" Trained to remove {c.noise.replace('_', ' ')} noise."
    return text


# ---- MNIST samples -----------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _test_digits(root: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = data.load_mnist(False, root)
    return data.to_float(images)[:, 0].numpy(), labels.numpy()


def test_digits() -> tuple[np.ndarray, np.ndarray] | None:
    """The 10k test digits (N, 28, 28) in [0, 1] and labels, or None when MNIST is not on disk."""
    root = data.resolve_data_dir().resolve()
    if not data.mnist_available(root):
        return None
    return _test_digits(str(root))


def mnist_missing_note() -> None:
    st.info(data.missing_message(data.resolve_data_dir()), icon=":material/download:")


def pick_digit(key: str, label: str = "Digit") -> np.ndarray | None:
    """A test digit chosen by class or at random; the choice is kept across pages."""
    digits = test_digits()
    if digits is None:
        mnist_missing_note()
        return None
    images, labels = digits
    state = f"{key}_index"
    cls_col, btn_col = st.columns([3, 2], vertical_alignment="bottom")
    cls = cls_col.selectbox(label, ["any", *range(10)], key=f"{key}_class")
    if state not in st.session_state or btn_col.button("Another", key=f"{key}_next", icon=":material/casino:"):
        pool = np.arange(len(labels)) if cls == "any" else np.flatnonzero(labels == cls)
        st.session_state[state] = int(np.random.default_rng().choice(pool))
    index = st.session_state[state]
    if cls != "any" and labels[index] != cls:  # the class changed: follow it
        index = st.session_state[state] = int(np.flatnonzero(labels == cls)[0])
    return images[index]


# ---- drawing -----------------------------------------------------------------------------------


def _bump(key: str) -> None:
    st.session_state[key] = st.session_state.get(key, 0) + 1


def canvas_digit(key: str, size: int = CANVAS_SIZE) -> np.ndarray | None:
    """A canvas (white ink on black), Clear and brush size under it: the drawing as a 28x28 digit or None.

    The controls sit below the canvas: its hover toolbar (undo, redo, reset) covers its top edge.
    """
    from streamlit_drawable_canvas import st_canvas  # importable only inside a Streamlit run

    counter, brush = f"{key}_version", f"{key}_brush"
    result = st_canvas(
        stroke_width=st.session_state.get(brush, 20),
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=size,
        width=size,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"{key}_{st.session_state.get(counter, 0)}",  # a new key is an empty canvas
    )
    clear_col, brush_col = st.columns([1, 2], vertical_alignment="bottom")
    clear_col.button("Clear", key=f"{key}_clear", on_click=_bump, args=(counter,), icon=":material/delete:")
    brush_col.slider("Brush size", 8, 40, 20, key=brush)
    image = result.image_data
    return None if image is None else preprocess.to_mnist(image)


def upload_digit(key: str) -> np.ndarray | None:
    """A picture of a handwritten digit, uploaded, as a 28x28 digit; bad files get a message."""
    file = st.file_uploader("A photo or scan of one handwritten digit", type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"], key=key)
    if file is None:
        return None
    try:
        digit = preprocess.to_mnist(preprocess.read_image(file.getvalue()))
    except preprocess.ImageError as e:
        st.error(f"Could not use **{file.name}**: {e}.", icon=":material/broken_image:")
        return None
    if digit is None:
        st.warning(f"**{file.name}** looks blank: no ink found.", icon=":material/visibility_off:")
    return digit


# ---- images ------------------------------------------------------------------------------------


def digit_image(a: np.ndarray, size: int | None = DIGIT_PX) -> Image.Image:
    """A (28, 28) array in [0, 1] as a greyscale picture, scaled up with crisp pixels (None: as it is)."""
    picture = Image.fromarray((np.clip(a, 0.0, 1.0) * 255).round().astype(np.uint8))
    return picture if size is None else picture.resize((size, size), Image.Resampling.NEAREST)


def error_image(x: np.ndarray, x_hat: np.ndarray) -> Image.Image:
    """Per-pixel error (28x28 RGB): orange where the reconstruction adds ink, blue where it misses ink."""
    d = np.clip(x_hat - x, -1.0, 1.0)
    extra, missing = np.sqrt(np.clip(d, 0, 1)), np.sqrt(np.clip(-d, 0, 1))  # sqrt: small errors show
    rgb = np.stack([extra * 255, extra * 150 + missing * 160, missing * 255], -1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


# Results that change on every stroke are one st.html block of inline pictures, not st.image and
# st.metric elements: no request per picture, 28x28 PNGs scaled up by the browser, and one element
# to re-render. With the one-thread fix above, it took the p95 latency of eight sessions drawing on
# a 2-core machine from 1.2 s to 0.7 s (tests/test_load.py).
CAPTION_CSS = "font-size:0.875rem;opacity:0.65;margin-top:0.3rem;white-space:pre-line;line-height:1.35;overflow-wrap:anywhere"


def data_uri(picture) -> str:
    """A (28, 28) array in [0, 1], a PIL image or SVG markup as a data: URI."""
    if isinstance(picture, str):
        return "data:image/svg+xml;base64," + base64.b64encode(picture.encode()).decode()
    if not isinstance(picture, Image.Image):
        picture = digit_image(picture, None)  # 28x28: the page scales it up
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode()


def figure_html(picture, caption: str | None, width: int, height: int | None = None, crisp: bool = True) -> str:
    """One picture with its caption under it, at most `width` wide; `crisp` scales pixels up as squares."""
    text = html.escape(caption or "")
    style = "display:block;border-radius:4px;width:100%;height:auto" + (";image-rendering:pixelated" if crisp else "")
    return (
        f'<figure style="margin:0;min-width:0;max-width:{width}px">'
        f'<img src="{data_uri(picture)}" alt="{text}" width="{width}" height="{height or width}" style="{style}">'
        f'<figcaption style="{CAPTION_CSS}">{text.replace("_", "_<wbr>")}</figcaption></figure>'  # model names break at _
    )


def strip_html(images, captions=None, size: int = DIGIT_PX) -> str:
    """Digits side by side (28x28 arrays or PIL images) with captions: a grid whose cells shrink to 60%
    of `size` before a row wraps, all the same width."""
    images = list(images)
    captions = list(captions) if captions is not None else [None] * len(images)
    figures = "".join(figure_html(img, cap, size) for img, cap in zip(images, captions))
    grid = f"display:grid;grid-template-columns:repeat(auto-fit,minmax({int(size * 0.6)}px,1fr));gap:0.75rem 1rem"
    return f'<div style="{grid};margin-bottom:0.5rem">{figures}</div>'


def image_strip(images, captions=None, size: int = DIGIT_PX) -> None:
    """`strip_html` on the page."""
    st.html(strip_html(images, captions, size))


def stats_html(stats) -> str:
    """A row of (label, value, explanation) figures in the style of st.metric; hover explains."""
    cells = "".join(
        f'<div title="{html.escape(tip)}" style="cursor:help"><div style="font-size:0.875rem;opacity:0.65">'
        f'{html.escape(label)}</div><div data-stat="{html.escape(label)}" style="font-size:2.25rem;line-height:1.3">'
        f"{html.escape(value)}</div></div>"
        for label, value, tip in stats
    )
    return f'<div style="display:flex;flex-wrap:wrap;gap:0.5rem 3.5rem;margin:0.75rem 0 1rem">{cells}</div>'


def sheet(images, size: int = 112, gap: int = 4) -> Image.Image:
    """Digits in one row as one picture, on a dark grey gutter."""
    n = len(images)
    out = Image.new("L", (n * size + (n - 1) * gap, size), 60)
    for i, a in enumerate(images):
        out.paste(digit_image(a, size), (i * (size + gap), 0))
    return out


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(images, size: int = 196, ms: int = 80) -> bytes:
    """An animation that plays the frames forward and back."""
    frames = [digit_image(a, size) for a in images]
    frames = frames + frames[-2:0:-1]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return buf.getvalue()


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(mse(a, b), 1e-10)))


def reconstruct_one(choice: Choice, digit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code (latent_dim,), reconstruction (28, 28)) of one digit."""
    z, x_hat = latent.reconstruct(choice.model, digit[None])
    return z[0], x_hat[0]


def add_noise(digit: np.ndarray, kind: str, level: float, seed: int) -> np.ndarray:
    """The library's noise on one (28, 28) digit, reproducible by seed."""
    x = torch.as_tensor(digit, dtype=torch.float32)[None, None]
    return data.add_noise(x, kind, level, torch.Generator().manual_seed(seed))[0, 0].numpy()


def code_bars_svg(z: np.ndarray, width: int = 600, height: int = 140) -> str:
    """The code as an SVG bar chart (blue up, orange down): a picture, so nothing heavy re-renders per stroke."""
    n = len(z)
    top = float(max(np.abs(z).max(), 1e-6))
    mid, bar = height / 2, width / n
    bars = "".join(
        f'<rect x="{i * bar + bar * 0.12:.1f}" y="{mid - max(v, 0) / top * (mid - 4):.1f}" width="{bar * 0.76:.1f}" '
        f'height="{max(abs(v) / top * (mid - 4), 0.5):.1f}" fill="{"#7c9cff" if v >= 0 else "#ffb86b"}"/>'
        for i, v in enumerate(np.asarray(z, dtype=float))
    )
    axis = f'<line x1="0" y1="{mid}" x2="{width}" y2="{mid}" stroke="#777" stroke-width="1"/>'
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}">{axis}{bars}</svg>'
