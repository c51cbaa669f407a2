"""A guided lesson: six short steps through the lab, each a few sentences, one live widget and one
question for the class; the step is in the link, and each step opens its full page."""

import numpy as np
import streamlit as st

from ae import compress, latent, live, quality, ui
from ae.ui import classroom, context, lesson, links, measures

choice = ui.selected_model_or_stop()
by_size = sorted(context.now().models, key=lambda c: (c.model.latent_dim, c.meta.architecture != choice.meta.architecture))


def bottleneck() -> list:
    """Up to three models of growing code size: the smallest code, the chosen, the largest, from the
    chosen one's architecture where it has other sizes (conv2, conv32, conv128), else from all."""
    family = [c for c in by_size if c.meta.architecture == choice.meta.architecture and not c.meta.denoising]
    pool = family if len({c.model.latent_dim for c in family}) > 1 else by_size
    picked = sorted({c.name: c for c in [pool[0], choice, pool[-1]]}.values(), key=lambda c: c.model.latent_dim)
    return picked


def denoiser():
    pool = sorted((c for c in by_size if c.meta.denoising), key=lambda c: c.meta.test_mse or 1.0)
    return pool[0] if pool else None


def two_digits():
    digits = ui.test_digits()
    if digits is None:
        return None
    images, labels = digits
    return images[np.flatnonzero(labels == 3)[0]], images[np.flatnonzero(labels == 8)[0]]


def step_rebuild():
    drawing("lesson_rebuild")


def step_bottleneck():
    models = bottleneck()
    st.caption(f"From left to right: {', '.join(f'{c.name} ({c.model.latent_dim} numbers)' for c in models)}.")
    drawing("lesson_bottleneck", compare=models)


def step_denoise():
    cleaner = denoiser()
    found = two_digits()
    if found is None:
        ui.mnist_missing_note("lesson_mnist")
        return
    level = st.slider("Noise", 0.0, 1.0, 0.5, 0.05, key="lesson_noise")
    digit = found[0]
    noisy = ui.noisy(digit, "gaussian", level, 0)
    models = [choice] + ([cleaner] if cleaner and cleaner.name != choice.name else [])
    outputs = [ui.rebuild(c, noisy)[1] for c in models]
    ui.gallery(
        [noisy, *outputs],
        [
            f"Noisy · {quality.psnr(noisy, digit):.1f} dB",
            *(
                f"{c.name}{' (trained on noise)' if c.meta.denoising else ''} · {quality.psnr(o, digit):.1f} dB"
                for c, o in zip(models, outputs)
            ),
        ],
        size=168,
    )


def step_walk():
    found = two_digits()
    if found is None:
        ui.mnist_missing_note("lesson_mnist_walk")
        return
    za, zb = latent.encode(choice.model, np.stack(found))
    ui.gallery(list(found), ["A: a test 3", "B: a test 8"], size=112)
    live.morph(choice, za, zb, "linear", 0.5, key="lesson_walk")


def step_digit():
    drawing("lesson_digit")


def step_bytes():
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
    ui.gallery(*measures.squeezed(choice, found[1], q, bits), size=140)


# each step's widget, and the settings of its full page's link (the words: ae/ui/lesson.py)
WIDGETS = [
    (step_rebuild, {}),
    (step_bottleneck, {"compare": "1", "models": ",".join(c.name for c in bottleneck())}),
    (step_denoise, {}),
    (step_walk, {}),
    (step_digit, {}),
    (step_bytes, {"bits": "8,4,2"}),
]
STEPS = lesson.STEPS


@st.fragment
def drawing(key: str, **kwargs):
    """The lesson's canvas; in a class the teacher leads, its drawings go to the class's map (a
    finished stroke reruns only this)."""
    drawn = live.draw(choice, key=key, room=classroom.for_the_canvas(led), **kwargs)
    if led is not None:
        classroom.take_part(led, choice, drawn, key)


FIELDS = [links.Field("step", "lesson_step", links.number(1, len(STEPS), whole=True))]
links.restore(FIELDS, "lesson")
room = context.now().room
led = room if room is not None and 1 <= room.step <= len(STEPS) else None  # a student: the teacher picks the step
leading = classroom.teacher_room()  # (room, secret) where this page's teacher runs a class
leading = leading if leading is not None and leading[0].step else None
if led is not None or leading is not None:
    st.session_state["lesson_step"] = min((led or leading[0]).step, len(STEPS))
step = st.session_state.setdefault("lesson_step", 1)


def go(to: int) -> None:
    """Another step: for this page, and where this teacher leads a class, for every student's page.
    A button's callback, so the run that follows the click draws the step (no second run)."""
    st.session_state["lesson_step"] = to
    if leading is not None:
        classroom.reached(lambda: classroom.store().pace(leading[0].code, leading[1], to))


def show(step: int) -> None:
    """A step: its title, words, widget and question."""
    words, (widget, _) = STEPS[step - 1], WIDGETS[step - 1]
    st.title(f"Lesson, step {step} of {len(STEPS)}: {words.title}")
    if led is not None:
        st.caption(f"Your teacher leads class {classroom.pretty(led)} through this lesson: your page follows their steps.")
    elif leading is not None:
        st.caption(f"Class {classroom.pretty(leading[0])} follows you: Back and Next move every student's page.")
    st.markdown(words.say)
    widget()
    st.info(f"**Ask the class:** {words.question}", icon=":material/forum:")


@st.fragment
def led_step() -> None:
    """A student's page, at the step the teacher picks: the room heard in here, so that the teacher's
    Next reruns this alone, not the whole page, in every student's browser at once."""
    room = classroom.joined_room()
    if room is None or not 1 <= room.step <= len(STEPS):  # the lesson (or the class) ended: back to drawing
        st.session_state.pop(classroom.LED_KEY, None)
        st.switch_page("app_pages/draw.py")
    classroom.hear(room)
    st.session_state["lesson_step"] = room.step
    show(room.step)


if led is not None:
    led_step()
    st.stop()  # a student's page: the teacher moves it
show(step)
back, ahead, full = st.columns([1, 1, 3], vertical_alignment="center")
back.button("Back", icon=":material/arrow_back:", disabled=step == 1, key="lesson_back", on_click=go, args=(step - 1,))
ahead.button("Next", icon=":material/arrow_forward:", disabled=step == len(STEPS), key="lesson_next", on_click=go, args=(step + 1,))
page, settings = STEPS[step - 1].page, WIDGETS[step - 1][1]
full.page_link(
    f"app_pages/{page}.py",
    label=f"Open the full {page.capitalize()} page",
    icon=":material/open_in_new:",
    query_params={"model": choice.name, **settings, **({"present": "1"} if links.presenting() else {})},
)
links.keep(FIELDS, "lesson")
links.copy_button()
