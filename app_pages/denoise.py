"""Add noise with a slider and watch a denoising autoencoder clean it, next to a plain one."""

import streamlit as st

from ae import quality, ui
from ae.ui import context, links

KINDS = {"gaussian": "Gaussian", "salt_pepper": "Salt and pepper", "mask": "Masking"}
EXPLAIN = {
    "gaussian": "Every pixel gets random noise; the level is its standard deviation.",
    "salt_pepper": "This fraction of the pixels turns black or white.",
    "mask": "Square patches covering this fraction of the picture are blacked out.",
}

st.title("Denoise")
st.caption(
    "A denoising autoencoder is trained on noisy inputs with clean targets, so its code keeps the "
    "digit and drops the noise. Turn the noise up and compare it with a plain autoencoder."
)

choice = ui.selected_model_or_stop()
choices = list(context.now().models)
FIELDS = [
    *links.digit_fields("denoise"),
    links.Field("noise", "denoise_kind", links.one_of(KINDS)),
    links.Field("level", "denoise_level", links.number(0.0, 1.0)),
    links.Field("seed", "denoise_seed", links.number(0, 10_000, whole=True)),
    links.Field("against", "denoise_compare", links.one_of([c.name for c in choices if c.name != choice.name])),
]
links.restore(FIELDS, "denoise")


def contrast_default():
    """A plain model when the chosen one denoises (same code size if possible), else the best denoiser."""
    if choice.meta.denoising:
        plain = [c for c in choices if not c.meta.denoising]
        same = [c for c in plain if c.model.latent_dim == choice.model.latent_dim]
        pool = same or plain
    else:
        pool = [c for c in choices if c.meta.denoising]
    pool = sorted(pool, key=lambda c: c.meta.test_mse or 1.0)
    return pool[0].name if pool else None


@st.fragment
def workspace():
    """The controls and the pictures: a change reruns only this, and the link follows it."""
    panel()
    links.keep(FIELDS, "denoise")


def panel():
    controls, results = st.columns([1, 2], gap="large")
    with controls:
        digit = ui.digit_source("denoise", "Source")
        kind = st.radio("Noise", list(KINDS), format_func=KINDS.get, horizontal=True, key="denoise_kind")
        level = st.slider("Noise level", 0.0, 1.0, 0.4, 0.05, key="denoise_level", help=EXPLAIN[kind])
        seed = st.session_state.setdefault("denoise_seed", 0)
        if not links.presenting():  # a lesson's projector needs no seed
            seed = st.number_input("Seed", 0, 10_000, key="denoise_seed", help="The same seed gives the same noise")
        others = [c.name for c in choices if c.name != choice.name]
        default = contrast_default()
        compare = st.selectbox(
            "Compare with",
            others,
            index=others.index(default) if default in others else 0,
            key="denoise_compare",
            disabled=not others,
        )
    with results:
        if digit is None:
            st.info("Pick a test digit or draw one: its noisy copy and the cleaned versions appear here.", icon=":material/gesture:")
            return
        if not choice.meta.denoising:
            st.caption(
                f"Tip: **{choice.name}** was trained on clean digits. Pick a denoiser in the sidebar to see what training on noise buys."
            )
        noisy = ui.noisy(digit, kind, level, int(seed))
        images, captions = [digit, noisy], ["Clean", f"Noisy · {quality.psnr(noisy, digit):.1f} dB"]
        for c in [choice, *(x for x in choices if x.name == compare)]:
            out = ui.rebuild(c, noisy)[1]
            images.append(out)
            tag = "denoiser" if c.meta.denoising else "plain"
            captions.append(f"{c.name} ({tag}) · {quality.psnr(out, digit):.1f} dB")
        ui.gallery(images, captions, size=150)
        st.caption(f"{EXPLAIN[kind]} PSNR is measured against the clean digit: higher is closer.")


workspace()
links.copy_button()
