"""Rooms in one SQLite file (the standard library's; WAL, so readers never wait for the writer).

A connection per thread (Streamlit runs each rerun in a thread of its own); an addition is one
IMMEDIATE transaction, so the limits hold however many sessions write at once, and a committed
drawing survives the app server being killed.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import numpy as np

from ae import rooms
from ae.rooms import Drawing, Room

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (code TEXT PRIMARY KEY, secret TEXT NOT NULL, model TEXT NOT NULL,
  latent_dim INTEGER NOT NULL, created REAL NOT NULL, expires REAL NOT NULL, locked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS students (room TEXT NOT NULL, student TEXT NOT NULL, PRIMARY KEY (room, student));
CREATE TABLE IF NOT EXISTS drawings (id INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL,
  student TEXT NOT NULL, nickname TEXT NOT NULL, pixels BLOB NOT NULL, code BLOB NOT NULL,
  error_share REAL, code_share REAL, time REAL NOT NULL, hidden INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS drawings_by_student ON drawings (room, student, id);
"""
COLUMNS = "id, student, nickname, pixels, code, error_share, code_share, time, hidden"


class SqliteStore(rooms.Store):
    def __init__(self, path: str):
        self.path = path
        self.local = threading.local()
        with self._db() as db:
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # with WAL: a crash of the app loses nothing committed
            db.execute("PRAGMA busy_timeout=30000")
            self.local.db = db
        return db

    def _write(self):
        return _Transaction(self._db())

    def _create(self, room: Room, secret_hash: str) -> bool:
        with self._write() as db:
            expired = [r[0] for r in db.execute("SELECT code FROM rooms WHERE expires < ?", (time.time(),))]
            for code in expired:  # the old rooms go when a new one is made
                self._delete(db, code)
                db.execute("DELETE FROM rooms WHERE code = ?", (code,))
            try:
                db.execute("INSERT INTO rooms VALUES (?, ?, ?, ?, ?, ?, 0)",
                           (room.code, secret_hash, room.model, room.latent_dim, room.created, room.expires))  # fmt: skip
            except sqlite3.IntegrityError:
                return False
        return True

    def _get(self, code: str) -> Room | None:
        row = self._db().execute("SELECT code, model, latent_dim, created, expires, locked FROM rooms WHERE code = ?", (code,)).fetchone()
        return Room(row[0], row[1], row[2], row[3], row[4], bool(row[5])) if row else None

    def _secret_hash(self, code: str) -> str | None:
        row = self._db().execute("SELECT secret FROM rooms WHERE code = ?", (code,)).fetchone()
        return row[0] if row else None

    def _add(self, room, student, nickname, pixels, z, shares, now) -> Drawing:
        with self._write() as db:
            locked = db.execute("SELECT locked FROM rooms WHERE code = ?", (room.code,)).fetchone()
            if locked is None:
                raise rooms.refused("gone")
            if locked[0]:
                raise rooms.refused("locked")
            known = db.execute("SELECT 1 FROM students WHERE room = ? AND student = ?", (room.code, student)).fetchone()
            if not known and db.execute("SELECT COUNT(*) FROM students WHERE room = ?", (room.code,)).fetchone()[0] >= rooms.MAX_STUDENTS:
                raise rooms.refused("students")
            if db.execute("SELECT COUNT(*) FROM drawings WHERE room = ?", (room.code,)).fetchone()[0] >= rooms.MAX_DRAWINGS:
                raise rooms.refused("drawings")
            recent = db.execute("SELECT COUNT(*) FROM drawings WHERE room = ? AND student = ? AND time > ?", (room.code, student, now - 1.0)).fetchone()[0]
            if recent >= rooms.PER_SECOND:
                raise rooms.refused("rate")
            if not known:
                db.execute("INSERT INTO students VALUES (?, ?)", (room.code, student))
            cursor = db.execute(
                "INSERT INTO drawings (room, student, nickname, pixels, code, error_share, code_share, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (room.code, student, nickname, pixels.tobytes(), z.tobytes(), shares[0], shares[1], now),
            )
        return Drawing(cursor.lastrowid, student, nickname, pixels, z, shares[0], shares[1], now, False)

    def _current(self, code: str) -> list[Drawing]:
        rows = self._db().execute(
            f"SELECT {COLUMNS} FROM drawings WHERE id IN (SELECT MAX(id) FROM drawings WHERE room = ? GROUP BY student) AND hidden = 0 ORDER BY id",
            (code,),
        )
        return [_drawing(row) for row in rows]

    def _counts(self, code: str) -> tuple[int, int]:
        db = self._db()
        students = db.execute("SELECT COUNT(*) FROM students WHERE room = ?", (code,)).fetchone()[0]
        return students, db.execute("SELECT COUNT(*) FROM drawings WHERE room = ?", (code,)).fetchone()[0]

    def _all(self, code: str) -> list[Drawing]:
        return [_drawing(row) for row in self._db().execute(f"SELECT {COLUMNS} FROM drawings WHERE room = ? ORDER BY id", (code,))]

    def _hide(self, code: str, drawing_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE drawings SET hidden = 1 WHERE room = ? AND id = ?", (code, drawing_id))

    def _lock(self, code: str, locked: bool) -> None:
        with self._write() as db:
            db.execute("UPDATE rooms SET locked = ? WHERE code = ?", (int(locked), code))

    def _clear(self, code: str) -> None:
        with self._write() as db:
            self._delete(db, code)

    @staticmethod
    def _delete(db, code: str) -> None:
        db.execute("DELETE FROM drawings WHERE room = ?", (code,))
        db.execute("DELETE FROM students WHERE room = ?", (code,))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception): one writer at a time, no lost update."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _drawing(row) -> Drawing:
    pixels = np.frombuffer(row[3], np.uint8).reshape(28, 28)
    return Drawing(row[0], row[1], row[2], pixels, np.frombuffer(row[4], np.float32), row[5], row[6], row[7], bool(row[8]))
