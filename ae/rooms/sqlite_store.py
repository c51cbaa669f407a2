"""Rooms in one SQLite file (the standard library's; WAL, so readers never wait for the writer).

One connection per store, shared by the threads of the process under a lock (Streamlit runs each
rerun in a thread of its own: a connection each cost more than the query); another process has
its own. An addition is one IMMEDIATE transaction, so the limits hold however many sessions and
processes write at once, and a committed drawing survives the app server being killed.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import numpy as np

from ae.rooms import core
from ae.rooms.core import Drawing, Room

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (code TEXT PRIMARY KEY, secret TEXT NOT NULL, model TEXT NOT NULL,
  latent_dim INTEGER NOT NULL, created REAL NOT NULL, expires REAL NOT NULL, locked INTEGER NOT NULL DEFAULT 0,
  students INTEGER NOT NULL DEFAULT 0, drawings INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS students (room TEXT NOT NULL, student TEXT NOT NULL, PRIMARY KEY (room, student));
CREATE TABLE IF NOT EXISTS drawings (id INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL,
  student TEXT NOT NULL, nickname TEXT NOT NULL, pixels BLOB NOT NULL, code BLOB NOT NULL,
  error_share REAL, code_share REAL, time REAL NOT NULL, hidden INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS drawings_by_student ON drawings (room, student, id);
CREATE TABLE IF NOT EXISTS current (room TEXT NOT NULL, student TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (room, student));
CREATE TABLE IF NOT EXISTS removed (room TEXT NOT NULL, student TEXT NOT NULL, PRIMARY KEY (room, student));
CREATE TABLE IF NOT EXISTS current_in_step (room TEXT NOT NULL, student TEXT NOT NULL, step INTEGER NOT NULL, id INTEGER NOT NULL,
  PRIMARY KEY (room, step, student));
"""
ADDED_COLUMNS = {  # (table, column): for files made before them
    ("rooms", "door"): "INTEGER NOT NULL DEFAULT 1",
    ("rooms", "step"): "INTEGER NOT NULL DEFAULT 0",
    ("rooms", "pens_down"): "INTEGER NOT NULL DEFAULT 0",
    ("rooms", "names_hidden"): "INTEGER NOT NULL DEFAULT 0",
    ("students", "seat"): "INTEGER NOT NULL DEFAULT 0",
    ("drawings", "step"): "INTEGER NOT NULL DEFAULT 0",
    ("drawings", "starred"): "INTEGER NOT NULL DEFAULT 0",
    ("drawings", "rev"): "INTEGER NOT NULL DEFAULT 0",
    ("rooms", "rev"): "INTEGER NOT NULL DEFAULT 0",
    ("rooms", "epoch"): "INTEGER NOT NULL DEFAULT 0",
    ("students", "open_id"): "INTEGER NOT NULL DEFAULT 0",  # the drawing the student's strokes grow
    ("students", "since"): "REAL NOT NULL DEFAULT 0",  # the rate's window: its start, and the drawings sent in it
    ("students", "sent"): "INTEGER NOT NULL DEFAULT 0",
}
INDEXES = """CREATE INDEX IF NOT EXISTS drawings_starred ON drawings (room) WHERE starred = 1;
CREATE INDEX IF NOT EXISTS drawings_by_rev ON drawings (room, rev);"""  # after ADDED_COLUMNS
COLUMNS = """d.id, d.student, d.nickname, d.pixels, d.code, d.error_share, d.code_share, d.time, d.hidden, d.step, COALESCE(s.seat, 0),
  d.starred, d.rev FROM drawings d LEFT JOIN students s ON s.room = d.room AND s.student = d.student"""


