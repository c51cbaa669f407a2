"""What the Compress page shows that takes seconds to measure, once per model version, in the
background (ae/ui/later.py): the page opens at once and fills in when they are ready."""

from __future__ import annotations

import streamlit as st

from ae import compress, evaluate, latent
from ae.ui import later
from ae.ui.catalog import Choice
from ae.ui.inputs import test_digits, train_digits


def _quantiser(model) -> compress.Quantiser:
    return compress.Quantiser.fit(latent.encode(model, train_digits()))


def quantiser(choice: Choice) -> compress.Quantiser | None:
    """The model's code quantised over 5,000 training digits' codes; None until measured."""
    return later.result(("quantiser", *choice.version), _quantiser, choice.model)


def _curves(model) -> dict:
    return compress.curves(model, evaluate.pca_basis(), train_digits(), test_digits()[0][: compress.CURVE_DIGITS])


def curves(choice: Choice) -> dict | None:
    """PSNR against bytes over 500 test digits for the model, PCA and JPEG; None until measured."""
    return later.result(("curves", *choice.version), _curves, choice.model)


@st.cache_data(max_entries=8, show_spinner=False)
def pca_quantiser(k: int) -> compress.Quantiser:
    """PCA's k numbers quantised over the same training digits as the model's code."""
    return compress.Quantiser.fit(latent.encode(evaluate.pca_model(evaluate.pca_basis(), k), train_digits()))


def wait_for(name: str, choice: Choice, message: str) -> None:
    later.waiting((name, *choice.version), message)

