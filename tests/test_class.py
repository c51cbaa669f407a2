"""The class in the app: a teacher's room, students' strokes landing in it, and everything a public
link may throw at it (AppTest); an app server killed while a class draws (the protocol client)."""

import io
import json
import os
import re
import signal
import time

import numpy as np
import pytest

from ae import latent, rooms
from ae.rooms import files
from ae.ui import classmap, classroom
from tests.apptools import SEVEN, ZERO, app, images, live_value, no_exception, served_frame


@pytest.fixture(autouse=True)
def lab(monkeypatch, tiny_checkpoints, mnist_dir, tmp_path):
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tiny_checkpoints))
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    monkeypatch.setenv("AE_ROOMS", str(tmp_path / "rooms.sqlite3"))
    monkeypatch.delenv("AE_CLASS", raising=False)


@pytest.fixture
def store(tmp_path):
    return rooms.open_store(str(tmp_path / "rooms.sqlite3"))


def _texts(at) -> str:
    """Everything the page says, markdown, captions, alerts and inline HTML, as one string."""
    parts = [e.value for kind in ("markdown", "caption", "warning", "info", "error", "success") for e in getattr(at, kind)]
    parts += [e.value for e in at.main if type(e).__name__ == "Html"]
    return "\n".join(str(p) for p in parts)


def _student(room_code: str):
    at = app()
    at.query_params["room"] = room_code
    at.switch_page("app_pages/draw.py")
    at.run()
    return at


def _stroke(at, points, runtime="ok", code=None):
    """A stroke ends on the Draw page: the live widget's value as the page sends it."""
    value = live_value(points, runtime=runtime)
    at.strokes_sent = value["strokes"] = getattr(at, "strokes_sent", 0) + 1
    value["drawing"] = getattr(at, "cleared", 0)
    if code is not None:
        value.update(code=list(code), shares=[0.25, 0.5])
    at.session_state["draw_live"] = value
    at.run()
    no_exception(at)


def _clear(at):
    """The canvas cleared: the next stroke begins a new drawing."""
    at.strokes_sent, at.cleared = at.strokes_sent + 1, getattr(at, "cleared", 0) + 1
    at.session_state["draw_live"] = {"png": None, "strokes": at.strokes_sent, "drawing": at.cleared, "runtime": "ok", "reason": ""}
    at.run()
    no_exception(at)


def test_the_teacher_opens_a_room_and_sees_its_code_link_and_qr_code():
    at = app("class")
    at.button(key="class_open").click().run()
    no_exception(at)
    said = _texts(at)
    code = at.query_params["room"]
    assert rooms.normal_code(code) == code and rooms.pretty_code(code) in said
    assert f"/draw?room={code}" in said and "QR code of the join link" in said
    secret = at.session_state[classroom.TEACHER_KEY]
    assert "teacher" not in at.query_params and secret not in said and not any(secret in c.value for c in at.code)  # off the page
    shown = classmap.update(code, "")  # what the map's page is sent (the route: tests/test_served.py)
    assert (shown["students"], shown["count"], shown["state"], shown["drawings"]) == (0, 0, "open", [])


def test_a_forged_teacher_secret_runs_nothing(store):
    room, secret = store.create("tiny_dense", 16)
    at = app()
    at.query_params.update(room=room.code, teacher=secret[:-1] + "x")
    at.switch_page("app_pages/class.py")
    at.run()
    no_exception(at)
    assert "This teacher link is wrong or its class has ended." in _texts(at)
    assert "students ·" not in _texts(at) and at.button(key="class_open")


def test_a_wrong_code_on_draw_gets_one_sentence_and_drawing_still_works(store):
    at = _student("NOTAROOM9")
    assert "This class has ended, or its code is wrong" in _texts(at)
    _stroke(at, SEVEN, runtime="failed")  # the server draws as ever
    assert "You are in class" not in _texts(at)


def test_a_students_stroke_lands_in_the_room_with_the_pages_code_or_the_servers(store):
    room, secret = store.create("tiny_dense", 16)
    at = _student(room.code)
    assert "**Model** (your class's): tiny_dense" in at.sidebar.markdown[0].value and not at.sidebar.selectbox
    assert f"You are in class **{rooms.pretty_code(room.code)}**" in _texts(at)
    at.text_input(key="class_nickname").input("<b>Ada</b>[x](e.vil)").run()
    _stroke(at, SEVEN, code=np.arange(16) / 10)  # the page ran the model: its code and shares
    assert "On the class map" in _texts(at)
    (drawing,) = store.current(room.code)
    assert drawing.nickname == "<b>Ada</b>[x](e.vil)" and drawing.code.tolist() == pytest.approx(np.arange(16) / 10)
    assert (drawing.error_share, drawing.code_share) == (0.25, 0.5) and drawing.pixels.max() == 255
    _stroke(at, ZERO, runtime="failed")  # the page could not: the server encodes the drawing itself
    (drawing,) = store.current(room.code)
    from ae import checkpoints

    model, _ = checkpoints.load(os.path.join(os.environ["AE_CHECKPOINT_DIR"], "tiny_dense.safetensors"))
    assert np.abs(drawing.code - latent.encode(model, drawing.pixels / 255.0)[0]).max() < 1e-2
    assert store.counts(room.code) == (1, 1)  # a drawing grown by its strokes is one drawing
    _clear(at)
    _stroke(at, SEVEN, code=np.ones(16))  # the canvas cleared: a drawing begun, the last one finished
    finished, begun = store.all_drawings(room.code, secret)
    assert store.counts(room.code) == (1, 2) and finished.id == drawing.id and finished.pixels.tolist() == drawing.pixels.tolist()
    assert begun.code.tolist() == [1.0] * 16 and [d.id for d in store.current(room.code)] == [begun.id]


