"""Slide between two digits through the latent space, and see why it beats a pixel cross-fade."""

import numpy as np
import streamlit as st

from ae import latent, live, ui
from ae.ui import links

st.title("Interpolate")
st.caption(
    "Encode two digits, walk in a straight line (or an arc) from one code to the other, and decode "
    "every step. A good code space morphs one digit into the other through shapes that look like "
    "digits; mixing the pixels just overlays two pictures."
)

choice = ui.selected_model_or_stop()
FIELDS = [
    *links.digit_fields("interp_a", "a_"),
    *links.digit_fields("interp_b", "b_"),
    links.Field("path", "interp_method", links.one_of(latent.METHODS)),
    links.Field("t", "interp_live_t", links.number(0.0, 1.0), lambda t: f"{round(t, 2):g}"),
]
links.restore(FIELDS, "interpolate")


@st.fragment
def workspace():
    """The two digits, the path and the strips: a change reruns only this, and the link follows it."""
    panel()
    links.keep(FIELDS, "interpolate")


def panel():
    col_a, col_mid, col_b = st.columns([1, 1.3, 1], gap="large")
    with col_a:
        a = ui.digit_source("interp_a", "Digit A", canvas_size=224, show=True)
    with col_b:
        b = ui.digit_source("interp_b", "Digit B", canvas_size=224, show=True)
    with col_mid:
        method = st.radio(
            "Path",
            list(latent.METHODS),
            horizontal=True,
            key="interp_method",
            help="Spherical keeps the code's length, which often stays among real digits",
        )
        if a is None or b is None:
            st.info("Choose or draw both digits.", icon=":material/gesture:")
            return
        za, zb = latent.encode(choice.model, np.stack([a, b]))

        def at_t(t):  # where the page cannot decode, the server does, when the slider is let go
            return latent.decode(choice.model, latent.METHODS[method](za, zb, t))[0]

        slid = live.morph(choice, za, zb, method, st.session_state.get("interp_live_t", 0.5), key="interp_live", decode=at_t)
        st.session_state["interp_live_t"] = slid.t
    steps = st.slider("Frames", 3, 15, 9, key="interp_steps")
    codes = latent.path(za, zb, steps, method)
    frames = latent.decode(choice.model, codes)
    fades = [(1 - s) * a + s * b for s in np.linspace(0, 1, steps)]
    st.markdown(f"**Through the code space** ({method}, {choice.name})")
    ui.picture(ui.row_picture(frames, 96), alt=f"{steps} digits decoded along the {method} path from A to B")
    st.markdown("**Pixel cross-fade** (no model): the two pictures simply overlaid")
    ui.picture(ui.row_picture(fades, 96), alt=f"{steps} pixel mixes of A and B, from A to B")
    if links.presenting():
        return
    d1, d2 = st.columns(2)
    d1.download_button(
        "Download the strip (PNG)", ui.png_bytes(ui.row_picture(frames, 112)), "interpolation.png", "image/png", icon=":material/download:"
    )
    d2.download_button("Download the animation (GIF)", ui.gif_bytes(frames), "interpolation.gif", "image/gif", icon=":material/animation:")


workspace()
links.copy_button()
