"""A guided lesson: six short steps through the lab, each a few sentences, one live widget and one
question for the class; the step is in the link, and each step opens its full page."""

import numpy as np
import streamlit as st

from ae import compress, latent, live, quality, ui
from ae.ui import links, measures

choice = ui.selected_model_or_stop()
by_size = sorted(ui.loaded_models(), key=lambda c: (c.model.latent_dim, c.meta.architecture != choice.meta.architecture))


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
    live.draw(choice, key="lesson_rebuild")


def step_bottleneck():
    models = bottleneck()
    st.caption(f"From left to right: {', '.join(f'{c.name} ({c.model.latent_dim} numbers)' for c in models)}.")
    live.draw(choice, key="lesson_bottleneck", compare=models)


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
    live.draw(choice, key="lesson_digit")


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


# (title, what to say, the widget, the question for the class, the full page's link and its settings)
STEPS = [
    (
        "What an autoencoder is",
        "An autoencoder squeezes a picture through a small code and rebuilds it from the code alone. Draw a digit: "
        "the model rebuilds it as you draw, in your browser.",
        step_rebuild,
        "What did the model keep of your drawing, and what did it lose?",
        "draw",
        {},
    ),
    (
        "The bottleneck",
        "The code is the bottleneck: everything the decoder knows. The same drawing goes through codes of different sizes, side by side.",
        step_bottleneck,
        "How many numbers does it take to rebuild a digit you recognise? What does the smallest code draw?",
        "draw",
        {"compare": "1", "models": ",".join(c.name for c in bottleneck())},
    ),
    (
        "Cleaning noise",
        "Trained on noisy digits with clean targets, an autoencoder learns to remove noise: its code keeps the digit and drops the rest.",
        step_denoise,
        "Why can a model trained on noise clean it, when a model trained on clean digits cannot?",
        "denoise",
        {},
    ),
    (
        "Walking between two digits",
        "Similar digits get similar codes. Walk in a straight line from the code of a 3 to the code of an 8 and decode every step.",
        step_walk,
        "Do the steps in between look like digits? What would mixing the pixels look like?",
        "interpolate",
        {},
    ),
    (
        "Is this a digit?",
        "A model rebuilds what looks like what it learned, and it places it near the codes of the digits it has seen. "
        "Draw a letter, a face or a square, and watch the meter under the pictures.",
        step_digit,
        "Which drawings fool the model into calling them digits? Why those?",
        "draw",
        {},
    ),
    (
        "A digit in a few bytes",
        "The code is a tiny file: round each of its numbers to a few bits and a digit fits in a few bytes. Here a test 8 "
        "at 2 bits a number, next to JPEG and PCA given as many bytes.",
        step_bytes,
        "How few bytes does a digit need? Why can JPEG not get that small?",
        "compress",
        {"bits": "8,4,2"},
    ),
]

FIELDS = [links.Field("step", "lesson_step", links.number(1, len(STEPS), whole=True))]
links.restore(FIELDS, "lesson")
step = st.session_state.setdefault("lesson_step", 1)
title, say, widget, question, page, settings = STEPS[step - 1]

st.title(f"Lesson, step {step} of {len(STEPS)}: {title}")
st.markdown(say)
widget()
st.info(f"**Ask the class:** {question}", icon=":material/forum:")
back, ahead, full = st.columns([1, 1, 3], vertical_alignment="center")
if back.button("Back", icon=":material/arrow_back:", disabled=step == 1, key="lesson_back"):
    st.session_state["lesson_step"] = step - 1
    st.rerun()
if ahead.button("Next", icon=":material/arrow_forward:", disabled=step == len(STEPS), key="lesson_next"):
    st.session_state["lesson_step"] = step + 1
    st.rerun()
full.page_link(
    f"app_pages/{page}.py",
    label=f"Open the full {page.capitalize()} page",
    icon=":material/open_in_new:",
    query_params={"model": choice.name, **settings, **({"present": "1"} if links.presenting() else {})},
)
links.keep(FIELDS, "lesson")
links.copy_button()
