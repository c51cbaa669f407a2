"""The autoencoder lab: page config, navigation over app_pages/, the shared sidebar.

The pages live in app_pages/, not pages/: with a pages/ folder, Streamlit runs a page file on its
own (no sidebar, no picker) when a fresh server's first visitor opens that page's URL directly.
"""

import streamlit as st

st.set_page_config(page_title="Autoencoder lab", page_icon=":material/blur_on:", layout="wide")

from ae import ui  # noqa: E402  (after set_page_config, which must come first)

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/draw.py", title="Draw", icon=":material/draw:"),
    st.Page("app_pages/denoise.py", title="Denoise", icon=":material/auto_fix_high:"),
    st.Page("app_pages/interpolate.py", title="Interpolate", icon=":material/linear_scale:"),
    st.Page("app_pages/explore.py", title="Explore", icon=":material/scatter_plot:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
]
page = st.navigation(pages)
ui.model_picker()
st.sidebar.caption(
    "An autoencoder squeezes a picture through a small code and rebuilds it. "
    "Pick a model here; every page uses it."
)
page.run()
