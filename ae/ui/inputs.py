"""Where a digit comes from: a test digit, the canvas, an upload."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import streamlit as st

from ae import compress, download, mnist, preprocess
from ae.ui.pictures import digit_picture, picture

CANVAS_SIZE = 280


@functools.lru_cache(maxsize=2)  # not Streamlit's cache, which any client may empty
def _test_digits(root: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist.load(False, root)
    return images.astype(np.float32) / np.float32(255.0), labels


_FOUND: set[str] = set()  # MNIST roots seen complete: files once there stay (each look is four stats)


@functools.cache
def _resolved(root: str) -> str:
    return str(Path(root).resolve())


def _mnist_root() -> str | None:
    root = _resolved(str(mnist.resolve_data_dir()))
    if root not in _FOUND and mnist.mnist_available(root):
        _FOUND.add(root)
    return root if root in _FOUND else None


def test_digits() -> tuple[np.ndarray, np.ndarray] | None:
    """The 10k test digits (N, 28, 28) in [0, 1] and labels, or None when MNIST is not on disk."""
    root = _mnist_root()
    return None if root is None else _test_digits(root)


@functools.lru_cache(maxsize=2)
def _train_digits(root: str, count: int) -> np.ndarray:
    return mnist.digits("train", count, root, keep=False)  # the server keeps these 5,000, not the 60,000


def train_digits(count: int = compress.TRAIN_DIGITS) -> np.ndarray | None:
    """The first `count` digits of the training split (N, 28, 28), or None without MNIST."""
    root = _mnist_root()
    return None if root is None else _train_digits(root, count)


def mnist_missing_note(key: str = "download_mnist") -> None:
    """What a page says where it wants MNIST and the server has none, and a button that fetches it."""
    st.info(
        "The MNIST digits are not on this server, so this part of the page is empty: download them "
        f"here ({download.SIZE_MB} MB), or run `python -m ae.download`.",
        icon=":material/download:",
    )
    if not st.button(f"Download MNIST ({download.SIZE_MB} MB)", key=key, icon=":material/download:"):
        return
    bar = st.progress(0.0, text="Downloading MNIST…")

    def show(name: str, done: int, total: int | None) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0, text=f"Downloading {name}…")

    try:
        download.fetch(progress=show)
    except download.DownloadError as e:
        bar.empty()
        st.error(f"The download failed, so the page stays as it is: {e}.", icon=":material/cloud_off:")
        return
    st.rerun()


def pick_digit(key: str, label: str = "Digit") -> np.ndarray | None:
    """A test digit chosen by class or at random; the choice is kept across pages."""
    digits = test_digits()
    if digits is None:
        mnist_missing_note(f"{key}_download")
        return None
    images, labels = digits
    state = f"{key}_index"
    class_col, button_col = st.columns([3, 2], vertical_alignment="bottom")
    wanted = class_col.selectbox(label, ["any", *range(10)], key=f"{key}_class")
    if state not in st.session_state or button_col.button("Another", key=f"{key}_next", icon=":material/casino:"):
        pool = np.arange(len(labels)) if wanted == "any" else np.flatnonzero(labels == wanted)
        st.session_state[state] = int(np.random.default_rng().choice(pool))
    index = st.session_state[state]
    if wanted != "any" and labels[index] != wanted:  # the class changed: follow it
        index = st.session_state[state] = int(np.flatnonzero(labels == wanted)[0])
    return images[index]


def digit_source(key: str, label: str, canvas_size: int = CANVAS_SIZE, show: bool = False) -> np.ndarray | None:
    """A "MNIST or Draw" switch and the digit it gives: a picked test digit (shown at the canvas's
    size if `show`), or the canvas (also when MNIST is missing, with a note saying so)."""
    source = st.segmented_control(label, ["MNIST", "Draw"], default="MNIST", key=f"{key}_source")
    if source == "Draw" or test_digits() is None:
        if source != "Draw":
            mnist_missing_note(f"{key}_download")
        return canvas_digit(f"{key}_canvas", size=canvas_size)
    digit = pick_digit(key)
    if digit is not None and show:
        picture(digit_picture(digit, canvas_size), f"{label}: a test digit")
    return digit


def _bump(key: str) -> None:
    st.session_state[key] = st.session_state.get(key, 0) + 1


def canvas_digit(key: str, size: int = CANVAS_SIZE) -> np.ndarray | None:
    """A canvas (white ink on black), Clear and brush size under it: the drawing as a 28x28 digit or None.

    The controls sit below the canvas: its hover toolbar (undo, redo, reset) covers its top edge.
    """
    from streamlit_drawable_canvas import (
        st_canvas,  # importable only inside a Streamlit run
    )

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


UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]


def upload_digit(key: str) -> np.ndarray | None:
    """A picture of a handwritten digit, uploaded, as a 28x28 digit; bad files get a message."""
    file = st.file_uploader("A photo or scan of one handwritten digit", type=UPLOAD_TYPES, key=key)
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
