"""The class's store, the same tests on both backends: SQLite (a file) and Redis (a real
redis-server on a free port, started here)."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from ae import rooms
from ae.rooms import RoomError

PIXELS = np.zeros((28, 28), np.uint8)


@pytest.fixture(params=["sqlite", "redis"])
def location(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "rooms.sqlite3")
    url = request.getfixturevalue("redis_url")
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def store(location):
    return rooms.open_store(location)


def _add(store, room, student="s1", nickname="Ada", code=None, shares=(0.2, 0.3), pixels=PIXELS):
    return store.add(room.code, student, nickname, pixels, np.ones(room.latent_dim) if code is None else code, shares)


def test_a_room_has_an_unguessable_code_without_look_alikes_and_a_128_bit_secret(store):
    room, secret = store.create("conv32", 32)
    assert len(room.code) == rooms.CODE_LENGTH and set(room.code) <= set(rooms.ALPHABET)
    assert len(rooms.ALPHABET) ** rooms.CODE_LENGTH >= 2**40
    for pair in ["0O", "1I", "1L", "5S", "2Z", "8B", "6G", "UV"]:  # each look-alike pair: one at most
        assert len(set(pair) & set(rooms.ALPHABET)) <= 1, pair
    assert len(secret) >= 22  # 16 random bytes, URL-safe
    assert store.get(rooms.pretty_code(room.code).lower()) == room  # typed in lower case with dashes
    assert store.is_teacher(room.code, secret) and not store.is_teacher(room.code, secret[:-1] + "x")


def test_a_look_alike_typed_reads_as_the_character_the_code_has():
    assert rooms.normal_code("s2b-z6g-vu8") == "528266UU8"
    assert rooms.normal_code("x" * 10_000) is None  # a long paste is no code, at once


@pytest.mark.parametrize("hours", ["abc", "nan", "-1", "1e9"])
def test_a_room_life_that_is_no_number_of_hours_is_one_sentence(store, monkeypatch, hours):
    monkeypatch.setenv("AE_ROOM_HOURS", hours)
    with pytest.raises(rooms.RoomError, match="AE_ROOM_HOURS is .*not a number of hours"):
        store.create("conv32", 32)


def test_a_drawing_is_stored_checked_and_becomes_the_students_current_one(store):
    room, secret = store.create("conv32", 4)
    first = _add(store, room, code=[1, 2, 3, 4])
    time.sleep(0.01)
    second = _add(store, room, code=[5, 6, 7, 8], shares=(0.9, None))
    _add(store, room, student="s2", nickname="")
    current = store.current(room.code)
    assert [d.id for d in current] == [second.id, second.id + 1]  # one per student: the latest
    assert current[0].code.tolist() == [5, 6, 7, 8] and current[0].error_share == 0.9 and current[0].code_share is None
    assert current[0].nickname == "Ada" and current[0].pixels.dtype == np.uint8
    assert store.counts(room.code) == (2, 3)
    assert [d.id for d in store.all_drawings(room.code, secret)] == [first.id, second.id, second.id + 1]  # every drawing kept


@pytest.mark.parametrize(
    "pixels, code, shares, why",
    [
        (np.zeros((28, 28), np.float32), None, (0.1, 0.1), "28x28 pixels"),
        (np.zeros((280, 280), np.uint8), None, (0.1, 0.1), "28x28 pixels"),
        (PIXELS, [1.0, 2.0], (0.1, 0.1), "4 finite numbers"),
        (PIXELS, [1.0, np.nan, 0, 0], (0.1, 0.1), "4 finite numbers"),
        (PIXELS, [1.0, np.inf, 0, 0], (0.1, 0.1), "4 finite numbers"),
        (PIXELS, None, (1.5, 0.1), "two shares between 0 and 1"),
        (PIXELS, None, ("x", 0.1), "two shares between 0 and 1"),
        (PIXELS, None, (True, 0.1), "two shares between 0 and 1"),
        (PIXELS, None, (0.1, 0.1, 0.1), "two shares between 0 and 1"),
    ],
)
def test_a_malformed_drawing_is_refused_with_a_sentence_and_nothing_is_stored(store, pixels, code, shares, why):
    room, _ = store.create("conv32", 4)
    with pytest.raises(RoomError, match=why):
        _add(store, room, pixels=pixels, code=code, shares=shares)
    assert store.counts(room.code) == (0, 0)


def test_a_nickname_is_kept_as_text_of_at_most_20_printable_characters(store):
    room, _ = store.create("conv32", 4)
    drawing = _add(store, room, nickname="  <b>Bob</b>\x00\n<script>alert(1)</script>  ")
    assert drawing.nickname == "<b>Bob</b><script>al"  # the page shows it as text, never as markup
    assert store.current(room.code)[0].nickname == drawing.nickname


def test_a_student_back_finds_the_nickname_of_their_latest_drawing(store):
    room, _ = store.create("conv32", 4)
    assert store.nickname(room.code, "s1") == ""  # nothing drawn yet
    _add(store, room, "s1", "Ada")
    _add(store, room, "s2", "Bo")
    _add(store, room, "s1", "Ada L.")
    assert store.nickname(room.code, "s1") == "Ada L." and store.nickname(room.code, "s2") == "Bo"
    assert store.nickname(room.code, "s3") == "" and store.nickname("NOROOM234", "s1") == ""


def test_a_wrong_or_expired_code_is_no_room(store):
    room, _ = store.create("conv32", 4, hours=0.5 / 3600)
    for code in ["", "nonsense", "ABC", "0" * rooms.CODE_LENGTH, "X" * rooms.CODE_LENGTH]:
        assert store.get(code) is None
        with pytest.raises(RoomError, match="ended, or its code is wrong"):
            store.add(code, "s1", "", PIXELS, np.ones(4))
    assert store.get(room.code) == room
    time.sleep(0.6)
    assert store.get(room.code) is None and store.current(room.code) == []
    with pytest.raises(RoomError, match="ended"):
        _add(store, room)


def test_only_the_teachers_secret_can_lock_clear_hide_or_download(store):
    room, secret = store.create("conv32", 4)
    drawing = _add(store, room)
    for forged in ["", "guess", secret[:-2], None]:
        for act in (
            lambda s: store.lock(room.code, s),
            lambda s: store.clear(room.code, s),
            lambda s: store.hide(room.code, s, drawing.id),
            lambda s: store.all_drawings(room.code, s),
            lambda s: store.door(room.code, s, False),
            lambda s: store.remove(room.code, s, "s1"),
            lambda s: store.pace(room.code, s, 2),
            lambda s: store.pens(room.code, s, True),
            lambda s: store.names(room.code, s, True),
            lambda s: store.star(room.code, s, drawing.id),
        ):
            with pytest.raises(RoomError, match="Only the teacher"):
                act(forged)
    assert store.counts(room.code) == (1, 1) and store.get(room.code) == room and store.state(room.code)["picked"] == []
    store.hide(room.code, secret, drawing.id)
    assert store.current(room.code) == [] and store.all_drawings(room.code, secret)[0].hidden
    store.lock(room.code, secret)
    with pytest.raises(RoomError, match="locked"):
        _add(store, room, student="s2")
    store.lock(room.code, secret, False)
    _add(store, room, student="s2")
    store.clear(room.code, secret)
    assert store.counts(room.code) == (0, 0) and store.current(room.code) == []
    assert _add(store, room).id > drawing.id  # ids never repeat after a clear


def test_a_flood_from_one_student_is_cut_at_five_a_second_and_nothing_stored_is_lost(store):
    room, _ = store.create("conv32", 4)
    accepted, refused = 0, 0
    for _ in range(12):
        try:
            _add(store, room)
            accepted += 1
        except RoomError as e:
            assert "At most 5 drawings a second" in str(e)
            refused += 1
    assert accepted == rooms.PER_SECOND and refused == 12 - rooms.PER_SECOND
    assert store.counts(room.code) == (1, rooms.PER_SECOND)
    time.sleep(1.05)
    _add(store, room)  # a second later, the student draws again


def test_the_limits_hold_under_concurrent_writers(store, location, monkeypatch):
    monkeypatch.setattr(rooms.core, "MAX_STUDENTS", 30)
    room, _ = store.create("conv32", 4)
    outcomes = []

    def student(n):
        own = rooms.open_store(location)  # each thread its own connection, as each server has
        try:
            _add(own, room, student=f"s{n}")
            outcomes.append("ok")
        except RoomError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=student, args=(n,)) for n in range(45)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 30 and outcomes.count(str(rooms.refused("students"))) == 15
    assert store.counts(room.code) == (30, 30)


def test_a_room_holds_at_most_its_drawings(store, monkeypatch):
    monkeypatch.setattr(rooms.core, "MAX_DRAWINGS", 7)
    room, _ = store.create("conv32", 4)
    for n in range(7):
        _add(store, room, student=f"s{n}")
    with pytest.raises(RoomError, match="holds 7 drawings"):
        _add(store, room, student="late")
    assert store.counts(room.code) == (7, 7)


def test_a_drawing_grows_in_place_stroke_by_stroke_and_a_cleared_canvas_begins_the_next(store, monkeypatch):
    """A stroke that grows the open drawing replaces it (one drawing kept, counted once, the cap
    untouched); a fresh canvas, a new step or a hidden drawing begins another."""
    monkeypatch.setattr(rooms.core, "MAX_DRAWINGS", 2)
    room, secret = store.create("conv32", 4)
    first = _add(store, room, nickname="one", pixels=np.full((28, 28), 1, np.uint8))
    for stroke in range(2, 6):
        time.sleep(0.3)  # within the rate
        grown = store.add(room.code, "s1", f"stroke {stroke}", np.full((28, 28), stroke, np.uint8), np.ones(4), fresh=False)
        assert grown.id == first.id and grown.rev > first.rev
    (kept,) = store.all_drawings(room.code, secret)
    assert kept.nickname == "stroke 5" and kept.pixels[0, 0] == 5 and store.counts(room.code) == (1, 1)
    time.sleep(1.0)
    second = _add(store, room, nickname="two")  # the canvas cleared: a drawing begun
    assert second.id != first.id and [d.nickname for d in store.all_drawings(room.code, secret)] == ["stroke 5", "two"]
    with pytest.raises(RoomError, match="holds 2 drawings"):
        _add(store, room)  # a third begun: over the cap
    assert store.add(room.code, "s1", "two, grown", PIXELS, np.ones(4), fresh=False).id == second.id  # growing is never refused for it
    store.pace(room.code, secret, 1)
    monkeypatch.setattr(rooms.core, "MAX_DRAWINGS", 10)
    moved = store.add(room.code, "s1", "", PIXELS, np.ones(4), fresh=False)
    assert moved.id != second.id and moved.step == 1  # a new step: the drawing of the last is finished
    store.hide(room.code, secret, moved.id)
    assert store.add(room.code, "s1", "", PIXELS, np.ones(4), fresh=False).id not in {moved.id, second.id}  # hidden: finished


def test_the_teachers_map_follows_a_room_by_its_changes(store):
    """Every change to a drawing stamps it with the room's next rev: the map asks for what came
    after the rev it holds and gets only that; a clear starts a new epoch."""
    room, secret = store.create("conv32", 4)
    assert store.marks(room.code) == (0, 0) and store.changes(room.code, 0) == []
    a, b = _add(store, room, student="a"), _add(store, room, student="b")
    epoch, rev = store.marks(room.code)
    assert (epoch, rev) == (0, b.rev) and a.rev < b.rev
    assert [d.id for d in store.changes(room.code, 0)] == [a.id, b.id] and [d.id for d in store.changes(room.code, a.rev)] == [b.id]
    assert store.changes(room.code, rev) == []  # nothing new: nothing sent
    grown = store.add(room.code, "a", "", PIXELS, np.full(4, 2.0), fresh=False)
    store.star(room.code, secret, b.id)
    store.hide(room.code, secret, a.id)
    changed = store.changes(room.code, rev)
    assert [(d.id, d.hidden, d.starred) for d in changed] == [(b.id, False, True), (a.id, True, False)] and grown.id == a.id
    assert changed[-1].rev == store.marks(room.code)[1] and changed[0].seat == 2
    assert [d.id for d in store.some(room.code, [b.id, 99999])] == [b.id]
    store.clear(room.code, secret)
    assert store.marks(room.code)[0] == epoch + 1 and store.changes(room.code, 0) == []


WRITER = """
import sys, numpy as np
from ae import rooms
store = rooms.open_store(sys.argv[1])
room, secret = store.create("conv32", 4)
print(room.code, secret, flush=True)
n = 0
while True:
    store.add(room.code, f"s{n % 150}", "", np.zeros((28, 28), np.uint8), np.ones(4))
    n += 1
    print(n, flush=True)