def test_a_drawing_the_store_refuses_gets_its_sentence_and_is_not_stored(store, monkeypatch):
    room, secret = store.create("tiny_dense", 16)
    at = _student(room.code)
    store.lock(room.code, secret)
    _stroke(at, SEVEN, code=np.zeros(16))
    assert "The teacher has locked this class" in _texts(at) and store.counts(room.code) == (0, 0)
    store.lock(room.code, secret, False)
    _stroke(at, SEVEN, code=np.zeros(16) + np.nan)  # a page that sends nonsense: the server computes the code itself
    (kept,) = store.current(room.code)
    assert store.counts(room.code) == (1, 1) and np.isfinite(kept.code).all() and kept.code.any()


def test_a_flood_of_strokes_from_one_page_is_cut_at_five_a_second(store):
    room, _ = store.create("tiny_dense", 16)
    at = _student(room.code)
    for _ in range(7):
        _stroke(at, SEVEN, code=np.zeros(16))
    assert "At most 5 drawings a second" in _texts(at)
    assert store.counts(room.code) == (1, 1)


def test_a_full_or_ended_room_says_so(store, monkeypatch):
    monkeypatch.setattr(rooms.core, "MAX_STUDENTS", 1)
    room, _ = store.create("tiny_dense", 16)
    store.add(room.code, "someone", "", np.zeros((28, 28), np.uint8), np.zeros(16))
    at = _student(room.code)
    _stroke(at, SEVEN, code=np.zeros(16))
    assert "This class is full (1 students)" in _texts(at)
    ended, _ = store.create("tiny_dense", 16, hours=1e-9)
    assert "has ended, or its code is wrong" in _texts(_student(ended.code))


def test_with_the_class_off_there_is_no_class_page_and_no_room(store, monkeypatch):
    monkeypatch.setenv("AE_CLASS", "off")
    room, _ = store.create("tiny_dense", 16)
    at = _student(room.code)
    _stroke(at, SEVEN, code=np.zeros(16))
    assert "class" not in _texts(at).lower() and store.counts(room.code) == (0, 0)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/class.py")  # not in the menu at all


def test_the_teacher_sees_the_counts_hides_a_chosen_drawing_locks_and_clears(store):
    room, secret = store.create("tiny_dense", 16)
    kept = [
        store.add(room.code, f"s{i}", f"n{i}", np.full((28, 28), 40 * i, np.uint8), np.full(16, float(i)), (0.1 * i, 0.2)) for i in range(3)
    ]
    at = app()
    at.query_params.update(room=room.code, teacher=secret)
    at.switch_page("app_pages/class.py")
    at.run()
    no_exception(at)
    shown = classmap.update(room.code, "")
    assert (shown["students"], shown["count"], shown["state"], len(shown["drawings"])) == (3, 3, "open", 3)
    at.session_state["class_map"] = {"selected": [kept[1].id], "runtime": "ok"}  # the teacher clicked one
    at.run()
    at.button(key=f"class_hide_{kept[1].id}").click().run()
    assert [d.id for d in store.current(room.code)] == [kept[0].id, kept[2].id]
    at.button(key="class_lock").click().run()
    assert store.get(room.code).locked and classmap.update(room.code, "")["state"] == "locked: no new drawings"
    at.button(key="class_clear").click().run()
    assert store.counts(room.code) == (3, 3)  # not before it is confirmed
    at.button(key="class_clear_yes").click().run()
    assert store.counts(room.code) == (0, 0)


def test_with_names_hidden_the_morph_of_two_chosen_drawings_names_their_seats(store):
    room, secret = store.create("tiny_dense", 16)
    kept = [store.add(room.code, f"s{i}", f"Ada{i}", np.full((28, 28), 9, np.uint8), np.full(16, float(i))) for i in range(2)]
    store.names(room.code, secret, True)
    at = app()
    at.query_params.update(room=room.code, teacher=secret)
    at.switch_page("app_pages/class.py")
    at.run()
    at.session_state["class_map"] = {"selected": [d.id for d in kept], "runtime": "ok"}  # two drawings clicked
    at.run()
    (board,) = [e for e in at.main if type(e).__name__ == "UnknownElement" and '"classmap"' in e.proto.json_args]
    assert json.loads(board.proto.json_args)["pair"]["names"] == ["student 1", "student 2"] and "Ada" not in board.proto.json_args


