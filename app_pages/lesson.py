"""A guided lesson: six short steps through the lab, each a few sentences, one live widget and one
question for the class (ae/ui/steps.py); the step is in the link, and each step opens its full page.
A student in a class the teacher leads sees the steps on their Draw page (classroom.follow)."""

import streamlit as st

from ae import ui
from ae.ui import classroom, links, steps

choice = ui.selected_model_or_stop()
STEPS = steps.STEPS
FIELDS = [links.Field("step", "lesson_step", links.number(1, len(STEPS), whole=True))]
links.restore(FIELDS, "lesson")
leading = classroom.teacher_room()  # (room, secret) where this page's teacher runs a class
leading = leading if leading is not None and leading[0].step else None
if leading is not None:
    st.session_state["lesson_step"] = min(leading[0].step, len(STEPS))
step = st.session_state.setdefault("lesson_step", 1)


def go(to: int) -> None:
    """Another step: for this page, and where this teacher leads a class, for every student's page.
    A button's callback, so the run that follows the click draws the step (no second run)."""
    st.session_state["lesson_step"] = to
    if leading is not None:
        classroom.reached(lambda: classroom.store().pace(leading[0].code, leading[1], to))


note = f"Class {classroom.pretty(leading[0])} follows you: Back and Next move every student's page." if leading else None
steps.show(step, choice, note=note)
back, ahead, full = st.columns([1, 1, 3], vertical_alignment="center")
back.button("Back", icon=":material/arrow_back:", disabled=step == 1, key="lesson_back", on_click=go, args=(step - 1,))
ahead.button("Next", icon=":material/arrow_forward:", disabled=step == len(STEPS), key="lesson_next", on_click=go, args=(step + 1,))
page = STEPS[step - 1].page
full.page_link(
    f"app_pages/{page}.py",
    label=f"Open the full {page.capitalize()} page",
    icon=":material/open_in_new:",
    query_params={"model": choice.name, **steps.full_page_settings(step, choice), **({"present": "1"} if links.presenting() else {})},
)
links.keep(FIELDS, "lesson")
links.copy_button()
