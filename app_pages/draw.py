"""Draw a digit and watch the chosen model rebuild it after every stroke."""

import streamlit as st

from ae import evaluate, ui

st.title("Draw a digit")
st.caption(
    "Draw with the mouse (or a finger). Your drawing is scaled to 28×28 pixels the way MNIST was "
    "made, squeezed through the model's code, and rebuilt."
)

choice = ui.selected_model_or_stop()


@st.fragment
def workspace():
    """Canvas and inference together: a stroke reruns only this."""
    left, right = st.columns([1, 2], gap="large")
    with left:
        source = st.segmented_control("Input", ["Draw", "Upload"], default="Draw", key="draw_source")
        if source == "Upload":
            digit = ui.upload_digit("draw_upload")
        else:
            digit = ui.canvas_digit("draw_canvas")
    with right:
        if digit is None:
            st.info(
                "Draw a digit on the black square (or upload a photo): its reconstruction "
                "appears here after every stroke.",
                icon=":material/gesture:",
            )
            return
        z, x_hat = ui.rebuild(choice, digit)
        st.html(  # one element for everything a stroke changes: see ae/ui.py
            ui.gallery_html(
                [digit, x_hat, ui.error_picture(digit, x_hat)],
                ["Model input, 28×28", f"Rebuilt by {choice.name}", "Error: orange extra ink, blue missing"],
            )
            + ui.metrics_html([
                ("MSE", f"{evaluate.mse(digit, x_hat):.5f}", "Mean squared difference per pixel (0 is perfect)"),
                ("PSNR", f"{evaluate.psnr(digit, x_hat):.1f} dB", "Higher is better; 20 dB looks close"),
                ("Code size", f"{len(z)} numbers", "Everything the decoder knows about your digit"),
            ])
            + ui.picture_html(
                ui.code_bars_svg(z), f"The code: {len(z)} numbers, scaled to the largest (±{abs(z).max():.2f})",
                width=600, height=140, crisp=False,
            )
        )  # fmt: skip
    if st.toggle("Compare all models", key="draw_compare"):
        choices = ui.loaded_models()
        outputs = [ui.rebuild(c, digit)[1] for c in choices]
        ui.gallery(
            [digit, *outputs],
            ["input", *(f"{c.name}\nMSE {evaluate.mse(digit, o):.4f}" for c, o in zip(choices, outputs))],
            size=112,
        )


workspace()