def test_where_the_teachers_page_cannot_decode_the_server_decodes_the_morph_of_the_chosen_pair(store):
    room, secret = store.create("tiny_dense", 16)
    kept = [store.add(room.code, f"s{i}", "", np.full((28, 28), 9, np.uint8), np.full(16, 3.0 * i)) for i in range(2)]
    at = app()
    at.query_params.update(room=room.code, teacher=secret)
    at.switch_page("app_pages/class.py")
    at.run()
    picked = {"selected": [d.id for d in kept], "runtime": "failed", "reason": "no WebAssembly"}
    at.session_state["class_map"] = {**picked, "selected": kept[0].id}  # one clicked: nothing to morph
    at.run()
    assert served_frame(at, "class_map") is None
    frames = []
    for t in (0.0, 1.0):  # the teacher let the slider go at each end
        at.session_state["class_map"] = {**picked, "t": t}
        at.run()
        no_exception(at)
        frames.append(served_frame(at, "class_map"))
    assert [t for t, _ in frames] == [0.0, 1.0] and not np.allclose(frames[0][1], frames[1][1])
    assert not [c for c, _ in images(at) if "at t =" in c]  # the widget paints it: no picture of the server's own


def test_the_teacher_closes_the_door_and_removes_a_chosen_drawings_student(store):
    room, secret = store.create("tiny_dense", 16)
    kept = [store.add(room.code, f"s{i}", "", np.full((28, 28), 40 * i, np.uint8), np.full(16, float(i))) for i in range(2)]
    at = app()
    at.query_params.update(room=room.code, teacher=secret)
    at.switch_page("app_pages/class.py")
    at.run()
    at.button(key="class_door").click().run()
    assert not store.get(room.code).door_open and classmap.update(room.code, "")["state"] == "door closed: no new students"
    late = _student(room.code)
    _stroke(late, SEVEN)
    assert "closed this class to new students" in _texts(late) and store.counts(room.code) == (2, 2)
    at.session_state["class_map"] = {"selected": [kept[0].id], "runtime": "ok"}  # the teacher clicked s0's drawing
    at.run()
    at.button(key=f"class_remove_{kept[0].id}").click().run()
    assert [d.student for d in store.current(room.code)] == ["s1"]
    with pytest.raises(rooms.RoomError, match="taken you out"):
        store.add(room.code, "s0", "", np.zeros((28, 28), np.uint8), np.zeros(16))
    at.button(key="class_door").click().run()
    _stroke(late, ZERO)
    assert store.counts(room.code) == (3, 3)  # the door open again: the late student is in


def _holders(node, key: str, ids: tuple = ()):
    """The ids of the blocks (a keyed container's ends with its key) that hold the widget `key`."""
    for child in getattr(node, "children", {}).values():
        if getattr(child, "key", None) == key:
            yield from ids
        block = getattr(child, "proto", None)
        yield from _holders(child, key, ids + ((getattr(block, "id", "") or "",) if hasattr(child, "children") else ()))


def _step_shown(at) -> int | None:
    """The step a page that holds the lesson's steps shows (ae/ui/lesson.py's rule)."""
    found = [re.search(r":not\(\.st-key-ae_step_(\d+)\)", str(e.value)) for e in at.get("html")]
    found = [int(m.group(1)) for m in found if m]
    assert len(found) <= 1
    return found[0] if found else None


def test_the_teacher_leads_from_the_class_page_or_the_lesson_page_and_a_student_follows(store):
    room, secret = store.create("tiny_dense", 16)
    at = app()
    at.query_params.update(room=room.code, teacher=secret)
    at.switch_page("app_pages/class.py")
    at.run()
    at.button(key="class_lead").click().run()
    assert store.get(room.code).step == 1 and classmap.update(room.code, "")["heading"].startswith("Step 1 of 6")
    student = _student(room.code)  # the Draw page, holding every step of the lesson, shows the teacher's
    no_exception(student)
    titles = [t.value for t in student.title]
    assert titles[0] == "Draw a digit" and [t.split(":")[0] for t in titles[1:]] == [f"Lesson, step {n} of 6" for n in range(1, 7)]
    assert _step_shown(student) == 1 and not [b for b in student.button if b.key in ("lesson_next", "lesson_back")]
    canvases = [e.proto.id for e in student.get("component_instance") if '"widget": "draw"' in e.proto.json_args]
    assert [k for k in ("draw_live", "lesson_rebuild", "lesson_bottleneck", "lesson_digit") if any(i.endswith(k) for i in canvases)]
    assert len(canvases) == 4 and [e.key for e in student.text_input].count(classroom.NICKNAME_KEY) == 1  # one nickname field a page
    assert not [i for i in _holders(student.main, classroom.NICKNAME_KEY) if "ae_step_" in i]  # in no step: shown whichever is
    at.switch_page("app_pages/lesson.py")  # the teacher's own Lesson page moves the class
    at.run()
    assert "Lesson, step 1 of" in at.title[0].value and "follows you" in _texts(at)
    at.button(key="lesson_next").click().run()
    assert store.get(room.code).step == 2 and "Lesson, step 2 of" in at.title[0].value
    student.run()  # a rerun of the student's page (a stroke's, a reload's) shows the step the room is at
    assert _step_shown(student) == 2
    explorer = _student(room.code)
    explorer.switch_page("app_pages/explore.py").run()
    assert explorer.title[0].value == "Draw a digit" and _step_shown(explorer) == 2  # while a lesson runs, a student's page is Draw
    at.switch_page("app_pages/class.py")
    at.run()
    at.button(key="class_lesson_end").click().run()
    assert store.get(room.code).step == 0
    student.run()
    no_exception(student)
    assert _step_shown(student) == 0  # the lesson over: back to drawing for the class
    assert _step_shown(at) is None  # a page that does not hold the steps says nothing of them


