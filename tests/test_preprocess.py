import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from ae import data, preprocess


def _canvas_like(digit: np.ndarray, size=280, thicken=0) -> np.ndarray:
    """An MNIST digit as the canvas would send it: 10x larger, RGBA, opaque black background."""
    img = Image.fromarray((digit * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BILINEAR)
    if thicken:
        img = img.filter(ImageFilter.MaxFilter(thicken))
    grey = np.asarray(img)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


@pytest.fixture(scope="module")
def digits(mnist_dir):
    images, _ = data.load_mnist(False, mnist_dir)
    return data.to_float(images[:500])[:, 0].numpy()


def test_mnist_digits_drawn_large_come_back_close_to_the_originals(digits):
    # measured: mean 0.0070, 95th percentile 0.024 over the first 1,000 test digits
    errors = [np.mean((preprocess.to_mnist(_canvas_like(d)) - d) ** 2) for d in digits]
    assert np.mean(errors) < 0.010
    assert np.percentile(errors, 95) < 0.035


def test_thicker_strokes_still_land_in_the_box_and_centre(digits):
    # measured: mean 0.020 with a 9-px brush widening (about one MNIST pixel)
    errors = []
    for d in digits[:200]:
        out = preprocess.to_mnist(_canvas_like(d, thicken=9))
        errors.append(np.mean((out - d) ** 2))
        rows, cols = np.nonzero(out > 0.15)
        assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 21
        ys, xs = np.indices(out.shape)
        assert abs((ys * out).sum() / out.sum() - 14) <= 1 and abs((xs * out).sum() / out.sum() - 14) <= 1
    assert np.mean(errors) < 0.03


def test_output_is_28x28_float_in_range(digits):
    out = preprocess.to_mnist(_canvas_like(digits[0]))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1 and out.max() > 0.9


def test_empty_canvas_is_none():
    blank = np.zeros((280, 280, 4), np.uint8)
    blank[..., 3] = 255
    assert preprocess.to_mnist(blank) is None
    assert preprocess.to_mnist(np.zeros((280, 280, 4), np.uint8)) is None  # fully transparent


def test_one_pixel_is_a_small_dot_not_a_blob():
    one = np.zeros((280, 280, 4), np.uint8)
    one[..., 3] = 255
    one[100, 100, :3] = 255
    out = preprocess.to_mnist(one)
    assert out is not None and 0 < (out > 0.15).sum() <= 16


def test_full_canvas_is_handled():
    full = np.full((280, 280, 4), 255, np.uint8)
    out = preprocess.to_mnist(full)  # all white: looks like paper, so no ink
    assert out is None or out.shape == (28, 28)


def test_dark_on_light_photo_is_inverted(digits):
    d = digits[0]
    photo = 255 - _canvas_like(d)[..., :3]  # black ink on white paper, RGB
    out = preprocess.to_mnist(photo)
    assert np.mean((out - d) ** 2) < 0.02


def test_transparent_png_with_dark_strokes(digits):
    d = digits[1]
    rgba = np.zeros((280, 280, 4), np.uint8)  # black strokes, transparent elsewhere
    rgba[..., 3] = _canvas_like(d)[..., 0]
    out = preprocess.to_mnist(Image.fromarray(rgba, "RGBA"))
    assert np.mean((out - d) ** 2) < 0.02


def _png(img: Image.Image, fmt="PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_sixteen_bit_palette_and_jpeg_uploads(digits):
    d = digits[2]
    big = Image.fromarray((_canvas_like(d)[..., 0]).astype(np.uint8))
    sixteen = Image.fromarray(np.asarray(big).astype(np.uint16) * 257)
    assert sixteen.mode.startswith("I")
    for img in (sixteen, big.convert("P"), big.convert("RGB")):
        out = preprocess.to_mnist(preprocess.read_image(_png(img)))
        assert np.mean((out - d) ** 2) < 0.02
    jpeg = preprocess.read_image(_png(big.convert("RGB"), "JPEG", quality=80))
    assert np.mean((preprocess.to_mnist(jpeg) - d) ** 2) < 0.02


def test_exif_rotation_is_applied(digits):
    d = digits[3]
    upright = Image.fromarray(_canvas_like(d)[..., 0])
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # the camera stored it turned
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    out = preprocess.to_mnist(preprocess.read_image(_png(stored.convert("RGB"), "JPEG", exif=exif, quality=95)))
    assert np.mean((out - d) ** 2) < 0.02


@pytest.mark.parametrize(
    "blob,message",
    [
        (b"", "empty"),
        (b"hello, not a picture", "not a picture"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a picture"),
    ],
)
def test_bad_uploads_get_a_message(blob, message):
    with pytest.raises(preprocess.ImageError, match=message):
        preprocess.read_image(blob)


def test_decompression_bomb_is_refused_before_decoding():
    bomb = _png(Image.new("L", (6000, 6000)))  # 36 MP of zeros compress to a few kB
    assert len(bomb) < 200_000
    with pytest.raises(preprocess.ImageError, match="megapixels|too large"):
        preprocess.read_image(bomb)


def test_animated_gif_uses_the_first_frame(digits):
    frames = [Image.fromarray(_canvas_like(d)[..., 0]) for d in digits[4:6]]
    blob = _png(frames[0], "GIF", save_all=True, append_images=frames[1:])
    out = preprocess.to_mnist(preprocess.read_image(blob))
    assert np.mean((out - digits[4]) ** 2) < np.mean((out - digits[5]) ** 2)


def test_cmyk_one_bit_and_grey_with_alpha_pictures_are_read(digits):
    d = digits[6]
    grey = Image.fromarray(_canvas_like(d)[..., 0])
    paper = Image.fromarray(255 - np.asarray(grey))  # dark ink on white paper, as a scan
    pictures = {
        "CMYK": (paper.convert("CMYK"), "JPEG"),
        "1": (paper.point(lambda v: 255 if v > 128 else 0).convert("1"), "PNG"),
        "LA": (Image.merge("LA", [paper, Image.new("L", paper.size, 255)]), "PNG"),
    }
    for mode, (picture, fmt) in pictures.items():
        assert picture.mode == mode
        out = preprocess.to_mnist(preprocess.read_image(_png(picture, fmt)))
        assert out is not None and np.mean((out - d) ** 2) < 0.03, mode


def test_tiny_and_very_thin_pictures_do_not_break_it():
    dot = preprocess.to_mnist(preprocess.read_image(_png(Image.new("L", (1, 1), 255))))
    assert dot is None or (dot.shape == (28, 28) and dot.max() <= 1)
    line = np.zeros((1, 10_000), np.uint8)
    line[0, 100:9_900] = 255
    out = preprocess.to_mnist(preprocess.read_image(_png(Image.fromarray(line))))
    assert out is not None and out.shape == (28, 28) and 0 < out.sum() and out.max() <= 1
    assert preprocess.to_mnist(preprocess.read_image(_png(Image.fromarray(line.T)))).shape == (28, 28)


def test_a_truncated_jpeg_gets_a_message(digits):
    blob = _png(Image.fromarray(_canvas_like(digits[7])[..., 0]).convert("RGB"), "JPEG", quality=90)
    with pytest.raises(preprocess.ImageError, match="not a picture"):
        preprocess.read_image(blob[: len(blob) // 2])


def test_a_file_over_20_mb_is_refused_before_decoding():
    with pytest.raises(preprocess.ImageError, match="limit is 20 MB"):
        preprocess.read_image(b"\xff\xd8" + b"\0" * preprocess.MAX_BYTES)
