"""Rooms in Redis, for several app servers sharing them (`AE_ROOMS=redis://host:port/0`).

A room is a few keys under `ae:room:<code>`, all expiring with the room. An addition is one Lua
script, atomic on the Redis server: the limits hold however many app servers write at once.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import redis

from ae import rooms
from ae.rooms import Drawing, Room

ADD = """
local room, students, drawings, current, seq, rate, removed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local student, now = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', room) == 0 then return {0, 'gone'} end
if redis.call('HGET', room, 'locked') == '1' then return {0, 'locked'} end
if redis.call('SISMEMBER', removed, student) == 1 then return {0, 'removed'} end
local known = redis.call('SISMEMBER', students, student) == 1
if not known and redis.call('HGET', room, 'door') == '0' then return {0, 'door'} end
if not known and redis.call('SCARD', students) >= tonumber(ARGV[4]) then return {0, 'students'} end
if redis.call('HLEN', drawings) >= tonumber(ARGV[5]) then return {0, 'drawings'} end
redis.call('ZREMRANGEBYSCORE', rate, '-inf', now - 1.0)
if redis.call('ZCARD', rate) >= tonumber(ARGV[6]) then return {0, 'rate'} end
local id = redis.call('INCR', seq)
redis.call('ZADD', rate, now, id)
redis.call('PEXPIRE', rate, 2000)
redis.call('SADD', students, student)
redis.call('HSET', drawings, id, ARGV[3])
redis.call('HSET', current, student, id)
local expires = math.ceil(tonumber(redis.call('HGET', room, 'expires')))
for i = 2, 5 do redis.call('EXPIREAT', KEYS[i], expires) end
return {id, 'ok'}
"""


class RedisStore(rooms.Store):
    def __init__(self, url: str):
        self.redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)
        self.add_script = self.redis.register_script(ADD)

    @staticmethod
    def _keys(code: str) -> dict[str, str]:
        base = f"ae:room:{code}"
        parts = ("room", "students", "drawings", "current", "seq", "hidden", "removed")
        return {part: f"{base}:{part}" if part != "room" else base for part in parts}

    def _create(self, room: Room, secret_hash: str) -> bool:
        key = self._keys(room.code)["room"]
        fields = {
            "secret": secret_hash,
            "model": room.model,
            "latent_dim": room.latent_dim,
            "created": room.created,
            "expires": room.expires,
            "locked": 0,
        }
        if not self.redis.hsetnx(key, "secret", secret_hash):
            return False
        pipe = self.redis.pipeline()
        pipe.hset(key, mapping=fields)
        pipe.expireat(key, int(room.expires) + 1)
        pipe.execute()
        return True

    def _get(self, code: str) -> Room | None:
        f = self.redis.hgetall(self._keys(code)["room"])
        if not f or b"model" not in f:
            return None
        return Room(
            code,
            f[b"model"].decode(),
            int(f[b"latent_dim"]),
            float(f[b"created"]),
            float(f[b"expires"]),
            f[b"locked"] == b"1",
            f.get(b"door") != b"0",
        )

    def _secret_hash(self, code: str) -> str | None:
        value = self.redis.hget(self._keys(code)["room"], "secret")
        return value.decode() if value else None

    def _add(self, room, student, nickname, pixels, z, shares, now) -> Drawing:
        k = self._keys(room.code)
        head = json.dumps(
            {"student": student, "nickname": nickname, "error_share": shares[0], "code_share": shares[1], "time": now}
        ).encode()
        payload = struct.pack(">I", len(head)) + head + pixels.tobytes() + z.tobytes()
        rate = f"{k['room']}:rate:{student}"
        args = [student, repr(now), payload, rooms.MAX_STUDENTS, rooms.MAX_DRAWINGS, rooms.PER_SECOND]
        keys = [k["room"], k["students"], k["drawings"], k["current"], k["seq"], rate, k["removed"]]
        drawing_id, status = self.add_script(keys=keys, args=args)
        status = status.decode() if isinstance(status, bytes) else status
        if status != "ok":
            raise rooms.refused(status)
        return Drawing(int(drawing_id), student, nickname, pixels, z, shares[0], shares[1], now, False)

    def _drawings(self, code: str, ids) -> list[Drawing]:
        k = self._keys(code)
        ids = sorted(int(i) for i in ids)
        if not ids:
            return []
        hidden = {int(i) for i in self.redis.smembers(k["hidden"])}
        payloads = self.redis.hmget(k["drawings"], ids)
        return [_drawing(i, p, i in hidden) for i, p in zip(ids, payloads) if p is not None]

    def _current(self, code: str) -> list[Drawing]:
        return [d for d in self._drawings(code, self.redis.hvals(self._keys(code)["current"])) if not d.hidden]

    def _counts(self, code: str) -> tuple[int, int]:
        k = self._keys(code)
        pipe = self.redis.pipeline()
        pipe.scard(k["students"])
        pipe.hlen(k["drawings"])
        students, drawings = pipe.execute()
        return int(students), int(drawings)

    def _all(self, code: str) -> list[Drawing]:
        return self._drawings(code, self.redis.hkeys(self._keys(code)["drawings"]))

    def _hide(self, code: str, drawing_id: int) -> None:
        k = self._keys(code)
        expires = self._get(code).expires
        pipe = self.redis.pipeline()
        pipe.sadd(k["hidden"], drawing_id)
        pipe.expireat(k["hidden"], int(expires) + 1)
        pipe.execute()

    def _door(self, code: str, open_: bool) -> None:
        self.redis.hset(self._keys(code)["room"], "door", int(open_))

    def _remove(self, code: str, student: str) -> None:
        k = self._keys(code)
        expires = int(self._get(code).expires) + 1
        theirs = [d.id for d in self._all(code) if d.student == student]  # a teacher's click: every drawing read once
        pipe = self.redis.pipeline()
        pipe.sadd(k["removed"], student)
        pipe.expireat(k["removed"], expires)
        if theirs:
            pipe.sadd(k["hidden"], *theirs)
            pipe.expireat(k["hidden"], expires)
        pipe.execute()

    def _lock(self, code: str, locked: bool) -> None:
        self.redis.hset(self._keys(code)["room"], "locked", int(locked))

    def _clear(self, code: str) -> None:
        k = self._keys(code)
        self.redis.delete(k["students"], k["drawings"], k["current"], k["hidden"])  # seq stays: ids never repeat


def _drawing(drawing_id: int, payload: bytes, hidden: bool) -> Drawing:
    (size,) = struct.unpack(">I", payload[:4])
    head = json.loads(payload[4 : 4 + size])
    body = payload[4 + size :]
    pixels = np.frombuffer(body[:784], np.uint8).reshape(28, 28)
    code = np.frombuffer(body[784:], np.float32)
    return Drawing(
        drawing_id, head["student"], head["nickname"], pixels, code, head["error_share"], head["code_share"], head["time"], hidden
    )
