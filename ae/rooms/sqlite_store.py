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

from ae import rooms
from ae.rooms import Drawing, Room

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
"""
ADDED_COLUMNS = {"door": "ALTER TABLE rooms ADD COLUMN door INTEGER NOT NULL DEFAULT 1"}  # files made before them
COLUMNS = "id, student, nickname, pixels, code, error_share, code_share, time, hidden"


class SqliteStore(rooms.Store):
    def __init__(self, path: str):
        self.path = path
        self.mutex = threading.RLock()
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: a crash of the app loses nothing committed
        self.db.execute("PRAGMA busy_timeout=30000")
        with self.mutex:
            self.db.executescript(SCHEMA)
            have = {row[1] for row in self.db.execute("PRAGMA table_info(rooms)")}
            for column, sql in ADDED_COLUMNS.items():
                if column not in have:
                    self.db.execute(sql)

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
        rows = self._read("SELECT code, model, latent_dim, created, expires, locked, door FROM rooms WHERE code = ?", (code,))
        return Room(*rows[0][:5], bool(rows[0][5]), bool(rows[0][6])) if rows else None

    def _secret_hash(self, code: str) -> str | None:
        rows = self._read("SELECT secret FROM rooms WHERE code = ?", (code,))
        return rows[0][0] if rows else None

    def _add(self, room, student, nickname, pixels, z, shares, now) -> Drawing:
        with self._write() as db:
            row = db.execute("SELECT locked, students, drawings, door FROM rooms WHERE code = ?", (room.code,)).fetchone()
            if row is None:
                raise rooms.refused("gone")
            locked, students, drawings, door = row
            if locked:
                raise rooms.refused("locked")
            if db.execute("SELECT 1 FROM removed WHERE room = ? AND student = ?", (room.code, student)).fetchone():
                raise rooms.refused("removed")
            known = db.execute("SELECT 1 FROM students WHERE room = ? AND student = ?", (room.code, student)).fetchone()
            if not known and not door:
                raise rooms.refused("door")
            if not known and students >= rooms.MAX_STUDENTS:
                raise rooms.refused("students")
            if drawings >= rooms.MAX_DRAWINGS:
                raise rooms.refused("drawings")
            recent = db.execute(
                "SELECT COUNT(*) FROM drawings WHERE room = ? AND student = ? AND time > ?", (room.code, student, now - 1.0)
            ).fetchone()[0]
            if recent >= rooms.PER_SECOND:
                raise rooms.refused("rate")
            if not known:
                db.execute("INSERT INTO students VALUES (?, ?)", (room.code, student))
            db.execute("UPDATE rooms SET students = students + ?, drawings = drawings + 1 WHERE code = ?", (0 if known else 1, room.code))
            cursor = db.execute(
                "INSERT INTO drawings (room, student, nickname, pixels, code, error_share, code_share, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (room.code, student, nickname, pixels.tobytes(), z.tobytes(), shares[0], shares[1], now),
            )
            db.execute(
                "INSERT INTO current VALUES (?, ?, ?) ON CONFLICT (room, student) DO UPDATE SET id = excluded.id",
                (room.code, student, cursor.lastrowid),
            )
        return Drawing(cursor.lastrowid, student, nickname, pixels, z, shares[0], shares[1], now, False)

    def _current(self, code: str) -> list[Drawing]:
        rows = self._read(
            f"SELECT {COLUMNS} FROM drawings WHERE id IN (SELECT id FROM current WHERE room = ?) AND hidden = 0 ORDER BY id", (code,)
        )
        return [_drawing(row) for row in rows]

    def _counts(self, code: str) -> tuple[int, int]:
        rows = self._read("SELECT students, drawings FROM rooms WHERE code = ?", (code,))
        return tuple(rows[0]) if rows else (0, 0)

    def _all(self, code: str) -> list[Drawing]:
        return [_drawing(row) for row in self._read(f"SELECT {COLUMNS} FROM drawings WHERE room = ? ORDER BY id", (code,))]

    def _hide(self, code: str, drawing_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE drawings SET hidden = 1 WHERE room = ? AND id = ?", (code, drawing_id))

    def _lock(self, code: str, locked: bool) -> None:
        with self._write() as db:
            db.execute("UPDATE rooms SET locked = ? WHERE code = ?", (int(locked), code))

    def _door(self, code: str, open_: bool) -> None:
        with self._write() as db:
            db.execute("UPDATE rooms SET door = ? WHERE code = ?", (int(open_), code))

    def _remove(self, code: str, student: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO removed VALUES (?, ?)", (code, student))
            db.execute("UPDATE drawings SET hidden = 1 WHERE room = ? AND student = ?", (code, student))

    def _clear(self, code: str) -> None:
        with self._write() as db:
            self._delete(db, code)

    @staticmethod
    def _delete(db, code: str) -> None:
        db.execute("DELETE FROM drawings WHERE room = ?", (code,))
        db.execute("DELETE FROM students WHERE room = ?", (code,))
        db.execute("DELETE FROM current WHERE room = ?", (code,))
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


def _drawing(row) -> Drawing:
    pixels = np.frombuffer(row[3], np.uint8).reshape(28, 28)
    return Drawing(row[0], row[1], row[2], pixels, np.frombuffer(row[4], np.float32), row[5], row[6], row[7], bool(row[8]))
