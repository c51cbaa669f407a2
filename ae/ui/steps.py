"""The guided lesson's steps drawn, each its words, one live widget and its question (the words:
ae/ui/lesson.py). The Lesson page draws one step; a student's page in a class holds every step and
shows the teacher's, switched in the browser the moment it is heard (follow.js), with no run of the
server's: a class of hundreds moves at once."""

from __future__ import annotations

import collections
import threading

import numpy as np
import streamlit as st

from ae import compress, latent, live, quality, ui
from ae.rooms import Room
from ae.ui import classroom, context, lesson, measures, server_path

STEPS = lesson.STEPS
_MADE: collections.OrderedDict = collections.OrderedDict()  # what once_for_all made, most recently used last
_MADE_MAX = 64
_MADE_LOCK = threading.Lock()


def once_for_all(key: tuple, make):
    """`make()`, made once for every student: each page of a class holds the same steps' pictures
    (`key` names what they are made of, the models' `version`s included)."""
    with _MADE_LOCK:
        if key in _MADE:
            _MADE.move_to_end(key)
            return _MADE[key]
    made = make()
    with _MADE_LOCK:
        _MADE[key] = made
        while len(_MADE) > _MADE_MAX:
            _MADE.popitem(last=False)
    return made


def models_by_size(choice) -> list:
    return sorted(context.now().models, key=lambda c: (c.model.latent_dim, c.meta.architecture != choice.meta.architecture))


def bottleneck(choice) -> list:
    """Up to three models of growing code size: the smallest code, the chosen, the largest, from the
    chosen one's architecture where it has other sizes (conv2, conv32, conv128), else from all."""
    by_size = models_by_size(choice)
    family = [c for c in by_size if c.meta.architecture == choice.meta.architecture and not c.meta.denoising]
    pool = family if len({c.model.latent_dim for c in family}) > 1 else by_size
    return sorted({c.name: c for c in [pool[0], choice, pool[-1]]}.values(), key=lambda c: c.model.latent_dim)


def denoiser(choice):
    pool = sorted((c for c in models_by_size(choice) if c.meta.denoising), key=lambda c: c.meta.test_mse or 1.0)
    return pool[0] if pool else None


def two_digits():
    digits = ui.test_digits()
    if digits is None:
        return None
    images, labels = digits
    return images[np.flatnonzero(labels == 3)[0]], images[np.flatnonzero(labels == 8)[0]]


@st.fragment
def drawing(key: str, choice, room: Room | None, **kwargs):
    """The lesson's canvas; in a class the teacher leads, its drawings go to the class's map (a
    finished stroke reruns only this)."""
    drawn = live.draw(choice, key=key, room=classroom.for_the_canvas(room), serve=server_path.serve(choice), **kwargs)
    if room is not None:
        classroom.take_part(room, choice, drawn, key)


def step_rebuild(choice, room):
    drawing("lesson_rebuild", choice, room)


def step_bottleneck(choice, room):
    models = bottleneck(choice)
    st.caption(f"From left to right: {', '.join(f'{c.name} ({c.model.latent_dim} numbers)' for c in models)}.")
    drawing("lesson_bottleneck", choice, room, compare=models)


def step_denoise(choice, room):
    cleaner = denoiser(choice)
    found = two_digits()
    if found is None:
        ui.mnist_missing_note("lesson_mnist")
        return
    level = st.slider("Noise", 0.0, 1.0, 0.5, 0.05, key="lesson_noise")
    models = [choice] + ([cleaner] if cleaner and cleaner.name != choice.name else [])
    st.html(once_for_all(("denoise", *(c.version for c in models), level), lambda: cleaned(found[0], level, models)))


def cleaned(digit, level: float, models: list) -> str:
    noisy = ui.noisy(digit, "gaussian", level, 0)
    outputs = [ui.rebuild(c, noisy)[1] for c in models]
    captions = [
        f"{c.name}{' (trained on noise)' if c.meta.denoising else ''} · {quality.psnr(o, digit):.1f} dB" for c, o in zip(models, outputs)
    ]
    return ui.gallery_html([noisy, *outputs], [f"Noisy · {quality.psnr(noisy, digit):.1f} dB", *captions], size=168)


def step_walk(choice, room):
    found = two_digits()
    if found is None:
        ui.mnist_missing_note("lesson_mnist_walk")
        return
    pictures, (za, zb) = once_for_all(
        ("walk", choice.version),
        lambda: (ui.gallery_html(list(found), ["A: a test 3", "B: a test 8"], size=112), latent.encode(choice.model, np.stack(found))),
    )
    st.html(pictures)
    live.morph(choice, za, zb, "linear", 0.5, key="lesson_walk")


def step_digit(choice, room):
    drawing("lesson_digit", choice, room)


def step_bytes(choice, room):
    found = two_digits()
    if found is None:
        ui.mnist_missing_note("lesson_mnist_bytes")
        return
    q = measures.quantiser(choice)
    if q is None:
        measures.wait_for("quantiser", choice, f"Measuring {choice.name}'s codes of 5,000 training digits (a few seconds)…")
        return
    bits = 2
    st.markdown(
        f"**{compress.code_bytes(choice.model.latent_dim, bits)} bytes**: {bits} bits for each of the {choice.model.latent_dim} numbers of the code"
    )
    st.html(once_for_all(("bytes", choice.version, bits), lambda: ui.gallery_html(*measures.squeezed(choice, found[1], q, bits), size=140)))


WIDGETS = [step_rebuild, step_bottleneck, step_denoise, step_walk, step_digit, step_bytes]


def full_page_settings(step: int, choice) -> dict:
    """The settings of the link to a step's full page."""
    return {2: {"compare": "1", "models": ",".join(c.name for c in bottleneck(choice))}, 6: {"bits": "8,4,2"}}.get(step, {})


def show(step: int, choice, room: Room | None = None, note: str | None = None) -> None:
    """A step: its title, words, widget and question; `room`: the class its canvases draw for."""
    words = STEPS[step - 1]
    st.title(f"Lesson, step {step} of {len(STEPS)}: {words.title}")
    if note:
        st.caption(note)
    st.markdown(words.say)
    WIDGETS[step - 1](choice, room)
    st.info(f"**Ask the class:** {words.question}", icon=":material/forum:")


def led(room: Room, choice) -> None:
    """Every step of the lesson, for a student's page in a class: each in its own container, the
    teacher's shown (step 0, the page's own, is drawn by the page in `lesson.SHOWN.format(0)`)."""
    only(room.step if 0 <= room.step <= len(STEPS) else 0)
    note = f"Your teacher leads class {classroom.pretty(room)} through this lesson: your page follows their steps."
    for step in range(1, len(STEPS) + 1):
        with st.container(key=lesson.SHOWN.format(step)):
            show(step, choice, room, note)


def only(step: int) -> None:
    """Hides every step's container but `step`'s; follow.js writes the same rule over it when the
    teacher moves the class, before any rerun."""
    st.html(f"<style>{lesson.hidden_but(step)}</style>")
