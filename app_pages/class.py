"""A class draws together: the teacher opens a room, students join by its link or QR code and draw
on the Draw page, and their drawings land on this map of the model's code space, live."""

import html

import numpy as np
import streamlit as st

from ae import latent, live, rooms, ui
from ae.rooms import RoomError, files
from ae.ui import classroom, lesson, links

PROJECTOR_CSS = """<style>
[data-testid='stMain'] { font-size: 1.25rem; }
[data-testid='stMain'] h1 { font-size: 3rem; }
.join { container-type: inline-size; }
.join-code { font-size: min(4rem, 13cqi); font-weight: 700; letter-spacing: 0.04em; line-height: 1.1; margin: 0.2rem 0 0.8rem; white-space: nowrap; }
.join-url { font-size: 1.4rem; overflow-wrap: anywhere; }
</style>"""


def start() -> None:
    """No room yet: what a room is, and the button that opens one for the chosen model."""
    st.markdown(
        "Open a room and give your class its link (or its QR code): each student draws on their "
        "own device, and every drawing lands here, on the model's map of codes, as the pen lifts. "
        "Thirty 7s fall into one cluster; a letter lands far from every digit; click two drawings "
        "and the model morphs one into the other. Drawings are anonymous unless a student gives a "
        "nickname, and the room closes itself after a day."
    )
    choice = ui.selected_model_or_stop()
    if st.button(f"Open a room for {choice.name}", icon=":material/groups:", key="class_open"):
        try:
            room, secret = classroom.store().create(choice.name, choice.model.latent_dim)
        except RoomError as e:
            st.error(str(e))
            return
        st.session_state[classroom.ROOM_KEY], st.session_state[classroom.TEACHER_KEY] = room.code, secret
        st.rerun()
    st.caption(f"The room uses the model chosen in the sidebar: {choice.label()}.")
    st.subheader("Joining a class?")
    typed = st.text_input("The class's code", key="class_join_code", placeholder="ABC-DEF-GHJ", max_chars=16)
    if typed:
        code = rooms.normal_code(typed)
        if code is None or classroom.reached(lambda: classroom.store().get(code), default=False) is None:
            st.warning("No class has this code: check it with your teacher.", icon=":material/group_off:")
        else:
            st.page_link(
                "app_pages/draw.py", label=f"Draw in class {rooms.pretty_code(code)}", icon=":material/draw:", query_params={"room": code}
            )


def join_panel(room, secret) -> None:
    """How to join, large enough to read from the back of the room: the code, the QR code, the link."""
    url = classroom.join_url(room)
    st.html(f'<div class="join">Join with the code (on the Class page)<div class="join-code">{classroom.pretty(room)}</div></div>')
    ui.picture(classroom.qr_svg(url), None, alt=f"QR code of the join link, {url}", width=360)
    st.html(f'<div class="join-url">{html.escape(url)}</div>')
    if url.startswith(("http://localhost", "http://127.")):
        st.warning(
            "Students cannot open localhost: open this page by the server's address on your network, or set AE_PUBLIC_URL.",
            icon=":material/wifi_off:",
        )
    if not links.presenting():
        st.caption(
            "This room is yours on this device, reload or not. To run it from another device, copy your private link (under the map): it is never shown."
        )
        if st.button("Leave this room (it stays open for the class)", key="class_leave"):
            classroom.leave()
            st.rerun()


@st.fragment
def live_view(code: str, secret: str) -> None:
    """The map: the page follows the room itself (ae/ui/classmap.py), and a click on it reruns this alone."""
    classroom.reached(lambda: map_view(code, secret))


def map_view(code: str, secret: str) -> None:
    store = classroom.store()
    room = store.get(code)
    if room is None:
        st.info("This class has ended (a room lasts a day). Open a new one for your next class.", icon=":material/timer_off:")
        return
    choice = classroom.room_model(room)
    if choice is None:
        st.error(f"This server has no model {room.model!r} any more, which this room was opened for.")
        return
    found = classroom.background(choice)
    if found is None:
        ui.mnist_missing_note("class_download_mnist")
        return
    _, background = found
    chosen = [d for d in store.some(code, live.chosen("class_map")) if not d.hidden]
    chosen.sort(key=lambda d: live.chosen("class_map").index(d.id))
    pair = None
    if len(chosen) == 2:
        pair = {"a": chosen[0].code.tolist(), "b": chosen[1].code.tolist(), "names": [classroom.name(d, room.names_hidden) for d in chosen]}

    def at_t(t):  # where the page cannot decode, the server does, when the slider is let go
        return latent.decode(choice.model, latent.lerp(np.asarray(pair["a"]), np.asarray(pair["b"]), t))[0]

    live.classmap(choice, background, room.code, pair, key="class_map", decode=at_t)
    st.caption(
        f"Axes: {background['how']}, fitted to {ui.MAP_DIGITS:,} test digits (faint, coloured by class); each drawing is framed in the colour of the digit class its code is nearest. Click two drawings, on the map or in a strip, to morph one into the other."
    )
    for letter, d in zip("AB", chosen):  # the names stay in the map, as text: a label would read markdown
        star, hide, remove = st.columns(3)
        star.button(
            f"Unstar {letter}" if d.starred else f"Star {letter}: a pick to discuss",
            key=f"class_star_{d.id}",
            icon=":material/star:",
            on_click=teach,
            args=(store.star, room.code, secret, d.id, not d.starred),
        )
        hide.button(
            f"Hide drawing {letter}",
            key=f"class_hide_{d.id}",
            icon=":material/visibility_off:",
            on_click=teach,
            args=(store.hide, room.code, secret, d.id),
        )
        remove.button(  # their drawings hidden, their next ones refused
            f"Remove the student of {letter}",
            key=f"class_remove_{d.id}",
            icon=":material/person_remove:",
            on_click=teach,
            args=(store.remove, room.code, secret, d.student),
        )
    teach_said()