def test_the_download_holds_every_drawing_with_its_code_time_nickname_and_step(store):
    room, secret = store.create("tiny_dense", 4)
    for i in range(3):
        store.pace(room.code, secret, i)
        store.add(room.code, f"s{i}", ["Ada", "", "<b>x</b>"][i], np.full((28, 28), i, np.uint8), np.arange(4) + i, (0.5, None))
    store.hide(room.code, secret, store.current(room.code)[0].id)
    saved = np.load(io.BytesIO(files.npz_bytes(store.all_drawings(room.code, secret), room.model)))
    assert saved["pixels"].shape == (3, 28, 28) and saved["pixels"].dtype == np.uint8 and saved["pixels"][2].max() == 2
    assert saved["codes"].tolist() == [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]]
    assert list(saved["nicknames"]) == ["Ada", "", "<b>x</b>"] and saved["hidden"].tolist() == [True, False, False]
    assert np.isnan(saved["code_shares"]).all() and (saved["times"] > 1e9).all() and str(saved["model"]) == "tiny_dense"
    assert saved["steps"].tolist() == [0, 1, 2] and saved["seats"].tolist() == [1, 2, 3] and not saved["starred"].any()
    from PIL import Image

    sheet = Image.open(io.BytesIO(files.sheet_png(store.all_drawings(room.code, secret))))
    assert sheet.size == (3 * files.CELL, files.CELL + 12)


def test_the_teachers_map_is_sent_what_changed_after_the_tag_it_holds(store):
    """A refresh of the map costs what changed: nothing new, nothing sent; a stroke, that drawing;
    a hidden drawing, its id alone; a new step or names hidden, the room afresh."""
    room, secret = store.create("tiny_dense", 16)
    kept = [store.add(room.code, f"s{i}", f"n{i}", np.full((28, 28), 5 * i, np.uint8), np.full(16, float(i))) for i in range(50)]
    first = classmap.update(room.code, "")
    assert first["afresh"] and [d["id"] for d in first["drawings"]] == [d.id for d in kept] and first["count"] == 50
    assert classmap.update(room.code, first["tag"])["drawings"] == []
    grown = store.add(room.code, "s3", "n3 grown", np.full((28, 28), 9, np.uint8), np.ones(16), fresh=False)
    store.hide(room.code, secret, kept[7].id)
    then = classmap.update(room.code, first["tag"])
    assert not then["afresh"] and [(d["id"], d.get("name"), d.get("hidden", False)) for d in then["drawings"]] == [
        (grown.id, "n3 grown", False),
        (kept[7].id, None, True),  # a hidden drawing's picture is not sent again
    ]
    assert then["drawings"][0]["seat"] == 4 and set(then["drawings"][1]) == {"id", "hidden", "seat", "step"}
    store.names(room.code, secret, True)
    hidden = classmap.update(room.code, then["tag"])
    assert hidden["afresh"] and len(hidden["drawings"]) == 49 and hidden["drawings"][0]["name"] == "student 1"
    store.pace(room.code, secret, 1)
    step = classmap.update(room.code, hidden["tag"])
    assert step["afresh"] and step["heading"].startswith("Step 1 of") and len(step["drawings"]) == 49  # every step's, for the toggle
    store.clear(room.code, secret)
    assert (
        classmap.update(room.code, step["tag"]) == {**classmap.update(room.code, ""), "afresh": True}
        and not classmap.update(room.code, "")["drawings"]
    )


def test_a_stroke_the_page_posts_is_stored_for_the_student_its_pass_names_and_nobody_else(store):
    import base64

    room, secret = store.create("tiny_dense", 16)
    digit = base64.b64encode(np.full(784, 200, np.uint8).tobytes()).decode()
    stroke = {"token": "student-one", "nickname": "Ada", "input": digit, "code": [0.5] * 16, "shares": [0.2, 0.3], "fresh": True}
    stroke["pass"] = classroom.stroke_pass(room.code, "student-one")
    with pytest.raises(PermissionError):
        classroom.take_stroke(room.code, {**stroke, "token": "student-two"})  # a pass is one student's
    for broken in ({**stroke, "input": "AAAA"}, {**stroke, "code": ["x"] * 16}, {**stroke, "shares": None}, [stroke]):
        with pytest.raises(ValueError):
            classroom.take_stroke(room.code, broken)
    first = classroom.take_stroke(room.code, stroke)
    time.sleep(0.25)
    grown = classroom.take_stroke(room.code, {**stroke, "fresh": False, "code": [0.7] * 16})
    (kept,) = store.all_drawings(room.code, secret)
    assert grown.id == first.id and kept.student == "student-one" and kept.pixels.max() == 200 and kept.code[0] == pytest.approx(0.7)
    store.lock(room.code, secret)
    with pytest.raises(rooms.RoomError, match="locked"):
        classroom.take_stroke(room.code, stroke)


