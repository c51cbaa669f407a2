"""A class's rooms: students' drawings gathered for the teacher's map. One small interface, two
backends with the same tests: SQLite (one file, the default: nothing to install) and Redis (for
several app servers sharing their rooms, `AE_ROOMS=redis://host:port/0`).

    store = rooms.open_store()                       # from $AE_ROOMS
    room, secret = store.create("conv32", 32)        # a join code and the teacher's secret
    store.add(room.code, student, "Ada", pixels, code, shares)   # RoomError: one sentence
    store.current(room.code)                         # each student's latest drawing, not hidden
    store.lock(room.code, secret)                    # only with the secret: lock, clear, hide, download
    store.pace(room.code, secret, 2)                 # the class follows the teacher's lesson, step 2
    store.pens(room.code, secret, down=True)         # every canvas stops until the pens go up

Everything a user sends is checked here, before it is stored: a join code from an alphabet
without look-alikes, 28x28 uint8 pixels, a finite code of the room's size, shares in [0, 1], a
nickname of at most 20 printable characters. The limits (students, drawings, drawings a second
per student) are enforced by the store itself, atomically, so they hold across servers.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from ae.rooms.core import (
    ALPHABET,
    CODE_LENGTH,
    HOURS,
    MAX_DRAWINGS,
    MAX_STARS,
    MAX_STUDENTS,
    NICKNAME,
    PENS_DOWN,
    PER_SECOND,
    SETTINGS,
    UNREACHABLE,
    Drawing,
    Room,
    RoomError,
    Store,
    Unavailable,
    _backend_errors,
    checked,
    clean_nickname,
    new_code,
    normal_code,
    pick_tag,
    pretty_code,
    refused,
    room_hours,
    secret_hash,
)

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "HOURS",
    "MAX_DRAWINGS",
    "MAX_STARS",
    "MAX_STUDENTS",
    "NICKNAME",
    "PENS_DOWN",
    "PER_SECOND",
    "SETTINGS",
    "STUDENT_COOKIE",
    "STUDENT_TOKEN",
    "TEACHER_COOKIE",
    "UNREACHABLE",
    "Drawing",
    "Room",
    "RoomError",
    "Store",
    "Unavailable",
    "checked",
    "clean_nickname",
    "default_location",
    "enabled",
    "new_code",
    "normal_code",
    "open_store",
    "pick_tag",
    "pretty_code",
    "refused",
    "room_hours",
    "secret_hash",
    "shared_store",
]


def default_location() -> str:
    """SQLite in the data folder (MNIST's), or in the server's cache folder where that cannot be written."""
    from ae import mnist, served

    return _first_writable(str(mnist.resolve_data_dir()), str(served.cache_dir()))


@functools.cache
def _first_writable(*folders: str) -> str:
    for folder in map(Path, folders):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return str(folder / "rooms.sqlite3")
    return str(Path(folder) / "rooms.sqlite3")


def open_store(location: str | None = None) -> Store:
    """The store $AE_ROOMS names: redis://host:port/db, else a SQLite file (default in the data folder)."""
    location = location or os.environ.get("AE_ROOMS") or default_location()
    if location.startswith(("redis://", "rediss://", "unix://")):
        from ae.rooms.redis_store import RedisStore

        return RedisStore(location)
    from ae.rooms.sqlite_store import SqliteStore

    return SqliteStore(location.removeprefix("sqlite:///"))


def shared_store() -> Store:
    """The process's one store for $AE_ROOMS (the pages' and our routes'); Unavailable where it cannot be opened."""
    return _shared(os.environ.get("AE_ROOMS") or default_location())


@functools.lru_cache(maxsize=4)
def _shared(location: str) -> Store:
    try:
        return open_store(location)
    except _backend_errors():
        raise Unavailable(UNREACHABLE) from None


TEACHER_COOKIE = "ae_teach_"  # + the room's code: the teacher's secret, kept by the teacher's browser (ae/web.py)
STUDENT_COOKIE = "ae_me_"  # + the room's code: who the student is, kept by their browser (a reload is the same student)
STUDENT_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")  # what a student's token may be


def enabled() -> bool:
    """AE_CLASS=off removes the class: no Class page, no rooms on Draw."""
    return os.environ.get("AE_CLASS", "on").lower() not in ("off", "0", "false", "no")
