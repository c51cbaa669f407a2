"""Your digit in N bytes: the code as a tiny file, against JPEG and PCA at the same size."""

import numpy as np
import streamlit as st

from ae import compress, ui
from ae.ui import links, measures

st.title("Your digit in a few bytes")
st.caption(
    "An autoencoder is a learned compressor: the code is all the decoder needs. Round each number "
    "of the code to a few bits and the digit fits in a handful of bytes. JPEG, made for photos, "
    "and PCA, the best linear code, get the same budget."
)

choice = ui.selected_model_or_stop()
FIELDS = [*links.digit_fields("compress"), links.Field("bits", "compress_bits", links.some_of(compress.CURVE_BITS), links.write_list)]
links.restore(FIELDS, "compress")


def comparison(digit: np.ndarray, q: compress.Quantiser, budgets) -> None:
    """The digit squeezed to each budget's bits a number of the code, each next to PCA and JPEG at that size."""
    for bits in sorted(budgets, reverse=True):
        size = compress.code_bytes(choice.model.latent_dim, bits)
        st.markdown(f"**{size} bytes**: {bits} bits for each of the {choice.model.latent_dim} numbers of the code")
        ui.gallery(*measures.squeezed(choice, digit, q, bits), size=120)


def chart(found: dict):
    import plotly.graph_objects as go

    fig = go.Figure()
    colours = {"model": "#7c9cff", "PCA": "#ffb86b", "JPEG": "#50fa7b"}
    for label, points in found.items():
        x, y = zip(*points)
        name = choice.name if label == "model" else label
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, line=dict(color=colours[label])))
    fig.update_layout(
        height=380,
        template="plotly_dark",
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_type="log",
        xaxis_title="bytes per digit (log scale)",
        yaxis_title="mean PSNR over 500 test digits (dB)",
        legend=dict(orientation="h", y=1.1),
    )
    return fig


if ui.test_digits() is None:
    ui.mnist_missing_note("compress_download")
else:
    q = measures.quantiser(choice)
    digit = ui.digit_source("compress", "Source")
    st.session_state.setdefault("compress_bits", list(compress.BITS))
    budgets = st.pills("Budgets: bits for each number of the code", compress.CURVE_BITS, selection_mode="multi", key="compress_bits")
    if q is None:
        measures.wait_for(
            "quantiser", choice, f"Measuring {choice.name}'s codes of 5,000 training digits, to know each number's range (a few seconds)…"
        )
    elif digit is not None:
        comparison(digit, q, budgets)
    st.subheader("Quality against size, over 500 test digits")
    found = measures.curves(choice)
    if found is None:
        measures.wait_for("curves", choice, "Compressing 500 test digits three ways: the curves appear here in a few seconds…")
    else:
        st.plotly_chart(chart(found), key="compress_chart", config={"displayModeBar": False})
    st.caption(
        "The code's curve stops where the model's own reconstruction does: more bits cannot beat the "
        "decoder. Below that, a few bytes of code buy what PCA needs several times more bytes for, "
        "and what JPEG, whose headers alone weigh about 200 bytes, cannot reach at that size at all."
    )
    links.keep(FIELDS, "compress")
    links.copy_button()
