"""What the Compress page shows that takes seconds to measure: shipped with a scored checkpoint's
served form (ae.shipping.ship), else measured once per model version in the background
(ae/ui/later.py): the page opens at once and fills in when they are ready."""

from __future__ import annotations

import numpy as np

from ae import compress, latent, quality
from ae.ui import later
from ae.ui.catalog import LoadedModel
from ae.ui.inputs import test_digits, train_digits


def _quantiser(model) -> compress.Quantiser:
    return compress.Quantiser.fit(latent.encode(model, train_digits()))


def quantiser(choice: LoadedModel) -> compress.Quantiser | None:
    """The model's code quantised over 5,000 training digits' codes: shipped with its served form
    where it was scored, else measured here in the background (None until then)."""
    return compress.shipped(choice.model)[0] or later.result(("quantiser", *choice.version), _quantiser, choice.model)


def _curves(model) -> dict:
    return compress.curves(model, compress.pca_basis(), train_digits(), test_digits()[0][: compress.CURVE_DIGITS])


def curves(choice: LoadedModel) -> dict | None:
    """PSNR against bytes over 500 test digits for the model, PCA and JPEG: shipped, or measured
    here in the background (None until then)."""
    return compress.shipped(choice.model)[1] or later.result(("curves", *choice.version), _curves, choice.model)


def pca_quantiser(k: int) -> compress.Quantiser:
    """PCA's k numbers quantised over the same training digits as the model's code (shipped with the package)."""
    q = compress.pca_quantiser()
    return compress.Quantiser(q.lo[:k], q.hi[:k])


def wait_for(name: str, choice: LoadedModel, message: str) -> None:
    later.waiting((name, *choice.version), message)


def squeezed(choice: LoadedModel, digit: np.ndarray, q: compress.Quantiser, bits: int) -> tuple[list, list[str]]:
    """The digit, then its code at `bits` bits a number decoded, PCA and JPEG at as many bytes:
    the pictures and their captions (the Compress page's rows, the lesson's last step)."""
    size = compress.code_bytes(choice.model.latent_dim, bits)
    ours = latent.decode(choice.model, q.round_trip(latent.encode(choice.model, digit[None]), bits))[0]
    pca = compress.pca_basis().first(size)  # as many numbers as bytes, at 8 bits each
    pca_out = latent.decode(pca, pca_quantiser(size).round_trip(latent.encode(pca, digit[None]), 8))[0]
    jpeg_size, jpeg_out, jpeg_quality = compress.jpeg_within(digit, size)
    jpeg_note = f"{jpeg_size} bytes, quality {jpeg_quality}" if jpeg_size <= size else f"{jpeg_size} bytes: it cannot go smaller"
    captions = [
        "Original (784 bytes)",
        f"{choice.name}: {quality.psnr(ours, digit):.1f} dB",
        f"PCA, {size} numbers: {quality.psnr(pca_out, digit):.1f} dB",
        f"JPEG, {jpeg_note}: {quality.psnr(jpeg_out, digit):.1f} dB",
    ]
    return [digit, ours, pca_out, jpeg_out], captions
