"""What an autoencoder is, every shipped model at work on the same digits, and the measured table."""

import numpy as np
import streamlit as st

from ae import latent, quality, ui
from ae.ui import context

st.title("Autoencoder lab")
st.markdown(
    "An **autoencoder** is a network trained to copy its input to its output through a narrow "
    "middle, the **code**. The *encoder* squeezes a 28×28 picture (784 numbers) into a code of a "
    "few numbers; the *decoder* rebuilds the picture from the code alone. Because the code is "
    "small, the network must learn what digits have in common and keep only what makes each one "
    "different. Trained with noisy inputs and clean targets, it learns to **remove noise**; and "
    "since similar digits get similar codes, walking between two codes **morphs** one digit into another."
)
st.page_link("app_pages/draw.py", label="Draw a digit and watch it rebuilt", icon=":material/draw:")

choices = list(context.now().models)
if not choices:
    st.warning("No trained models yet: train one on the **Train** page.")
    st.stop()

st.subheader("The same ten test digits, rebuilt by every model")
digits = ui.test_digits()
if digits is None:
    ui.mnist_missing_note()
else:
    st.caption("Beside each model: its code size, and its MSE on these ten digits (the table below has all 10,000).")
    images, labels = digits
    originals = images[[np.flatnonzero(labels == k)[0] for k in range(10)]]  # the first 0, 1, ..., 9
    head, row = st.columns([1, 5], vertical_alignment="center")
    head.markdown("**original**")
    with row:
        ui.picture(ui.row_picture(originals, 64), alt="Ten test digits, one of each class, 0 to 9")
    for c in choices:
        out = latent.reconstruct(c.model, originals)[1]
        head, row = st.columns([1, 5], vertical_alignment="center")
        head.markdown(f"**{c.name}**  \n{c.model.latent_dim}-d · MSE {quality.mse(originals, out):.4f}")
        with row:
            ui.picture(ui.row_picture(out, 64), alt=f"The same ten digits rebuilt by {c.name}")

st.subheader("Measured on all 10,000 test digits")
rows = [
    {
        "model": c.name,
        "architecture": c.meta.architecture,
        "code size": c.model.latent_dim,
        "parameters": c.meta.parameters,  # as trained (the served copy has batch norm folded away)
        "test MSE": c.meta.test_mse,
        "PSNR (dB)": c.meta.test.get("psnr"),
        "PCA MSE, same size": c.meta.pca_mse,
        "denoising": c.meta.noise_label,
        "origin": c.model.description.get("origin", ""),
    }
    for c in choices
]
st.dataframe(
    rows,
    hide_index=True,
    column_config={
        "test MSE": st.column_config.NumberColumn(format="%.5f"),
        "PSNR (dB)": st.column_config.NumberColumn(format="%.2f"),
        "PCA MSE, same size": st.column_config.NumberColumn(
            format="%.5f", help="PCA with as many components as the code has numbers: the linear baseline"
        ),
        "parameters": st.column_config.NumberColumn(format="localized"),
    },
)
st.caption(
    "MSE: mean squared error per pixel, pixels in [0, 1]; lower is better. Where PCA wins, the autoencoder has not earned its non-linearity."
)
