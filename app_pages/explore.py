"""The latent space as a map: test digits placed by their codes, coloured by what they are."""

import numpy as np
import streamlit as st

from ae import latent, live, quality, ui
from ae.ui import links

st.title("Explore the code space")
st.caption(
    "Every dot is a test digit, placed by its code (the model's own 2-d code, or the two directions "
    "along which the codes vary most). Digits of a kind gather together: the model found the "
    "classes without ever being told them. Click a dot to see the digit and its reconstruction."
)

choice = ui.selected_model_or_stop()
COUNTS = [500, 1000, 2000, 5000]
FIELDS = [
    links.Field("count", "explore_count", links.one_of(COUNTS)),
    links.Field("digit", "explore_digit", links.number(0, 9999, whole=True)),
]
links.restore(FIELDS, "explore")


def digit_map(points, labels, how):
    import plotly.graph_objects as go

    fig = go.Figure()
    for k in range(10):
        idx = np.flatnonzero(labels == k)
        fig.add_trace(
            go.Scatter(
                x=points[idx, 0],
                y=points[idx, 1],
                mode="markers",
                name=str(k),
                customdata=idx,
                marker=dict(size=5, color=ui.PALETTE[k], opacity=0.75),
                hovertemplate=f"digit {k}<extra></extra>",
            )
        )
    fig.update_layout(
        height=560,
        margin=dict(l=10, r=10, t=30, b=10),
        template="plotly_dark",
        legend_title="digit",
        title=f"Axes: {how}",
        clickmode="event+select",
        dragmode="pan",
    )
    return fig


digits = ui.test_digits()
if digits is None:
    ui.mnist_missing_note()
else:
    count = st.session_state.setdefault("explore_count", ui.MAP_DIGITS)
    if not links.presenting():
        count = st.select_slider("Test digits on the map", COUNTS, key="explore_count")
    points, labels, how = ui.test_map(choice, count)
    left, right = st.columns([3, 1], gap="large")
    with left:
        event = st.plotly_chart(
            digit_map(points, labels, how), on_select="rerun", selection_mode="points", key="explore_map", config={"displayModeBar": False}
        )
    with right:
        picked = [p for p in event.selection.points if "customdata" in p] if event and event.selection else []
        if picked:  # a click: the digit is kept (and in the link) until the next one
            st.session_state["explore_digit"] = int(np.ravel(picked[0]["customdata"])[0])
        index = st.session_state.get("explore_digit")
        if index is not None:
            digit = digits[0][index]
            _, x_hat = ui.rebuild(choice, digit)
            st.markdown(f"**Test digit #{index}**, a {digits[1][index]}")
            ui.gallery([digit, x_hat], ["original", f"rebuilt · MSE {quality.mse(digit, x_hat):.4f}"], size=140)
        else:
            st.info("Click a dot to see its digit and reconstruction.", icon=":material/touch_app:")
    links.keep(FIELDS, "explore")
    links.copy_button()

if choice.model.latent_dim == 2:
    if digits is not None:
        lo, hi = np.percentile(points, [2, 98], axis=0)
    else:
        lo, hi = np.array([-3.0, -3.0]), np.array([3.0, 3.0])
    st.subheader("Hover the code plane")
    st.caption(
        "Every point of the plane is a code; move over it and the decoder draws the digit for the point under the pointer, "
        "in your browser (where the model cannot run there, click a point and the server draws it)."
    )
    shown = min(len(points), 2000) if digits is not None else 0

    def at_z(z):  # where the page cannot decode, the server does, for the point clicked
        return latent.decode(choice.model, z[None])[0]

    live.hover(
        choice, points[:shown] if shown else np.zeros((0, 2)), labels[:shown] if shown else np.zeros(0), lo, hi, "explore_live", at_z
    )
    st.subheader("The decoder's whole world: a grid across the code plane")
    n = st.slider("Grid size", 8, 24, 15, key="explore_grid")
    sheet = latent.manifold(choice.model, lo, hi, n)
    ui.picture(
        ui.digit_picture(sheet, size=min(56 * n, 840)),
        "decode(x, y) over the middle 96% of the codes",
        alt=f"A {n} by {n} grid of the digits the decoder draws across the code plane",
    )

if choice.model.generative:
    st.subheader("New digits from the VAE")
    st.caption("A variational autoencoder learns codes that look like random normal numbers, so random numbers decode into new digits.")
    seed = st.session_state.setdefault("explore_sample_seed", 0)
    if st.button("Sample new digits", icon=":material/casino:", key="explore_sample"):
        seed = st.session_state["explore_sample_seed"] = seed + 1
    ui.picture(ui.row_picture(latent.sample(choice.model, 16, seed), 72), alt="Sixteen new digits decoded from random codes")
