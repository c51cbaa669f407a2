"""A class's rooms, the part both backends share: the limits, a room and a drawing, the checks
of everything a user sends, and the Store interface (ae/rooms/__init__.py opens one)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import secrets
import time
import unicodedata
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

ALPHABET = "23456789ACDEFHJKMNPQRTUWXY"  # no look-alikes: no 0/O, 1/I/L, S (5), Z (2), B (8), G (6), V (U)
LOOK_ALIKES = str.maketrans("SZBGVOIL", "5286U011")  # what a student may type for them (0 and 1: no code has them)
CODE_LENGTH = 9  # 26^9: 42.3 bits
MAX_STUDENTS = 200
MAX_DRAWINGS = 100_000  # drawings begun (each a row, however many strokes it grew by): a lesson of 200 at the bench's pace fits
PER_SECOND = 5  # drawings a student may send in any second
MAX_STARS = 24  # the teacher's picks a room keeps
NICKNAME = 20  # characters at most
HOURS = 24  # a room's life, unless AE_ROOM_HOURS says otherwise


class RoomError(ValueError):
    """What went wrong, as one sentence for the person who caused it; nothing was stored."""


@dataclass(frozen=True)
class Room:
    code: str
    model: str
    latent_dim: int
    created: float
    expires: float
    locked: bool
    door_open: bool = True  # closed: the students already in go on, no new one joins
    step: int = 0  # the lesson's step the class follows (1, 2, ...), 0 where the class draws freely
    pens_down: bool = False  # every student's canvas stopped until the teacher lifts it
    names_hidden: bool = False  # nicknames shown as seat numbers on the teacher's pages

    def state(self, starred: dict[int, str] | None = None) -> dict:
        """What every page in the room may know and follows (ae/web.py's /ae/room), with a tag that
        changes with it; `starred`: the teacher's picks, drawing id -> student, said as pick_tags."""
        starred = starred or {}
        picked = sorted({pick_tag(self.code, s) for s in starred.values()})
        state = {"step": self.step, "pens_down": self.pens_down, "locked": self.locked, "picked": picked}
        return {**state, "tag": hashlib.sha256(repr(sorted(state.items())).encode()).hexdigest()[:12]}


def pick_tag(code: str, student: str) -> str:
    """What a student's page is told to look for among the picks: not the student's token itself."""
    return hashlib.sha256(f"pick {code} {student}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Drawing:
    id: int
    student: str
    nickname: str
    pixels: np.ndarray  # (28, 28) uint8
    code: np.ndarray  # (latent_dim,) float32
    error_share: float | None  # "is this a digit?": the share of test digits rebuilt better
    code_share: float | None  # the share whose codes lie nearer a digit class
    time: float
    hidden: bool
    step: int = 0  # the lesson's step the room was at when it was stored (0: no lesson)
    seat: int = 0  # the student's number in the room (1, 2, ... in the order they joined)
    starred: bool = False  # one of the teacher's picks
    rev: int = 0  # the room's change count when this drawing last changed (Store.changes)

    @property
    def unusual(self) -> float:
        """The meter's verdict as one number: the larger share (0 when unknown)."""
        return max(s for s in (self.error_share, self.code_share, 0.0) if s is not None)


def room_hours() -> float:
    """A room's life in hours: AE_ROOM_HOURS, else 24; RoomError in one sentence for a setting that is no number of hours."""
    text = os.environ.get("AE_ROOM_HOURS") or str(HOURS)
    try:
        hours = float(text)
    except ValueError:
        hours = float("nan")
    if not 0 < hours <= 24 * 365:  # NaN fails this too
        raise RoomError(
            f"This server's AE_ROOM_HOURS is {text[:40]!r}, not a number of hours (up to a year): no room can be opened until it is."
        )
    return hours


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str | None:
    """A join code as typed (any case, dashes or spaces), or None when it cannot be one."""
    code = "".join(c for c in str(text)[:40].upper().translate(LOOK_ALIKES) if c not in " -")
    return code if len(code) == CODE_LENGTH and all(c in ALPHABET for c in code) else None


def pretty_code(code: str) -> str:
    return "-".join(code[i : i + 3] for i in range(0, len(code), 3))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(str(secret).encode()).hexdigest()


def clean_nickname(text: str | None) -> str:
    """At most 20 printable characters, white space folded; markup stays text (pages escape it)."""
    kept = "".join(c for c in str(text or "") if unicodedata.category(c)[0] != "C")
    return " ".join(kept.split())[:NICKNAME]


def checked(room: Room, pixels, code, shares) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The drawing as it will be stored, or RoomError saying what is wrong with it."""
    pixels = np.asarray(pixels)
    if pixels.shape != (28, 28) or pixels.dtype != np.uint8:
        raise RoomError("The drawing must be 28x28 pixels of 0 to 255.")
    code = np.asarray(code, dtype=np.float64).ravel()
    if code.shape != (room.latent_dim,) or not np.isfinite(code).all() or np.abs(code).max(initial=0) > 1e6:
        raise RoomError(f"The drawing's code must be {room.latent_dim} finite numbers.")
    out = []
    for share in shares if len(shares) == 2 else [-1]:
        number = isinstance(share, (int, float, np.floating)) and not isinstance(share, bool)
        if share is not None and not (number and 0.0 <= float(share) <= 1.0):
            raise RoomError("The drawing's scores must be two shares between 0 and 1.")
        out.append(None if share is None else float(share))
    return pixels, code.astype(np.float32), tuple(out)


class Unavailable(RoomError):
    """The store cannot be reached (Redis down, the file unreadable): the class waits, drawing goes on."""


UNREACHABLE = (
    "The class cannot be reached just now (its store does not answer): drawing works, but nothing reaches the class until it does."
)
BACKEND = (
    "_create",
    "_get",
    "_secret_hash",
    "_add",
    "_current",
    "_counts",
    "_all",
    "_hide",
    "_lock",
    "_door",
    "_remove",
    "_clear",
    "_set",
    "_star",
    "_starred",
    "_marks",
    "_changes",
    "_some",
)
SETTINGS = ("step", "pens_down", "names_hidden")  # the room's settings the teacher changes (Room's fields, the backends' names)


@functools.cache
def _backend_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    try:
        import redis
    except ImportError:
        return (sqlite3.Error, OSError)
    return (sqlite3.Error, OSError, redis.RedisError)


def _reached(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except _backend_errors() as e:
            log.warning("the class's store failed: %s: %s", type(e).__name__, e)
            raise Unavailable(UNREACHABLE) from None

    return call


class Store:
    """The interface; a backend implements the methods that start with an underscore (BACKEND),
    whose failures to reach the store become Unavailable, one sentence, for every backend."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in BACKEND:
            if name in vars(cls):
                setattr(cls, name, _reached(vars(cls)[name]))

    def create(self, model: str, latent_dim: int, hours: float | None = None) -> tuple[Room, str]:
        """A new room for a model, and the teacher's secret (128 bits) that alone can run it."""
        now = time.time()
        secret = secrets.token_urlsafe(16)
        life = 3600 * (hours or room_hours())
        for _ in range(5):  # a clash of 42-bit codes is all but impossible; try again if it happens
            room = Room(new_code(), model, int(latent_dim), now, now + life, False)
            if self._create(room, secret_hash(secret)):
                return room, secret
        raise RoomError("No room could be made just now: try again.")

    def get(self, code: str | None) -> Room | None:
        """The room with this join code, or None: unknown, mistyped or expired."""
        code = normal_code(code or "")
        if code is None:
            return None
        room = self._get(code)
        return room if room is not None and room.expires > time.time() else None

    def is_teacher(self, code: str | None, secret: str | None) -> bool:
        code = normal_code(code or "")
        stored = self._secret_hash(code) if code and self.get(code) else None
        return bool(stored and secret) and hmac.compare_digest(stored, secret_hash(secret))

    def add(self, code: str, student: str, nickname: str | None, pixels, z, shares=(None, None), fresh: bool = True) -> Drawing:
        """Stores a student's drawing (their current one on the map); RoomError says why not.
        `fresh`: a drawing begun (the first stroke on a clear canvas), else the student's open
        drawing grown by a stroke, kept in its place while it is in the room's step and not hidden
        (it counts against MAX_DRAWINGS once, and the drawing it replaces is not kept)."""
        room = self.get(code)
        if room is None:
            raise refused("gone")
        if room.locked:
            raise refused("locked")
        pixels, z, shares = checked(room, pixels, z, shares)
        student = str(student)[:64]
        if not student:
            raise RoomError("This page has no place in the class: reload it.")
        return self._add(room, student, clean_nickname(nickname), pixels, z, shares, time.time(), bool(fresh))

    def current(self, code: str, step: int | None = None) -> list[Drawing]:
        """Each student's latest drawing (in a lesson's step, where one is given), unless the
        teacher hid it; oldest first."""
        room = self.get(code)
        return self._current(room.code, None if step is None else int(step)) if room else []

    def nickname(self, code: str, student: str) -> str:
        """The nickname on the student's latest drawing in the room ('' where there is none): what a
        reloaded page of theirs puts back in its box."""
        return next((d.nickname for d in self.current(code) if d.student == student), "")

    def state(self, code: str) -> dict | None:
        """Room.state, the teacher's picks included; None where there is no such room."""
        room = self.get(code)
        return room.state(self._starred(room.code)) if room else None

    def marks(self, code: str) -> tuple[int, int]:
        """(epoch, rev): rev counts the changes to the room's drawings (each one changed is stamped
        with it), epoch its clears; (0, 0) where there is no such room."""
        room = self.get(code)
        return self._marks(room.code) if room else (0, 0)

    def changes(self, code: str, since: int) -> list[Drawing]:
        """The drawings changed (added, grown, hidden, starred) after the room's rev `since`,
        hidden ones too, in the order they changed: the teacher's map follows the room by these."""
        room = self.get(code)
        return self._changes(room.code, int(since)) if room else []

    def some(self, code: str, ids) -> list[Drawing]:
        """The room's drawings with these ids (those that are there), oldest first."""
        room = self.get(code)
        return self._some(room.code, sorted({int(i) for i in ids})) if room else []

    def counts(self, code: str) -> tuple[int, int]:
        """(students who have sent a drawing, drawings kept)."""
        room = self.get(code)
        return self._counts(room.code) if room else (0, 0)

    def _teacher(self, code: str, secret: str) -> Room:
        if not self.is_teacher(code, secret):
            raise RoomError("Only the teacher's link can do that.")
        return self.get(code)

    def all_drawings(self, code: str, secret: str) -> list[Drawing]:
        """Every drawing kept, hidden ones too, oldest first: the download (teacher only)."""
        return self._all(self._teacher(code, secret).code)

    def hide(self, code: str, secret: str, drawing_id: int) -> None:
        self._hide(self._teacher(code, secret).code, int(drawing_id))

    def lock(self, code: str, secret: str, locked: bool = True) -> None:
        self._lock(self._teacher(code, secret).code, bool(locked))

    def door(self, code: str, secret: str, open_: bool) -> None:
        """Closed: no new student joins (those in go on); open again: they may."""
        self._door(self._teacher(code, secret).code, bool(open_))

    def remove(self, code: str, secret: str, student: str) -> None:
        """A student out for the room's life: their drawings hidden, their next ones refused."""
        self._remove(self._teacher(code, secret).code, str(student)[:64])

    def pace(self, code: str, secret: str, step: int) -> None:
        """The lesson's step every student's page follows, and that their drawings are kept under (0: none)."""
        if not 0 <= int(step) <= 99:
            raise RoomError("A lesson's step is a number from 1 to 99 (0 ends the lesson).")
        self._set(self._teacher(code, secret).code, "step", int(step))

    def pens(self, code: str, secret: str, down: bool) -> None:
        """Pens down: every student's canvas stops, and no drawing is taken, until they go up."""
        self._set(self._teacher(code, secret).code, "pens_down", int(bool(down)))

    def names(self, code: str, secret: str, hidden: bool) -> None:
        """Nicknames shown as seat numbers on the teacher's pages (the download keeps them)."""
        self._set(self._teacher(code, secret).code, "names_hidden", int(bool(hidden)))

    def star(self, code: str, secret: str, drawing_id: int, on: bool = True) -> None:
        """A drawing among the teacher's picks (at most MAX_STARS), or out of them."""
        room = self._teacher(code, secret)
        picks = self._starred(room.code)
        if on and len(picks) >= MAX_STARS and int(drawing_id) not in picks:
            raise RoomError(f"The class keeps at most {MAX_STARS} picks: unstar one first.")
        self._star(room.code, int(drawing_id), bool(on))

    def clear(self, code: str, secret: str) -> None:
        """Every drawing and student gone; the room stays open (and locked or not, as it was)."""
        self._clear(self._teacher(code, secret).code)

    # ---- what a backend implements ----
    def _create(self, room: Room, secret_hash: str) -> bool:  # False when the code is taken
        raise NotImplementedError

    def _get(self, code: str) -> Room | None:
        raise NotImplementedError

    def _secret_hash(self, code: str) -> str | None:
        raise NotImplementedError

    def _add(self, room: Room, student: str, nickname: str, pixels, z, shares, now: float, fresh: bool) -> Drawing:
        raise NotImplementedError

    def _marks(self, code: str) -> tuple[int, int]:
        raise NotImplementedError

    def _changes(self, code: str, since: int) -> list[Drawing]:
        raise NotImplementedError

    def _some(self, code: str, ids: list[int]) -> list[Drawing]:
        raise NotImplementedError

    def _current(self, code: str, step: int | None) -> list[Drawing]:
        raise NotImplementedError

    def _set(self, code: str, setting: str, value: int) -> None:  # setting: one of SETTINGS
        raise NotImplementedError

    def _star(self, code: str, drawing_id: int, on: bool) -> None:
        raise NotImplementedError

    def _starred(self, code: str) -> dict[int, str]:  # the picks not hidden: drawing id -> student
        raise NotImplementedError

    def _counts(self, code: str) -> tuple[int, int]:
        raise NotImplementedError

    def _all(self, code: str) -> list[Drawing]:
        raise NotImplementedError

    def _hide(self, code: str, drawing_id: int) -> None:
        raise NotImplementedError

    def _door(self, code: str, open_: bool) -> None:
        raise NotImplementedError

    def _remove(self, code: str, student: str) -> None:
        raise NotImplementedError

    def _lock(self, code: str, locked: bool) -> None:
        raise NotImplementedError

    def _clear(self, code: str) -> None:
        raise NotImplementedError


def refused(why: str) -> RoomError:
    """The sentence for a drawing the store turned away, by the backends' one word for why."""
    return RoomError(
        {
            "gone": "This class has ended, or its code is wrong.",
            "locked": "The teacher has locked this class: drawings are not sent for now.",
            "students": f"This class is full ({MAX_STUDENTS} students): your drawing was not sent.",
            "drawings": f"This class holds {MAX_DRAWINGS:,} drawings, its most: no more are sent.",
            "rate": f"At most {PER_SECOND} drawings a second are sent: this one was not.",
            "door": "The teacher has closed this class to new students: ask them to open it.",
            "removed": "The teacher has taken you out of this class: your drawings no longer reach it.",
            "pens_down": PENS_DOWN,
            "moved": "The class moved on to another step just then: draw again.",
        }[why]
    )


PENS_DOWN = "Pens down: the teacher has paused the class. Look up!"
