"""Your digit in N bytes: the code as a tiny file, against JPEG and PCA at the same size."""

import numpy as np
import streamlit as st

from ae import compress, evaluate, latent, ui
from ae.ui import measures

st.title("Your digit in a few bytes")
st.caption(
    "An autoencoder is a learned compressor: the code is all the decoder needs. Round each number "
    "of the code to a few bits and the digit fits in a handful of bytes. JPEG, made for photos, "
    "and PCA, the best linear code, get the same budget."
)

choice = ui.selected_model_or_stop()


def comparison(digit: np.ndarray, q: compress.Quantiser) -> None:
    """The digit squeezed to 8, 4 and 2 bits a number of the code, each next to PCA and JPEG at that size."""
    z = latent.encode(choice.model, digit[None])
    basis = evaluate.pca_basis()
    for bits in compress.BITS:
        size = compress.code_bytes(choice.model.latent_dim, bits)
        ours = latent.decode(choice.model, q.round_trip(z, bits))[0]
        pca = evaluate.pca_model(basis, size)  # as many numbers as bytes, at 8 bits each
        pca_out = latent.decode(pca, measures.pca_quantiser(size).round_trip(latent.encode(pca, digit[None]), 8))[0]
        jpeg_size, jpeg_out, quality = compress.jpeg_within(digit, size)
        jpeg_note = f"{jpeg_size} bytes, quality {quality}" if jpeg_size <= size else f"{jpeg_size} bytes: it cannot go smaller"
        st.markdown(f"**{size} bytes**: {bits} bits for each of the {choice.model.latent_dim} numbers of the code")
        ui.gallery(
            [digit, ours, pca_out, jpeg_out],
            ["Original (784 bytes)", f"{choice.name}: {evaluate.psnr(ours, digit):.1f} dB", f"PCA, {size} numbers: {evaluate.psnr(pca_out, digit):.1f} dB",
             f"JPEG, {jpeg_note}: {evaluate.psnr(jpeg_out, digit):.1f} dB"],
            size=120,
        )  # fmt: skip


def chart(found: dict):
    import plotly.graph_objects as go

    fig = go.Figure()
    colours = {"model": "#7c9cff", "PCA": "#ffb86b", "JPEG": "#50fa7b"}
    for label, points in found.items():
        x, y = zip(*points)
        name = choice.name if label == "model" else label
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, line=dict(color=colours[label])))
    fig.update_layout(
        height=380, template="plotly_dark", margin=dict(l=10, r=10, t=10, b=10), xaxis_type="log",
        xaxis_title="bytes per digit (log scale)", yaxis_title="mean PSNR over 500 test digits (dB)", legend=dict(orientation="h", y=1.1),
    )  # fmt: skip
    return fig


if ui.test_digits() is None:
    ui.mnist_missing_note("compress_download")
else:
    q = measures.quantiser(choice)
    digit = ui.digit_source("compress", "Source")
    if q is None:
        measures.wait_for("quantiser", choice, f"Measuring {choice.name}'s codes of 5,000 training digits, to know each number's range (a few seconds)…")
    elif digit is not None:
        comparison(digit, q)
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