TEACH_SAID = "class_teach_said"  # session: why the teacher's last click changed nothing


def teach(change, *args) -> None:
    """A teacher's click, in its button's callback: the run after the click shows what it changed."""
    try:
        change(*args)
    except RoomError as e:
        st.session_state[TEACH_SAID] = str(e)


def teach_said() -> None:
    """Why the teacher's last click changed nothing, in the part of the page it reran."""
    said = st.session_state.pop(TEACH_SAID, None)
    if said:
        st.warning(said, icon=":material/error:")


def lead_row(store, room, secret: str) -> None:
    """Pens down, names hidden and the lesson the class follows: each one click, on every student's page within a second."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    # Each change is made in its click's callback: the run after the click draws it, no second run.
    pens = "Pens up: drawing again" if room.pens_down else "Pens down"
    row.button(pens, key="class_pens", icon=":material/pan_tool:", on_click=teach, args=(store.pens, room.code, secret, not room.pens_down))
    names = "Show names" if room.names_hidden else "Hide names"
    row.button(
        names, key="class_names", icon=":material/badge:", on_click=teach, args=(store.names, room.code, secret, not room.names_hidden)
    )
    if not room.step:
        label = "Lead the lesson: every student's page follows your steps"
        row.button(label, key="class_lead", icon=":material/school:", on_click=teach, args=(store.pace, room.code, secret, 1))
        return
    row.page_link("app_pages/lesson.py", label=lesson.heading(room.step), icon=":material/co_present:", help="This step on the Lesson page")
    steps = st.container(horizontal=True, vertical_alignment="center", gap="small")
    first, last = room.step <= 1, room.step >= len(lesson.STEPS)
    steps.button(
        "Back",
        key="class_step_back",
        icon=":material/arrow_back:",
        disabled=first,
        on_click=teach,
        args=(store.pace, room.code, secret, room.step - 1),
    )
    steps.button(
        "Next",
        key="class_step_next",
        icon=":material/arrow_forward:",
        disabled=last,
        on_click=teach,
        args=(store.pace, room.code, secret, room.step + 1),
    )
    steps.button(
        "End the lesson", key="class_lesson_end", icon=":material/stop_circle:", on_click=teach, args=(store.pace, room.code, secret, 0)
    )


def clear(store, code: str, secret: str) -> None:
    teach(store.clear, code, secret)
    st.session_state["class_confirm_clear"] = False


@st.fragment
def controls(code: str, secret: str) -> None:
    """Lock, clear, download: a click reruns this alone (the map reads the room's state itself)."""
    classroom.reached(lambda: control_row(code, secret))


def control_row(code: str, secret: str) -> None:
    store = classroom.store()
    room = store.get(code)
    if room is None:
        return
    lead_row(store, room, secret)
    teach_said()
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    door = "Close the door: no new students" if room.door_open else "Open the door to new students"
    row.button(
        door, key="class_door", icon=":material/door_front:", on_click=teach, args=(store.door, room.code, secret, not room.door_open)
    )
    lock = "Unlock: take drawings again" if room.locked else "Lock: no new drawings"
    row.button(lock, key="class_lock", icon=":material/lock:", on_click=teach, args=(store.lock, room.code, secret, not room.locked))
    if st.session_state.get("class_confirm_clear"):
        row.warning(f"Clear all {store.counts(room.code)[1]} drawings?")
        row.button("Clear", key="class_clear_yes", on_click=clear, args=(store, room.code, secret))
        row.button("Keep", key="class_clear_no", on_click=st.session_state.__setitem__, args=("class_confirm_clear", False))
    else:
        row.button(
            "Clear the room",
            key="class_clear",
            icon=":material/delete_sweep:",
            on_click=st.session_state.__setitem__,
            args=("class_confirm_clear", True),
        )
    name = f"class-{room.code}"
    row.download_button(
        "Download the drawings (.npz)",
        lambda: files.npz_bytes(store.all_drawings(room.code, secret), room.model),
        f"{name}.npz",
        "application/octet-stream",
        key="class_npz",
        icon=":material/download:",
        on_click="ignore",
    )
    row.download_button(
        "Download a sheet (PNG)",
        lambda: files.sheet_png(store.all_drawings(room.code, secret)),
        f"{name}.png",
        "image/png",
        key="class_sheet",
        icon=":material/grid_view:",
        on_click="ignore",
    )


st.html(PROJECTOR_CSS)
st.title("Class")
if not rooms.enabled():
    st.info("The class is turned off on this server (AE_CLASS=off).")
    st.stop()
running = classroom.teacher_room()
if running is None:
    if classroom.forged_teacher_link():
        st.warning("This teacher link is wrong or its class has ended.", icon=":material/key_off:")
        st.query_params.pop("teacher", None)
    if st.session_state.get(classroom.FORGET_KEY):
        live.teacher(st.session_state[classroom.FORGET_KEY], None, key="class_key")  # the key off this device
    start()
else:
    room, secret = running
    st.query_params["room"] = room.code  # the room's code only: its key stays on this device (ae/web.py)
    st.query_params.pop("teacher", None)
    main, side = st.columns([3, 1], gap="large")
    with side:
        join_panel(room, secret)
    with main:
        live_view(room.code, secret)
        controls(room.code, secret)
        live.teacher(room.code, secret, key="class_key", copy=not links.presenting())  # after the map: the key kept on this device
