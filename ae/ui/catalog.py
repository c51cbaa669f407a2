"""The models the app can use: every checkpoint in the folder, served (its ONNX form, ae.served)
and loaded once per file version, and the sidebar's choice."""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from ae import checkpoints, latent, meter, served
from ae.latent import MAP_DIGITS
from ae.ui.inputs import test_digits

MODEL_KEY = "model_name"  # the chosen model, shared by every page
DEFAULT_MODEL = "conv32"


@dataclass(frozen=True)
class LoadedModel:
    """One checkpoint file as the app sees it: its served model and its metadata, or why it could not be loaded."""

    name: str
    path: Path
    model: served.ServedModel | None
    meta: checkpoints.Meta | None
    error: str | None
    mtime_ns: int = 0  # the file's, when it was loaded: with the path, the version of the model
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.model is not None

    @functools.cached_property
    def meter(self) -> meter.Meter | None:
        """Its "is this a digit?" meter, read from the checkpoint's numbers once (not every stroke)."""
        return meter.Meter.of(self.meta) if self.meta is not None else None

    @property
    def version(self) -> tuple[str, int, int]:
        """Changes when the file is replaced (retrained): a key for caches of what the model
        computes, from which `choice_at` finds the loaded model again without listing the folder."""
        return str(self.path), self.mtime_ns, self.size

    def label(self) -> str:
        parts = [self.name, f"{self.model.latent_dim}-d"]
        if self.meta.test_mse is not None:
            parts.append(f"MSE {self.meta.test_mse:.4f}")
        if self.meta.denoising:
            parts.append("denoiser")
        return " · ".join(parts)

    def describe(self) -> str:
        arch = self.meta.architecture
        text = (
            f"**{arch}**, {self.model.latent_dim}-d code, {self.meta.parameters:,} parameters. {self.model.description.get('origin', '')}"
        )
        if self.meta.denoising:
            text += f" Trained to remove {self.meta.noise.replace('_', ' ')} noise."
        return text


@functools.lru_cache(maxsize=256)  # not Streamlit's cache, which any client may empty
def _load(path: str, mtime_ns: int, size: int) -> tuple:
    """Load once per file version: a retrained or replaced file has a new mtime and size."""
    try:
        return served.load(path), checkpoints.meta_of(path), None
    except checkpoints.CheckpointError as e:
        return None, None, str(e)


def choice_at(path: str, mtime_ns: int, size: int) -> LoadedModel:
    """The loaded checkpoint of a `LoadedModel.version` (once per file version, as the folder's listing)."""
    model, meta, error = _load(path, mtime_ns, size)
    return LoadedModel(Path(path).stem, Path(path), model, meta, error, mtime_ns, size)


LISTING_S = 1.0  # a folder's listing is kept this long; a file added, removed or renamed in it shows at once
_listing: dict[str, tuple[float, int | None, tuple]] = {}  # folder -> (listed at, the folder's mtime then, its models)


def all_models() -> list[LoadedModel]:
    """Every checkpoint in the folder: listed again once the folder changed (a newly trained model,
    saved by a rename, shows up at once) or a second has passed (a file rewritten in place). Every
    run asks for it, several times: a listing each time was a quarter of a page's rerun."""
    folder = checkpoints.default_dir()
    try:
        changed = os.stat(folder).st_mtime_ns
    except OSError:
        changed = None
    kept = _listing.get(str(folder))
    if kept is not None and kept[1] == changed and time.monotonic() - kept[0] < LISTING_S:
        return list(kept[2])
    listed_at, out = time.monotonic(), []
    for path in checkpoints.checkpoint_files(folder):
        try:
            stat = path.stat()
        except FileNotFoundError:  # deleted since the listing
            continue
        model, meta, error = _load(str(path), stat.st_mtime_ns, stat.st_size)
        out.append(LoadedModel(path.stem, path, model, meta, error, stat.st_mtime_ns, stat.st_size))
    _listing[str(folder)] = (listed_at, changed, tuple(out))
    return out