class SqliteStore(core.Store):
    def __init__(self, path: str):
        self.path = path
        self.mutex = threading.RLock()
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: a crash of the app loses nothing committed
        self.db.execute("PRAGMA busy_timeout=30000")
        with self.mutex:
            self.db.executescript(SCHEMA)
            for (table, column), kind in ADDED_COLUMNS.items():
                if column not in {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            self.db.executescript(INDEXES)

    def _read(self, sql: str, args=()) -> list:
        with self.mutex:
            return self.db.execute(sql, args).fetchall()

    def _write(self):
        return _Transaction(self.db, self.mutex)

    def _create(self, room: Room, secret_hash: str) -> bool:
        with self._write() as db:
            expired = [r[0] for r in db.execute("SELECT code FROM rooms WHERE expires < ?", (time.time(),))]
            for code in expired:  # the old rooms go when a new one is made
                self._delete(db, code)
                db.execute("DELETE FROM rooms WHERE code = ?", (code,))
            try:
                db.execute(
                    "INSERT INTO rooms (code, secret, model, latent_dim, created, expires) VALUES (?, ?, ?, ?, ?, ?)",
                    (room.code, secret_hash, room.model, room.latent_dim, room.created, room.expires),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def _get(self, code: str) -> Room | None:
        rows = self._read(
            "SELECT code, model, latent_dim, created, expires, locked, door, step, pens_down, names_hidden FROM rooms WHERE code = ?",
            (code,),
        )
        if not rows:
            return None
        row = rows[0]
        return Room(*row[:5], bool(row[5]), bool(row[6]), int(row[7]), bool(row[8]), bool(row[9]))

    def _secret_hash(self, code: str) -> str | None:
        rows = self._read("SELECT secret FROM rooms WHERE code = ?", (code,))
        return rows[0][0] if rows else None

    def _add(self, room, student, nickname, pixels, z, shares, now, fresh) -> Drawing:
        with self._write() as db:
            row = db.execute(
                "SELECT locked, students, drawings, door, pens_down, step, rev FROM rooms WHERE code = ?", (room.code,)
            ).fetchone()
            if row is None:
                raise core.refused("gone")
            locked, students, drawings, door, pens_down, step, rev = row
            if locked:
                raise core.refused("locked")
            if pens_down:
                raise core.refused("pens_down")
            if db.execute("SELECT 1 FROM removed WHERE room = ? AND student = ?", (room.code, student)).fetchone():
                raise core.refused("removed")
            known = db.execute(
                "SELECT seat, open_id, since, sent FROM students WHERE room = ? AND student = ?", (room.code, student)
            ).fetchone()
            if not known and not door:
                raise core.refused("door")
            if not known and students >= core.MAX_STUDENTS:
                raise core.refused("students")
            seat, open_id, since, sent = known or (students + 1, 0, 0.0, 0)
            since, sent = (since, sent) if now - since < 1.0 else (now, 0)
            if sent >= core.PER_SECOND:
                raise core.refused("rate")
            grown = None
            if open_id and not fresh:  # the open drawing, while it is in this step and shown
                grown = db.execute("SELECT id FROM drawings WHERE id = ? AND step = ? AND hidden = 0", (open_id, step)).fetchone()
            if grown is None and drawings >= core.MAX_DRAWINGS:
                raise core.refused("drawings")
            rev += 1
            values = (nickname, pixels.tobytes(), z.tobytes(), shares[0], shares[1], now, rev)
            if grown is not None:
                drawing_id = open_id
                db.execute(
                    "UPDATE drawings SET nickname = ?, pixels = ?, code = ?, error_share = ?, code_share = ?, time = ?, rev = ? WHERE id = ?",
                    (*values, drawing_id),
                )
            else:
                drawing_id = db.execute(
                    "INSERT INTO drawings (nickname, pixels, code, error_share, code_share, time, rev, room, student, step)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, room.code, student, step),
                ).lastrowid
            db.execute(
                "INSERT INTO students (room, student, seat, open_id, since, sent) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (room, student) DO UPDATE SET open_id = excluded.open_id, since = excluded.since, sent = excluded.sent",
                (room.code, student, seat, drawing_id, since, sent + 1),
            )
            db.execute(
                "UPDATE rooms SET students = students + ?, drawings = drawings + ?, rev = ? WHERE code = ?",
                (0 if known else 1, 0 if grown else 1, rev, room.code),
            )
            db.execute(
                "INSERT INTO current VALUES (?, ?, ?) ON CONFLICT (room, student) DO UPDATE SET id = excluded.id",
                (room.code, student, drawing_id),
            )
            db.execute(
                "INSERT INTO current_in_step VALUES (?, ?, ?, ?) ON CONFLICT (room, step, student) DO UPDATE SET id = excluded.id",
                (room.code, student, step, drawing_id),
            )
        return Drawing(drawing_id, student, nickname, pixels, z, shares[0], shares[1], now, False, step, seat, rev=rev)

    def _marks(self, code: str) -> tuple[int, int]:
        rows = self._read("SELECT epoch, rev FROM rooms WHERE code = ?", (code,))
        return tuple(rows[0]) if rows else (0, 0)

    def _changes(self, code: str, since: int) -> list[Drawing]:
        rows = self._read(f"SELECT {COLUMNS} WHERE d.room = ? AND d.rev > ? ORDER BY d.rev, d.id", (code, since))
        return [_drawing(row) for row in rows]

    def _some(self, code: str, ids: list[int]) -> list[Drawing]:
        marks = ", ".join("?" * len(ids))
        return [_drawing(row) for row in self._read(f"SELECT {COLUMNS} WHERE d.room = ? AND d.id IN ({marks}) ORDER BY d.id", (code, *ids))]

    def _current(self, code: str, step: int | None) -> list[Drawing]:
        latest = "SELECT id FROM current WHERE room = ?" if step is None else "SELECT id FROM current_in_step WHERE room = ? AND step = ?"
        args = (code,) if step is None else (code, step)
        rows = self._read(f"SELECT {COLUMNS} WHERE d.id IN ({latest}) AND d.hidden = 0 ORDER BY d.id", args)
        return [_drawing(row) for row in rows]

    def _counts(self, code: str) -> tuple[int, int]:
        rows = self._read("SELECT students, drawings FROM rooms WHERE code = ?", (code,))
        return tuple(rows[0]) if rows else (0, 0)

    def _all(self, code: str) -> list[Drawing]:
        return [_drawing(row) for row in self._read(f"SELECT {COLUMNS} WHERE d.room = ? ORDER BY d.id", (code,))]

    def _hide(self, code: str, drawing_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE drawings SET hidden = 1, rev = ? WHERE room = ? AND id = ?", (_bump(db, code), code, drawing_id))

    def _lock(self, code: str, locked: bool) -> None:
        with self._write() as db:
            db.execute("UPDATE rooms SET locked = ? WHERE code = ?", (int(locked), code))

    def _set(self, code: str, setting: str, value: int) -> None:
        assert setting in core.SETTINGS  # a column's name, never a user's text
        with self._write() as db:
            db.execute(f"UPDATE rooms SET {setting} = ? WHERE code = ?", (value, code))

    def _star(self, code: str, drawing_id: int, on: bool) -> None:
        with self._write() as db:
            db.execute("UPDATE drawings SET starred = ?, rev = ? WHERE room = ? AND id = ?", (int(on), _bump(db, code), code, drawing_id))

    def _starred(self, code: str) -> dict[int, str]:
        return dict(self._read("SELECT id, student FROM drawings WHERE room = ? AND starred = 1 AND hidden = 0", (code,)))

    def _door(self, code: str, open_: bool) -> None:
        with self._write() as db:
            db.execute("UPDATE rooms SET door = ? WHERE code = ?", (int(open_), code))

    def _remove(self, code: str, student: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO removed VALUES (?, ?)", (code, student))
            db.execute("UPDATE drawings SET hidden = 1, rev = ? WHERE room = ? AND student = ?", (_bump(db, code), code, student))

    def _clear(self, code: str) -> None:
        with self._write() as db:
            self._delete(db, code)
            db.execute("UPDATE rooms SET epoch = epoch + 1 WHERE code = ?", (code,))

    @staticmethod
    def _delete(db, code: str) -> None:
        db.execute("DELETE FROM drawings WHERE room = ?", (code,))
        db.execute("DELETE FROM students WHERE room = ?", (code,))
        db.execute("DELETE FROM current WHERE room = ?", (code,))
        db.execute("DELETE FROM current_in_step WHERE room = ?", (code,))
        db.execute("UPDATE rooms SET students = 0, drawings = 0 WHERE code = ?", (code,))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception), holding the connection's lock: one
    writer at a time in this process, and in every other (SQLite's own lock), no lost update."""

    def __init__(self, db: sqlite3.Connection, lock):
        self.db, self.lock = db, lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        try:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self.lock.release()


def _bump(db, code: str) -> int:
    """The room's next rev, for the drawings a change touches."""
    return db.execute("UPDATE rooms SET rev = rev + 1 WHERE code = ? RETURNING rev", (code,)).fetchall()[0][0]


def _drawing(row) -> Drawing:
    pixels = np.frombuffer(row[3], np.uint8).reshape(28, 28)
    code = np.frombuffer(row[4], np.float32)
    return Drawing(
        row[0], row[1], row[2], pixels, code, row[5], row[6], row[7], bool(row[8]), int(row[9]), int(row[10]), bool(row[11]), int(row[12])
    )
