"""The teacher's map as its page follows it (ae/web.py's /ae/room/<code>/map): the page holds a
tag and is told what changed after it, so a refresh costs the server what changed, not the room.

The tag is `epoch.rev.step.names.flags`: rev counts the changes to the room's drawings (Store.marks),
epoch its clears. Where the page's epoch, step or names differ from the room's (or it holds no
tag), it is sent the room afresh: each student's latest drawing, in all steps and in this one;
else the drawings changed after its rev. Hidden drawings come as their id, seat and step alone:
the page keeps, for each seat, the latest drawing (in this step, or in any), and shows it unless hidden.
"""

from __future__ import annotations

from ae import rooms
from ae.ui import classroom, lesson


def tag(room: rooms.Room, epoch: int, rev: int) -> str:
    flags = "".join(str(int(f)) for f in (room.locked, room.door_open, room.pens_down))
    return f"{epoch}.{rev}.{room.step}.{int(room.names_hidden)}.{flags}"


def state(code: str) -> dict | None:
    """What the map's watch compares (ae/rooms/watch.py): the tag, read from the store now."""
    store = rooms.shared_store()
    room = store.get(code)
    return None if room is None else {"tag": tag(room, *store.marks(code))}


def _cursor(since: str) -> tuple[int, int, int, int] | None:
    try:
        epoch, rev, step, names = (int(part) for part in since.split(".")[:4])
    except ValueError:
        return None
    return epoch, rev, step, names


def words(room: rooms.Room) -> str:
    said = "locked: no new drawings" if room.locked else "open" if room.door_open else "door closed: no new students"
    return said + (" · pens down" if room.pens_down else "")


def update(code: str, since: str) -> dict | None:
    """What the page is to change on its map after `since`; None where there is no such room.
    RoomError (one sentence) where this server cannot place the room's drawings."""
    store = rooms.shared_store()
    room = store.get(code)
    if room is None:
        return None
    epoch, rev = store.marks(code)  # before the drawings: one stored after this comes again, never lost
    held = _cursor(since)
    afresh = held is None or (held[0], held[2], held[3]) != (epoch, room.step, int(room.names_hidden)) or held[1] > rev
    if afresh:
        latest = {d.id: d for d in store.current(code)}
        latest.update((d.id, d) for d in (store.current(code, room.step) if room.step else []))
        drawings = sorted(latest.values(), key=lambda d: d.id)
    else:
        drawings = store.changes(code, held[1])
    choice = classroom.room_model(room)
    found = classroom.background(choice) if choice else None
    if found is None:
        raise rooms.RoomError("This server cannot place the room's drawings (its model or MNIST is missing).")
    shown = [d for d in drawings if not d.hidden]
    placed = {p["id"]: p for p in classroom.map_drawings(room, choice, found[0], shown)}
    students, count = store.counts(code)
    return {
        "tag": tag(room, epoch, rev),
        "afresh": afresh,
        "drawings": [{**placed.get(d.id, {"id": d.id, "hidden": True}), "seat": d.seat, "step": d.step} for d in drawings],
        "step": room.step,
        "heading": lesson.heading(room.step) if room.step else "",
        "students": students,
        "count": count,
        "state": words(room),
    }
