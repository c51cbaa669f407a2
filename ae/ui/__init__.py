"""Shared Streamlit pieces: the model catalogue and sidebar picker, digit inputs, pictures.

With `ae.live`, the only part of `ae` that imports Streamlit. Pages call these and do nothing
else with models or files.
"""

from ae.live import PALETTE
from ae.noise import noisy
from ae.ui.catalog import (
    DEFAULT_MODEL,
    MAP_DIGITS,
    MODEL_KEY,
    LoadedModel,
    all_models,
    code_editor,
    loaded_models,
    rebuild,
    sidebar_model_picker,
    test_map,
)
from ae.ui.context import selected_model, selected_model_or_stop
from ae.ui.inputs import (
    canvas_digit,
    digit_source,
    mnist_missing_note,
    pick_digit,
    test_digits,
    train_digits,
    upload_digit,
)
from ae.ui.pictures import (
    digit_picture,
    gallery,
    gallery_html,
    gif_bytes,
    picture,
    picture_html,
    png_bytes,
    row_picture,
)

__all__ = [
    "DEFAULT_MODEL",
    "MAP_DIGITS",
    "MODEL_KEY",
    "PALETTE",
    "LoadedModel",
    "all_models",
    "canvas_digit",
    "code_editor",
    "test_map",
    "train_digits",
    "digit_picture",
    "digit_source",
    "gallery",
    "gallery_html",
    "gif_bytes",
    "loaded_models",
    "mnist_missing_note",
    "noisy",
    "pick_digit",
    "picture",
    "picture_html",
    "png_bytes",
    "rebuild",
    "row_picture",
    "selected_model",
    "selected_model_or_stop",
    "sidebar_model_picker",
    "test_digits",
    "upload_digit",
]