def loaded_models() -> list[LoadedModel]:
    """The models that loaded, smallest code first: models of one code size sit together."""
    return sorted((c for c in all_models() if c.ok), key=lambda c: (c.model.latent_dim, c.name))


def sidebar_model_picker(choices: list[LoadedModel], fixed: str | None = None) -> LoadedModel | None:
    """The sidebar's model choice among `choices` (loaded_models()), kept in session state across
    pages; broken files listed with why. `fixed`: the model a class uses, shown and not to be changed."""
    if not choices:
        st.sidebar.warning(
            "No trained models yet. Train one on the **Train** page, or run `python -m ae.train --out checkpoints/mine.safetensors`."
        )
        return None
    names = [c.name for c in choices]
    by_name = {c.name: c for c in choices}
    if fixed in names:  # shown, not a control (a disabled one would be too faint to read)
        st.session_state[MODEL_KEY] = fixed
        st.sidebar.markdown(f"**Model** (your class's): {by_name[fixed].label()}")
    else:
        if st.session_state.get(MODEL_KEY) not in names:
            st.session_state[MODEL_KEY] = DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]
        st.sidebar.selectbox("Model", names, key=MODEL_KEY, format_func=lambda name: by_name[name].label())
    chosen = by_name[st.session_state[MODEL_KEY]]
    st.sidebar.caption(chosen.describe())
    broken = [c for c in all_models() if not c.ok]
    if broken:
        with st.sidebar.expander(f"{len(broken)} checkpoint(s) could not be loaded"):
            for c in broken:
                st.write(f"**{c.name}**: {c.error}")
    return chosen


@functools.lru_cache(maxsize=32)  # shared and read-only; not Streamlit's cache, which any client may empty
def _test_codes(path: str, mtime_ns: int, size: int, count: int) -> np.ndarray:
    return latent.encode(choice_at(path, mtime_ns, size).model, test_digits()[0][:count])


def test_codes(choice: LoadedModel, count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, labels) of the first `count` test digits, once per model version; None without MNIST."""
    digits = test_digits()
    if digits is None:
        return None
    return _test_codes(*choice.version, count), digits[1][:count]


@functools.lru_cache(maxsize=32)
def _digit_map(path: str, mtime_ns: int, size: int) -> latent.DigitMap | None:
    choice = choice_at(path, mtime_ns, size)
    shipped = getattr(choice.model, "digit_map", None)
    if shipped is not None or test_digits() is None:
        return shipped
    return latent.DigitMap.of(*test_codes(choice, MAP_DIGITS))


def digit_map(choice: LoadedModel) -> latent.DigitMap | None:
    """The first MAP_DIGITS test digits on the plane of this model's codes: shipped with its
    checkpoint (ae.shipping.ship), else made here once per model version; None without either."""
    return _digit_map(*choice.version)


def test_map(choice: LoadedModel, count: int) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(points, labels, how) of the first `count` test digits on a plane of their codes."""
    found = digit_map(choice) if count == MAP_DIGITS else None
    if found is not None:
        return found.points, found.labels, found.projection.how
    found = test_codes(choice, count)
    if found is None:
        return None
    points, how = latent.project_2d(found[0])
    return points, found[1], how


def code_editor(choice: LoadedModel) -> dict | None:
    """How the Draw page's code editor moves this model's codes (latent.code_directions), from
    1,000 test digits; for a small code without them, a slider per number over a generous range."""
    found = digit_map(choice)
    if found is not None:
        return found.editor
    if choice.model.latent_dim <= latent.EDIT_NUMBERS:
        return {"kind": "numbers", "lo": [-5.0] * choice.model.latent_dim, "hi": [5.0] * choice.model.latent_dim}
    return None


def rebuild(choice: LoadedModel, digit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code (latent_dim,), reconstruction (28, 28)) of one digit."""
    z, x_hat = latent.reconstruct(choice.model, digit[None])
    return z[0], x_hat[0]
