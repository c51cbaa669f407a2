"""A drawing or an uploaded picture into a 28x28 MNIST-style digit, the way MNIST was made.

MNIST's digits were size-normalised to fit a 20x20 box (with antialiasing), then placed in a
28x28 field with their centre of mass at the centre. `to_mnist` does the same to anything:
ink from the alpha channel or the brightness (dark-on-light pictures are inverted), crop to the
ink, scale the longest side to 20 px, paste with the centre of mass at the centre.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

SIZE = 28
BOX = 20
INK_THRESHOLD = 0.15  # below this an ink value counts as paper (JPEG noise, shadows)
MAX_UPSCALE = 4.0  # a speck is not blown up into a 20x20 blob
MAX_PIXELS = 25_000_000  # larger uploads are refused before decoding
MAX_BYTES = 20 * 1024 * 1024


class ImageError(ValueError):
    """An upload that cannot be used as a digit; the message says why."""


def read_image(data: bytes) -> Image.Image:
    """Decode uploaded bytes safely: size limits, first frame only, EXIF orientation applied."""
    if not data:
        raise ImageError("the file is empty")
    if len(data) > MAX_BYTES:
        raise ImageError(f"the file is {len(data) / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > MAX_PIXELS:
                raise ImageError(f"the picture is {img.width}x{img.height} pixels; the limit is {MAX_PIXELS // 10**6} megapixels")
            img.seek(0)  # animated: the first frame
            img = ImageOps.exif_transpose(img)
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("the picture is too large to decode safely") from None
    except Exception as e:  # Pillow raises many types for broken or unknown files
        raise ImageError(f"this is not a picture Pillow can read ({type(e).__name__})") from None
    return img


LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# The brightness of each grey level, as the general path computes it: a drawing on the page's
# canvas is all grey (white ink on black), and a lookup is several times faster than the sums.
GREY_LEVELS = (np.repeat(np.arange(256, dtype=np.float32)[:, None], 3, 1) / np.float32(255.0)) @ LUMA


def ink(image) -> np.ndarray:
    """Ink intensity in [0, 1], (H, W) float32: white-on-black, whatever the input's convention."""
    if isinstance(image, Image.Image):
        image = _pil_to_array(image)
    a = np.asarray(image)
    if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] in (3, 4) and min(a.shape[:2]) >= 1:
        red = a[..., 0]
        if (a.shape[2] == 3 or (a[..., 3] == 255).all()) and (red == a[..., 1]).all() and (red == a[..., 2]).all():
            return _brightness_ink(GREY_LEVELS[red])
    if a.dtype == bool:
        a = a.astype(np.float32)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or min(a.shape[:2]) < 1:
        raise ImageError(f"expected a grey, RGB or RGBA picture, got an array of shape {a.shape}")
    a = a.astype(np.float32)
    peak = 255.0 if a.max(initial=0) > 1.0 else 1.0
    if a.max(initial=0) > 255.0:  # 16-bit
        peak = 65535.0
    a = np.clip(a / peak, 0.0, 1.0)
    alpha = None
    if a.ndim == 3:
        if a.shape[2] == 4:
            alpha = a[..., 3]
        grey = a[..., :3] @ LUMA
    else:
        grey = a
    if alpha is not None and alpha.min() < 0.99:  # transparent parts: lay the picture on paper
        grey = grey * alpha + _paper(grey, alpha) * (1.0 - alpha)
    return _brightness_ink(grey)


def _paper(grey: np.ndarray, alpha: np.ndarray) -> float:
    """A paper colour that contrasts with the painted (opaque) pixels."""
    painted = grey[alpha > 0.5]
    return 0.0 if painted.size and painted.mean() > 0.5 else 1.0


def _brightness_ink(grey: np.ndarray) -> np.ndarray:
    """Brightness as ink; inverted when the border (the paper) is light."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 0.5:
        grey = 1.0 - grey
    return grey.astype(np.float32)


def _pil_to_array(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        top = a.max(initial=0)
        return (a / top * 255.0 if top > 0 else a).astype(np.float32)
    if img.mode == "F":
        return np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return np.asarray(img.convert("RGBA"))
    if img.mode == "L":
        return np.asarray(img)
    return np.asarray(img.convert("RGB"))


def to_mnist(image) -> np.ndarray | None:
    """A (28, 28) float32 digit in [0, 1], or None when there is no ink.

    image: a numpy array (grey, RGB or RGBA, any size, uint8/uint16/float) or a PIL image.
    """
    m = ink(image)
    mask = m > INK_THRESHOLD
    if not mask.any():
        return None
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    crop = m[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = crop / crop.max()  # a faint pencil stroke becomes full ink, as MNIST's scanner levels did
    h, w = crop.shape
    scale = min(BOX / max(h, w), MAX_UPSCALE)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray(crop.astype(np.float32)).resize((new_w, new_h), Image.Resampling.LANCZOS)
    small = np.clip(np.asarray(small), 0.0, 1.0)
    return _centre_of_mass_paste(small)


def _centre_of_mass_paste(small: np.ndarray) -> np.ndarray:
    out = np.zeros((SIZE, SIZE), np.float32)
    h, w = small.shape
    weights = small.astype(np.float64)
    total = weights.sum()
    ys, xs = np.indices(small.shape)
    cy = (ys * weights).sum() / total if total > 0 else h / 2
    cx = (xs * weights).sum() / total if total > 0 else w / 2
    top = _round_shift(SIZE / 2 - cy)  # MNIST: centre of mass at pixel (14, 14)
    left = _round_shift(SIZE / 2 - cx)
    top = min(max(top, 0), SIZE - h)  # never push ink off the field
    left = min(max(left, 0), SIZE - w)
    out[top : top + h, left : left + w] = small
    return out


def _round_shift(x: float) -> int:
    """The nearest whole shift, halves to even, after snapping to 1/1024 of a pixel: a symmetric
    drawing puts its centre exactly on a half, and the page's copy of this code (which sums in
    another order) must round it the same way."""
    snapped = np.floor(x * 1024 + 0.5) / 1024
    return int(round(snapped))