def test_the_map_route_answers_the_teachers_key_alone_and_holds_the_question_until_the_room_changes(tiny_checkpoints, mnist_dir, tmp_path):
    import threading
    import urllib.error
    import urllib.request

    from tests.harness import appserver

    location = str(tmp_path / "class.sqlite3")
    store = rooms.open_store(location)
    room, secret = store.create("tiny_dense", 16)
    store.add(room.code, "s0", "Ada", np.full((28, 28), 9, np.uint8), np.ones(16))
    address, key = f"/ae/room/{room.code}/map", f"{rooms.TEACHER_COOKIE}{room.code}={secret}"
    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": location}
    with appserver.serve(env) as url:
        for cookie in (None, f"{rooms.TEACHER_COOKIE}{room.code}={secret[:-1]}x"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                appserver.get_json(url + address, cookie=cookie)
            assert refused.value.code == 403  # no key, or a wrong one: nothing of the class
        first = appserver.get_json(url + address, cookie=key)
        assert [d["name"] for d in first["drawings"]] == ["Ada"] and first["students"] == 1
        threading.Timer(1.0, store.add, (room.code, "s1", "Bo", np.zeros((28, 28), np.uint8), np.zeros(16))).start()
        started = time.monotonic()
        then = appserver.get_json(f"{url}{address}?since={first['tag']}", cookie=key)
        assert 0.9 < time.monotonic() - started < 5 and [d["name"] for d in then["drawings"]] == ["Bo"]  # held, then answered
        with pytest.raises(urllib.error.HTTPError) as gone:
            appserver.get_json(f"{url}/ae/room/ACDEFHJKM/map", cookie=f"{rooms.TEACHER_COOKIE}ACDEFHJKM={secret}")
        assert gone.value.code == 403
        forged = urllib.request.Request(
            f"{url}/ae/room/{room.code}/draw", data=json.dumps({"token": "student-x", "pass": "0" * 32}).encode()
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged)
        assert refused.value.code == 403 and store.counts(room.code) == (2, 2)  # a pass this server did not sign stores nothing


@pytest.mark.slow
def test_an_app_server_killed_while_a_class_draws_loses_nothing_and_the_teacher_picks_up(tiny_checkpoints, mnist_dir, tmp_path):
    """Students draw through Streamlit's own protocol; the server is killed (SIGKILL) and started
    again on the same store; the teacher's link shows every student's drawing."""
    from tests.harness import appserver
    from tests.harness.streamlit_client import StreamlitSession, drawings

    location = str(tmp_path / "class.sqlite3")
    room, secret = rooms.open_store(location).create("tiny_dense", 16)
    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": location}
    pool = drawings(6)
    with appserver.serve(env) as url:
        for n, (png, digit) in enumerate(pool):
            student = StreamlitSession(url)
            run = student.rerun(page="draw", query=f"room={room.code}")
            live, nickname = run.component("ae.live.live"), run.by_label("Nickname (optional)")
            value = {"png": png, "input": digit, "strokes": 1, "code": [float(n)] * 16, "shares": [0.5, 0.5], "runtime": "ok", "reason": ""}
            assert student.rerun(widgets={live.id: json.dumps(value), nickname.id: f"student {n}"}, fragment=live.fragment).status
            student.close()
        os.kill(appserver.server_pid(url), signal.SIGKILL)
    with appserver.serve(env) as url:
        teacher = StreamlitSession(url)
        run = teacher.rerun(page="class", query=f"room={room.code}&teacher={secret}")
        assert run.live("classmap") and not run.exceptions
        shown = appserver.get_json(f"{url}/ae/room/{room.code}/map", cookie=f"{rooms.TEACHER_COOKIE}{room.code}={secret}")["drawings"]
        assert sorted(d["name"] for d in shown) == [f"student {n}" for n in range(6)]


@pytest.mark.slow
def test_a_led_students_page_holds_every_step_and_its_follow_widget_shows_each(tiny_checkpoints, mnist_dir, tmp_path):
    """A class of hundreds moves at once when no page reruns for it: a student's Draw page holds the
    lesson's steps, each canvas ready, and its Follow widget the rule that shows each step, so the
    teacher's Next is shown by every browser on its own (the browser test watches it happen)."""
    from tests.harness import appserver
    from tests.harness.streamlit_client import StreamlitSession

    location = str(tmp_path / "class.sqlite3")
    store = rooms.open_store(location)
    room, secret = store.create("tiny_dense", 16)
    store.pace(room.code, secret, 1)
    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": location}
    with appserver.serve(env) as url:
        student = StreamlitSession(url)
        run = student.rerun(page="draw", query=f"room={room.code}&me=student-one")
        assert not run.exceptions
        canvases = [
            w.id.rsplit("-", 1)[-1] for w in run.widgets if w.kind == "component_instance" and '"widget": "draw"' in w.element.json_args
        ]
        assert sorted(canvases) == ["draw_live", "lesson_bottleneck", "lesson_digit", "lesson_rebuild"]
        rules = json.loads(run.live("follow").element.json_args)["rules"]
        assert [r.split(":not(")[1].split(")")[0] for r in rules] == [f".st-key-ae_step_{n}" for n in range(7)]
        assert not run.live("follow").fragment  # the page never reruns for a step
        explorer = StreamlitSession(url)
        run = explorer.rerun(page="explore", query=f"room={room.code}&me=student-two")
        assert run.live("draw") is not None  # while a lesson runs, a student's page is Draw
        store.pace(room.code, secret, 0)
        run = explorer.rerun(page="explore", query=f"room={room.code}")
        assert (
            run.live("draw") is None and json.loads(run.live("follow").element.json_args)["rules"] is None
        )  # a page without the steps reruns
        student.close()
        explorer.close()


@pytest.mark.browser
def test_a_teacher_and_three_students_one_on_a_phone_draw_together_in_chromium(tiny_checkpoints, mnist_dir, chromium, tmp_path):
    """Three students' strokes land on the teacher's map (the phone's by finger); a lock stops them;
    the download holds their drawings."""
    from playwright.sync_api import expect

    from tests.harness import appserver

    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": str(tmp_path / "rooms.sqlite3")}
    with appserver.serve(env) as url, appserver.browser() as b:
        teacher = appserver.open_page(b, url, "class", width=1600, height=1200)
        teacher.get_by_role("button", name="Open a room for").click()
        teacher.wait_for_selector(".join-code", timeout=30_000)
        code = teacher.locator(".join-code").inner_text().replace("-", "")
        for width in (1024, 1440, 1600):  # a projector's widths: the code fits its column, whole
            teacher.set_viewport_size({"width": width, "height": 1200})
            assert teacher.locator(".join-code").evaluate("e => e.scrollWidth <= e.clientWidth"), width
        board = appserver.live_frame(teacher)

        def on_map() -> list[dict]:
            return board.evaluate("window.aeLive.drawings")

        students = []
        for n, shape in enumerate([appserver.SEVEN, appserver.ZERO, appserver.ONE]):
            phone = n == 2
            context = b.new_context(
                **(
                    {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
                    if phone
                    else {"viewport": {"width": 1280, "height": 900}}
                )
            )
            page = context.new_page()
            page.goto(f"{url}/draw?room={code}")
            page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
            appserver.wait_idle(page)
            page.get_by_placeholder("Nickname (optional)").fill(f"<i>s{n}</i>")
            page.get_by_placeholder("Nickname (optional)").press("Enter")
            appserver.wait_idle(page)
            frame = appserver.live_frame(page)
            canvas = frame.locator("canvas.ink")
            if phone:  # a finger, through the phone's touch screen
                box, touch = canvas.bounding_box(), context.new_cdp_session(page)
                points = [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in shape[0]]
                touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
                for x, y in points[1:]:
                    touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
                    page.wait_for_timeout(30)
                touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            else:
                appserver.draw(page, shape, canvas=canvas)
            frame.get_by_text("On the class map").wait_for(timeout=20_000)
            students.append((page, frame))
        board.wait_for_function("() => window.aeLive.drawings.length === 3", timeout=10_000)
        assert sorted(d["name"] for d in on_map()) == ["<i>s0</i>", "<i>s1</i>", "<i>s2</i>"]
        assert board.locator(".strip figcaption", has_text="<i>s0</i>").count() >= 1  # a nickname is text, not markup
        assert board.locator(".strip i").count() == 0

        page, _ = students[0]  # who a student is stays off the address bar, and a reload is the same student
        from urllib.parse import parse_qs, urlsplit

        assert set(parse_qs(urlsplit(page.url).query)) <= {"room", "compare"}
        page.reload()
        page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
        appserver.wait_idle(page)
        expect(page.get_by_placeholder("Nickname (optional)")).to_have_value("<i>s0</i>", timeout=20_000)  # and keeps its nickname
        frame = appserver.live_frame(page)
        appserver.draw(page, appserver.ONE, canvas=frame.locator("canvas.ink"))
        frame.get_by_text("On the class map").wait_for(timeout=20_000)
        students[0] = (page, frame)
        assert rooms.open_store(env["AE_ROOMS"]).counts(code) == (3, 4) and "me" not in parse_qs(urlsplit(page.url).query)

        teacher.get_by_role("button", name="Lock: no new drawings").click()
        appserver.wait_idle(teacher)
        page, frame = students[0]
        appserver.draw(page, [[(0.2, 0.8), (0.8, 0.8)]], canvas=frame.locator("canvas.ink"))
        frame.get_by_text("The teacher has locked this class").wait_for(timeout=20_000)  # the store's sentence, by the canvas
        teacher.wait_for_timeout(1500)
        assert len(on_map()) == 3 and "locked" in board.locator(".counts").inner_text()

        with teacher.expect_download() as download:
            teacher.get_by_role("button", name="Download the drawings (.npz)").click()
        saved = np.load(download.value.path())
        assert saved["pixels"].shape == (4, 28, 28) and sorted(saved["nicknames"]) == [
            "<i>s0</i>",
            "<i>s0</i>",
            "<i>s1</i>",
            "<i>s2</i>",
        ]  # a reloaded page keeps the nickname
        assert saved["codes"].shape[0] == 4 and np.isfinite(saved["codes"]).all()
        assert teacher.locator("[data-testid='stException']").count() == 0


@pytest.mark.parametrize("page", ["draw", "class", "denoise"])
def test_an_unreachable_store_is_one_sentence_and_every_page_still_works(monkeypatch, page):
    from tests.harness import appserver

    monkeypatch.setenv("AE_ROOMS", f"redis://127.0.0.1:{appserver.free_port()}/0")  # nothing listens there
    at = app()
    at.query_params.update({"room": "ACD-EFH-JKM", **({"teacher": "x" * 22} if page == "class" else {})})
    if page != "home":
        at.switch_page(f"app_pages/{page}.py")
    at.run()
    no_exception(at)
    said = [w.value for w in at.warning]
    assert said.count(rooms.UNREACHABLE) == 1 and "wrong" not in " ".join(said)
    if page == "draw":
        _stroke(at, SEVEN, runtime="failed")  # drawing still works, on its own
        assert rooms.UNREACHABLE in _texts(at)
    if page == "class":
        at.text_input(key="class_join_code").input("ACD-EFH-JKM").run()
        no_exception(at)
        at.button(key="class_open").click().run()
        no_exception(at)
        assert any(rooms.UNREACHABLE in e.value for e in at.error)


def test_one_session_is_one_student_whatever_tokens_its_links_carry(store):
    room, secret = store.create("tiny_dense", 16)
    at = _student(room.code)
    for n in range(5):  # each stroke from a link with a new `me`
        at.query_params["me"] = f"rotating-token-{n:03d}"
        _stroke(at, SEVEN if n % 2 else ZERO)
    assert store.counts(room.code) == (1, 1)


def test_joins_from_one_address_are_limited_per_minute(monkeypatch):
    from ae.ui import classroom

    monkeypatch.setattr(classroom, "_JOINS", {})
    monkeypatch.setenv(classroom.JOINS_PER_MINUTE, "3")
    for t in (0, 1, 2):
        classroom.joined("10.0.0.7", now=1000.0 + t)
    with pytest.raises(rooms.RoomError, match="More than 3 pages joined"):
        classroom.joined("10.0.0.7", now=1003.0)
    classroom.joined("10.0.0.8", now=1003.0)  # another network is not held up
    classroom.joined("10.0.0.7", now=1061.0)  # a minute on
    monkeypatch.setenv(classroom.JOINS_PER_MINUTE, "lots")
    with pytest.raises(rooms.RoomError, match="not a whole number"):
        classroom.joined("10.0.0.9")


@pytest.mark.browser
def test_the_teachers_key_stays_off_the_projected_page_and_on_the_teachers_devices(tiny_checkpoints, mnist_dir, chromium, tmp_path):
    """Opening a room leaves only its code in the address bar and on the page; the key is a cookie
    the page cannot read, which a reload keeps, the private link sets on another device, and
    leaving forgets."""
    from tests.harness import appserver

    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": str(tmp_path / "rooms.sqlite3")}

    def kept(context) -> dict:
        return {c["name"]: c for c in context.cookies() if c["name"].startswith(rooms.TEACHER_COOKIE)}

    def runs_the_room(page) -> bool:
        """The room's controls on the page within a few seconds of its first run (a page that
        remembers the key reruns once: idle between the two runs is not the end)."""
        page.wait_for_selector("[data-testid='stMain'] h1")
        appserver.wait_idle(page)
        try:
            page.get_by_role("button", name="Lock: no new drawings").wait_for(timeout=8_000)
            return True
        except Exception:  # Playwright's TimeoutError
            return False

    with appserver.serve(env) as url, appserver.browser() as b:
        context = b.new_context(viewport={"width": 1440, "height": 1000})
        teacher = context.new_page()
        teacher.goto(f"{url}/class?present=1")
        teacher.get_by_role("button", name="Open a room for").click()
        teacher.wait_for_selector(".join-code", timeout=30_000)
        code = teacher.locator(".join-code").inner_text().replace("-", "")
        deadline = time.time() + 20
        while not kept(context) and time.time() < deadline:
            teacher.wait_for_timeout(100)
        (cookie,) = kept(context).values()
        secret = cookie["value"]
        assert cookie["name"] == f"{rooms.TEACHER_COOKIE}{code}" and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert rooms.open_store(env["AE_ROOMS"]).is_teacher(code, secret)
        appserver.wait_idle(teacher)
        assert secret not in teacher.url and "teacher=" not in teacher.url and f"room={code}" in teacher.url
        shown = teacher.locator("body").inner_text() + "".join(f.evaluate("document.body.innerText") for f in teacher.frames[1:])
        assert secret not in shown and secret not in teacher.content()  # nor in the QR code's alt text, nor any link
        teacher.reload()
        assert runs_the_room(teacher) and secret not in teacher.url

        phone = b.new_context()  # the private link, opened on another device
        other = phone.new_page()
        other.goto(f"{url}/ae/teach?room={code}&key={secret}")
        assert other.url.endswith(f"/class?room={code}") and runs_the_room(other)
        other.goto(f"{url}/ae/teach?room={code}&key={secret[:-2]}xx")
        assert "wrong" in other.locator("body").inner_text()

        teacher.goto(f"{url}/class?room={code}")  # the projector, without ?present=1: the Leave button
        assert runs_the_room(teacher)
        teacher.get_by_role("button", name="Leave this room").click()
        deadline = time.time() + 20
        while kept(context) and time.time() < deadline:
            teacher.wait_for_timeout(100)
        assert not kept(context)
        teacher.goto(f"{url}/class?room={code}")
        assert not runs_the_room(teacher)


def test_the_teacher_leads_the_class_pens_down_names_picks_and_lesson_steps_in_chromium(tiny_checkpoints, mnist_dir, chromium, tmp_path):
    """Each of the teacher's controls is one click on the Class page and reaches the students'
    pages by itself: pens down stops their canvases, a pick is said on its student's page, hidden
    names become seat numbers on the map, and a lesson moves every page to the teacher's step."""
    from tests.harness import appserver

    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": str(tmp_path / "rooms.sqlite3")}
    store = rooms.open_store(env["AE_ROOMS"])
    reach = []

    def heading(page) -> str:
        """The title the page shows (a student's page holds the lesson's steps, one shown)."""
        return page.evaluate(
            "() => [...document.querySelectorAll('h1')].filter((h) => h.offsetParent !== null).map((h) => h.innerText).join(' | ')"
        )

    def reaches(check, page, what, timeout=10.0):
        """How long after the teacher's click `check()` holds on a student's page."""
        start = time.monotonic()
        while not check():
            assert time.monotonic() - start < timeout, f"{what}: not on the student's page after {timeout} s"
            page.wait_for_timeout(20)
        reach.append((what, time.monotonic() - start))

    with appserver.serve(env) as url, appserver.browser() as b:
        teacher = appserver.open_page(b, url, "class", width=1600, height=1300)
        teacher.get_by_role("button", name="Open a room for").click()
        teacher.wait_for_selector(".join-code", timeout=30_000)
        code = teacher.locator(".join-code").inner_text().replace("-", "")
        board = appserver.live_frame(teacher)
        students = []
        for n, shape in enumerate([appserver.SEVEN, appserver.ONE]):
            page = appserver.open_page(b, url, f"draw?room={code}", width=1280, height=900)
            page.get_by_placeholder("Nickname (optional)").fill(f"Ada{n}")
            page.get_by_placeholder("Nickname (optional)").press("Enter")
            appserver.wait_idle(page)
            frame = appserver.live_frame(page)
            appserver.draw(page, shape, canvas=frame.locator("canvas.ink"))
            frame.get_by_text("On the class map").wait_for(timeout=20_000)
            students.append((page, frame))
        board.wait_for_function("() => window.aeLive.drawings.length === 2", timeout=10_000)
        page, frame = students[0]

        teacher.get_by_role("button", name="Pens down").click()
        reaches(lambda: frame.locator(".stopped").is_visible(), page, "pens down")
        assert rooms.PENS_DOWN in frame.locator(".stopped").inner_text()
        strokes = frame.evaluate("window.aeLive.strokes")
        appserver.draw(page, appserver.ZERO, canvas=frame.locator("canvas.ink"))
        assert frame.evaluate("window.aeLive.strokes") == strokes  # the canvas took no ink
        teacher.get_by_role("button", name="Pens up: drawing again").click()
        reaches(lambda: not frame.locator(".stopped").is_visible(), page, "pens up")

        teacher.get_by_role("button", name="Hide names").click()
        board.wait_for_function("() => window.aeLive.drawings.every((d) => /^student \\d$/.test(d.name))", timeout=5_000)
        assert "Ada0" not in board.evaluate("document.body.innerText")

        board.locator(".strip img").first.click()  # a drawing chosen, then starred
        teacher.get_by_role("button", name="Star A: a pick to discuss").click()
        board.wait_for_function("() => window.aeLive.drawings.some((d) => d.starred)", timeout=5_000)
        assert board.locator("h3", has_text="The teacher's picks").is_visible()
        said = lambda: ["picked one of your drawings" in f.locator(".picked").inner_text() for _, f in students]  # noqa: E731
        reaches(lambda: any(said()), page, "pick")
        assert sum(said()) == 1  # on the page of the student whose drawing it is, only
        teacher.get_by_role("button", name="Lead the lesson").click()
        for page, _ in students:
            reaches(lambda: "Lesson, step 1 of" in heading(page), page, "lesson step 1")
        page = students[0][0]
        appserver.wait_idle(page)
        lesson_frame = appserver.live_frame(page)
        appserver.draw(page, appserver.SEVEN, canvas=lesson_frame.locator("canvas.ink"))
        page.get_by_text("On the class map").wait_for(timeout=20_000)
        teacher.get_by_role("button", name="Next").click()
        for page, _ in students:
            reaches(lambda: "Lesson, step 2 of" in heading(page), page, "lesson step 2")
            follower = next(f for f in page.frames if f.evaluate("document.body.dataset.widget || ''") == "follow")
            assert follower.evaluate("window.aeLive.shownAt > 0 && !window.aeLive.moving")  # shown by the page, with no rerun
        assert students[0][0].get_by_role("button", name="Next").count() == 0  # the teacher moves a student's page
        teacher.reload()  # the teacher's own page is never led: a reload keeps the Class page, running the room
        teacher.wait_for_selector("[data-testid='stMain'] h1", timeout=30_000)
        teacher.get_by_role("button", name="End the lesson").wait_for(timeout=30_000)  # once the page has read its key cookie
        assert "/class" in teacher.url and teacher.get_by_role("button", name="End the lesson").count() == 1
        secret = next(c["value"] for c in teacher.context.cookies() if c["name"].startswith(rooms.TEACHER_COOKIE))
        assert [d.step for d in store.all_drawings(code, secret)] == [0, 0, 1]
        teacher.get_by_role("button", name="End the lesson").click()
        for page, _ in students:
            reaches(lambda: "Draw a digit" in heading(page), page, "lesson ended")
        assert teacher.locator("[data-testid='stException']").count() == 0
        assert all(p.locator("[data-testid='stException']").count() == 0 for p, _ in students)
    print("reach (s):", ", ".join(f"{what} {took:.2f}" for what, took in reach))
