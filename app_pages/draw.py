"""Draw a digit and watch the chosen model rebuild it as the pen moves. A student's page in a class
also holds the lesson's steps, and shows the one the teacher is at (ae/ui/steps.py)."""

import streamlit as st

from ae import features, live, ui
from ae.ui import classroom, context, lesson, links, server_path, steps

room = context.now().room
if room is not None:
    classroom.nickname_field()  # above every step: a student who joins while a lesson runs has it too
own = st.container(key=lesson.SHOWN.format(0)) if room is not None else st.container()  # step 0: no lesson
own.title("Draw a digit")
own.caption(
    "Draw with the mouse, a pen or a finger. Your drawing is scaled to 28×28 pixels the way MNIST "
    "was made, squeezed through the model's code, and rebuilt, as you draw."
)

choice = ui.selected_model_or_stop()
if room is not None:
    choice = context.now().class_model
    if choice is None:
        st.error(f"This class uses the model {room.model!r}, which this server does not have: tell your teacher.")
        st.stop()
elif classroom.wrong_code():
    st.warning(classroom.wrong_code(), icon=":material/group_off:")
by_name = {c.name: c for c in context.now().models}
FIELDS = [
    links.Field("compare", "draw_compare", links.flag, links.write_flag),
    links.Field("models", "draw_models", links.some_of(by_name, most=4), links.write_list),
]
links.restore(FIELDS, "draw")


def default_comparison() -> list[str]:
    """The drawn model and up to three others, each a code of another size: the bottleneck's lesson."""
    picked, sizes = [choice.name], {choice.model.latent_dim}
    for c in sorted(by_name.values(), key=lambda c: (c.meta.architecture != choice.meta.architecture, c.model.latent_dim)):
        if c.model.latent_dim not in sizes and len(picked) < 4:
            picked.append(c.name)
            sizes.add(c.model.latent_dim)
    return picked


def compared() -> list:
    """The models compare mode rebuilds the drawing with (none when it is off)."""
    if not st.session_state.get("draw_compare"):
        return []
    names = st.session_state.setdefault("draw_models", default_comparison())
    return [by_name[n] for n in names if n in by_name][:4]


def encoder_view(digit) -> None:
    """The feature maps of the encoder's layers for this digit, layer by layer."""
    maps = features.feature_maps(choice.model, digit)
    if not maps:
        st.caption(f"{choice.name} has no convolutional layers: its encoder sees the 784 pixels at once.")
        return
    st.caption(
        "Each tile is one channel of a layer's output for your digit, light where it responds most: early layers find strokes and edges, later ones coarser parts."
    )
    for fmap in maps:
        c, h, w = fmap.shape
        shown = f"the first {len(fmap.tiles)}" if len(fmap.tiles) < c else f"all {c}"
        ui.picture(ui.digit_picture(features.mosaic(fmap), None), f"{fmap.layer}: {c} maps of {h}×{w} ({shown} shown)")
    st.caption(f"Then the code: {choice.model.latent_dim} numbers.")


def hint(text: str) -> None:
    st.info(text, icon=":material/gesture:")


@st.fragment
def workspace():
    """The inputs and what the server shows of them: a finished stroke reruns only this."""
    source = "Draw" if links.presenting() else st.segmented_control("Input", ["Draw", "Upload"], default="Draw", key="draw_source")
    if source == "Upload":
        left, right = st.columns([1, 2], gap="large")
        with left:
            digit = ui.upload_digit("draw_upload")
        with right:
            if digit is None:
                hint("Upload a photo of one handwritten digit: its reconstruction appears here.")
            else:
                live.draw_served(choice, server_path.computed(choice, digit, compared()), key="draw_upload_view", compare=compared())
    else:
        class_line = st.container(horizontal=True, vertical_alignment="center", gap="medium") if room is not None else None
        quiet = not st.session_state.get("draw_features")  # a class's stroke: posted by the page, no rerun unless this page shows it
        there = classroom.for_the_canvas(room, quiet=quiet)
        drawn = live.draw(
            choice,
            key="draw_live",
            editor=ui.code_editor(choice),
            compare=compared(),
            room=there,
            serve=server_path.serve(choice, compared),
        )
        digit = drawn.digit
        if class_line is not None:
            with class_line:
                classroom.take_part(room, choice, drawn, "draw_live")
        if drawn.failed and digit is None:  # the widget says why, in one line: the server computes from here on
            hint("Draw a digit on the black square: its reconstruction appears here after every stroke.")
    if (digit is not None or room is not None) and st.toggle("What the encoder sees", key="draw_features"):
        if digit is None:
            hint("Draw a stroke: the encoder's view of it appears here.")
        else:
            encoder_view(digit)
    if st.toggle("Compare models", key="draw_compare", help="Up to four models rebuild the same drawing, side by side, as you draw"):
        st.multiselect("Models to compare (up to four)", list(by_name), max_selections=4, key="draw_models")
    links.keep(FIELDS, "draw")


with own:
    workspace()
    links.copy_button()
if room is not None:
    steps.led(room, choice)
