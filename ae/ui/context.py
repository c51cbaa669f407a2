"""What one run of the app is about, worked out once, in app.py, before the page runs: the models
that loaded, the one the pages use, and the room a student's page takes part in (with the class's
model). Pages read it (`context.now()`) instead of asking the session, the checkpoint folder and the
store again; a fragment's run reads what its page's last run worked out (a new model or room is a
whole run). Present mode is the link's to say (ae.ui.links.presenting)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ae.rooms import Room
from ae.ui import catalog, classroom

KEY = "ui_context"  # session: the last whole run's Context


@dataclass(frozen=True)
class Context:
    models: tuple[catalog.LoadedModel, ...]  # every model that loaded, smallest code first
    choice: catalog.LoadedModel | None  # the sidebar's: the model every page uses
    room: Room | None = None  # the room this page takes part in as a student
    class_model: catalog.LoadedModel | None = None  # the room's model on this server (None: it lacks it)


def settle(models: list[catalog.LoadedModel], choice: catalog.LoadedModel | None, room: Room | None) -> Context:
    """This run's context (app.py)."""
    class_model = classroom.room_model(room) if room is not None else None
    context = st.session_state[KEY] = Context(tuple(models), choice, room, class_model)
    return context


def now() -> Context:
    """The context app.py worked out for this run (or its page's last run, in a fragment's)."""
    context = st.session_state.get(KEY)
    if context is None:  # a page run without app.py: what the sidebar would pick
        models = catalog.loaded_models()
        context = Context(tuple(models), next((c for c in models if c.name == st.session_state.get(catalog.MODEL_KEY)), None))
    return context


def selected_model() -> catalog.LoadedModel | None:
    """The model picked in the sidebar (None when there is none)."""
    return now().choice


def selected_model_or_stop() -> catalog.LoadedModel:
    """The chosen model; without one, the page says how to get one and stops there."""
    choice = selected_model()
    if choice is None:
        st.warning("There is no trained model to use yet: train one on the **Train** page.")
        st.stop()
    return choice