"""


def test_a_server_killed_while_writing_loses_nothing_it_stored(location, tmp_path):
    """A process adds drawings until it is killed (SIGKILL, no clean-up); a new one finds every
    drawing the first reported stored."""
    env = {**os.environ, "PYTHONPATH": str(tmp_path.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, location], stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(__file__)), env=env
    )
    code, secret = proc.stdout.readline().split()
    reported = 0
    deadline = time.time() + 60
    while reported < 200 and time.time() < deadline:
        line = proc.stdout.readline()
        if line.strip().isdigit():
            reported = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert reported >= 200
    again = rooms.open_store(location)
    assert again.get(code) is not None and again.counts(code)[1] >= reported
    assert len(again.all_drawings(code, secret)) == again.counts(code)[1]


def test_a_closed_door_keeps_new_students_out_and_lets_the_class_go_on(store):
    room, secret = store.create("conv32", 4)
    _add(store, room, student="in-already")
    store.door(room.code, secret, False)
    assert not store.get(room.code).door_open
    with pytest.raises(RoomError, match="closed this class to new students"):
        _add(store, room, student="late")
    _add(store, room, student="in-already")  # the students already in go on
    store.door(room.code, secret, True)
    _add(store, room, student="late")
    assert store.counts(room.code) == (2, 3)


def test_a_removed_student_is_hidden_and_refused_for_the_rooms_life(store):
    room, secret = store.create("conv32", 4)
    mine = [_add(store, room, student="troll").id, _add(store, room, student="troll").id]
    _add(store, room, student="fine")
    store.remove(room.code, secret, "troll")
    assert [d.student for d in store.current(room.code)] == ["fine"]
    assert {d.id for d in store.all_drawings(room.code, secret) if d.hidden} == set(mine)  # kept for the download, hidden
    with pytest.raises(RoomError, match="taken you out of this class"):
        _add(store, room, student="troll")
    store.clear(room.code, secret)
    with pytest.raises(RoomError, match="taken you out"):  # a clear keeps them out too
        _add(store, room, student="troll")


def test_the_class_follows_the_teachers_step_and_each_drawing_keeps_its_step(store):
    room, secret = store.create("conv32", 4)
    free = _add(store, room, student="a")
    before = store.state(room.code)
    store.pace(room.code, secret, 1)
    assert store.get(room.code).step == 1 and store.state(room.code)["tag"] != before["tag"]
    one_a, one_b = _add(store, room, student="a"), _add(store, room, student="b")
    store.pace(room.code, secret, 2)
    two_a = _add(store, room, student="a")
    assert [d.step for d in (free, one_a, one_b, two_a)] == [0, 1, 1, 2]
    assert [d.id for d in store.current(room.code, step=1)] == [one_a.id, one_b.id]  # step 1's map
    assert [d.id for d in store.current(room.code, step=2)] == [two_a.id]
    assert [d.id for d in store.current(room.code)] == [one_b.id, two_a.id]  # all steps: each student's latest
    assert [d.step for d in store.all_drawings(room.code, secret)] == [0, 1, 1, 2]  # the download keeps it
    with pytest.raises(RoomError, match="step is a number"):
        store.pace(room.code, secret, -1)
    store.clear(room.code, secret)
    assert store.current(room.code, step=2) == [] and store.get(room.code).step == 2


def test_pens_down_stops_every_drawing_until_the_pens_go_up(store):
    room, secret = store.create("conv32", 4)
    _add(store, room, student="a")
    store.pens(room.code, secret, True)
    assert store.get(room.code).pens_down and store.state(room.code)["pens_down"]
    for student in ("a", "new"):
        with pytest.raises(RoomError, match="Pens down"):
            _add(store, room, student=student)
    assert store.counts(room.code) == (1, 1)
    store.pens(room.code, secret, False)
    _add(store, room, student="new")
    assert store.counts(room.code) == (2, 2) and not store.state(room.code)["pens_down"]


def test_names_hidden_is_the_rooms_and_each_student_has_a_seat_number(store):
    room, secret = store.create("conv32", 4)
    seats = [_add(store, room, student=s).seat for s in ("a", "b", "a", "c")]
    assert seats == [1, 2, 1, 3]
    assert {d.student: d.seat for d in store.current(room.code)} == {"a": 1, "b": 2, "c": 3}
    store.names(room.code, secret, True)
    assert store.get(room.code).names_hidden
    assert [d.nickname for d in store.all_drawings(room.code, secret)] == ["Ada"] * 4  # the download keeps the names
    store.names(room.code, secret, False)
    assert not store.get(room.code).names_hidden


def test_the_teachers_picks_are_starred_unstarred_and_bounded(store, monkeypatch):
    room, secret = store.create("conv32", 4)
    drawings = [_add(store, room, student=f"s{i}") for i in range(4)]
    store.star(room.code, secret, drawings[1].id)
    store.star(room.code, secret, drawings[3].id)
    assert store.state(room.code)["picked"] == sorted(rooms.pick_tag(room.code, s) for s in ("s1", "s3"))  # said, not the tokens
    assert [d.starred for d in store.current(room.code)] == [False, True, False, True]
    store.star(room.code, secret, drawings[1].id, on=False)
    store.hide(room.code, secret, drawings[3].id)  # a hidden drawing is no pick on the map
    assert store.state(room.code)["picked"] == [] and not any(d.starred for d in store.current(room.code))
    monkeypatch.setattr(rooms.core, "MAX_STARS", 1)
    store.star(room.code, secret, drawings[0].id)
    with pytest.raises(RoomError, match="at most 1 picks"):
        store.star(room.code, secret, drawings[2].id)


def test_a_rooms_file_from_before_the_lessons_opens_and_keeps_its_rooms(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """CREATE TABLE rooms (code TEXT PRIMARY KEY, secret TEXT NOT NULL, model TEXT NOT NULL, latent_dim INTEGER NOT NULL,
             created REAL NOT NULL, expires REAL NOT NULL, locked INTEGER NOT NULL DEFAULT 0, students INTEGER NOT NULL DEFAULT 0,
             drawings INTEGER NOT NULL DEFAULT 0);
           CREATE TABLE students (room TEXT NOT NULL, student TEXT NOT NULL, PRIMARY KEY (room, student));
           CREATE TABLE drawings (id INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL, student TEXT NOT NULL,
             nickname TEXT NOT NULL, pixels BLOB NOT NULL, code BLOB NOT NULL, error_share REAL, code_share REAL, time REAL NOT NULL,
             hidden INTEGER NOT NULL DEFAULT 0);"""
    )
    old.execute(
        "INSERT INTO rooms (code, secret, model, latent_dim, created, expires) VALUES ('2345678AC', ?, 'conv32', 4, 0, ?)",
        (rooms.secret_hash("key"), time.time() + 3600),
    )
    old.commit()
    old.close()
    store = rooms.open_store(str(path))
    room = store.get("2345678AC")
    assert room is not None and room.door_open and room.step == 0 and not room.pens_down
    store.pace(room.code, "key", 3)
    assert _add(store, store.get(room.code)).step == 3 and store.current(room.code, step=3)[0].seat == 1


def test_a_teachers_click_answers_every_waiting_page_at_once_with_one_read_a_poll(store, location, monkeypatch):
    import asyncio

    from ae.rooms import watch

    monkeypatch.setenv("AE_ROOMS", location)
    room, secret = store.create("conv32", 4)
    reads = []
    shared = rooms.shared_store()
    monkeypatch.setattr(type(shared), "state", lambda self, code: reads.append(code) or rooms.Store.state(self, code))

    async def class_of(n):
        first = await watch.state_after(room.code, None)  # a page's first question: answered at once
        held = [asyncio.create_task(watch.state_after(room.code, first["tag"], wait=10)) for _ in range(n)]
        await asyncio.sleep(1.0)
        assert not any(t.done() for t in held)  # nothing changed: they wait
        reads_waiting = len(reads)
        clicked = time.monotonic()
        await asyncio.to_thread(store.pens, room.code, secret, True)
        answers = await asyncio.gather(*held)
        return first, answers, time.monotonic() - clicked, reads_waiting

    first, answers, took, reads_waiting = asyncio.run(class_of(300))
    assert not first["pens_down"] and all(a["pens_down"] and a["tag"] != first["tag"] for a in answers)
    assert took < 1.0, f"the click reached the waiting pages in {took:.2f} s"
    assert reads_waiting <= 1 + 1.0 / watch.POLL + 2  # one read a poll for the 300, not one each
    assert asyncio.run(watch.state_after(room.code, answers[0]["tag"], wait=0.3)) == answers[0]  # no change: the same state
    assert asyncio.run(watch.state_after("2345678AC", None)) is None  # no such room
    assert watch._watches == {}  # nothing kept for rooms nobody waits on
