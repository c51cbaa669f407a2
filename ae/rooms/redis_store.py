"""Rooms in Redis, for several app servers sharing them (`AE_ROOMS=redis://host:port/0`).

A room is a few keys under `ae:room:<code>`, all expiring with the room. An addition is one Lua
script, atomic on the Redis server: the limits hold however many app servers write at once.
"""

from __future__ import annotations

import json
import struct
from dataclasses import replace

import numpy as np
import redis

from ae.rooms import core
from ae.rooms.core import Drawing, Room

ADD = """
local room, students, drawings, current, seq, rate, removed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local in_step, seats, open, revs, hidden = KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]
local student, now = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', room) == 0 then return {0, 'gone'} end
if redis.call('HGET', room, 'locked') == '1' then return {0, 'locked'} end
if redis.call('HGET', room, 'pens_down') == '1' then return {0, 'pens_down'} end
if (redis.call('HGET', room, 'step') or '0') ~= ARGV[7] then return {0, 'moved'} end
if redis.call('SISMEMBER', removed, student) == 1 then return {0, 'removed'} end
local known = redis.call('SISMEMBER', students, student) == 1
if not known and redis.call('HGET', room, 'door') == '0' then return {0, 'door'} end
if not known and redis.call('SCARD', students) >= tonumber(ARGV[4]) then return {0, 'students'} end
redis.call('ZREMRANGEBYSCORE', rate, '-inf', now - 1.0)
if redis.call('ZCARD', rate) >= tonumber(ARGV[6]) then return {0, 'rate'} end
local id = nil
local was = ARGV[8] == '0' and redis.call('HGET', open, student)
if was then  -- the open drawing grows, while it is in this step and shown
  local at = string.find(was, ':')
  local open_id, open_step = string.sub(was, 1, at - 1), string.sub(was, at + 1)
  if open_step == ARGV[7] and redis.call('SISMEMBER', hidden, open_id) == 0 and redis.call('HEXISTS', drawings, open_id) == 1 then
    id = tonumber(open_id)
  end
end
if not id then
  if redis.call('HLEN', drawings) >= tonumber(ARGV[5]) then return {0, 'drawings'} end
  id = redis.call('INCR', seq)
end
local rev = redis.call('HINCRBY', room, 'rev', 1)
redis.call('ZADD', rate, now, rev)
redis.call('PEXPIRE', rate, 2000)
if not known then
  redis.call('SADD', students, student)
  redis.call('HSET', seats, student, redis.call('SCARD', students))
end
redis.call('HSET', drawings, id, ARGV[3])
redis.call('HSET', current, student, id)
redis.call('HSET', in_step, student, id)
redis.call('HSET', open, student, id .. ':' .. ARGV[7])
redis.call('ZADD', revs, rev, id)
local expires = math.ceil(tonumber(redis.call('HGET', room, 'expires')))
for _, i in ipairs({2, 3, 4, 5, 8, 9, 10, 11}) do redis.call('EXPIREAT', KEYS[i], expires) end
return {id, 'ok', tonumber(redis.call('HGET', seats, student) or '0'), rev}
"""
TOUCH = """
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
for _, id in ipairs(ARGV) do redis.call('ZADD', KEYS[2], rev, id) end
redis.call('EXPIREAT', KEYS[2], math.ceil(tonumber(redis.call('HGET', KEYS[1], 'expires'))))
return rev
"""
MOVES = 5  # tries of an addition while the teacher changes the lesson's step under it


class RedisStore(core.Store):
    def __init__(self, url: str):
        self.redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)
        self.add_script = self.redis.register_script(ADD)
        self.touch_script = self.redis.register_script(TOUCH)  # the drawings a teacher's change touched, stamped with the room's next rev

    @staticmethod
    def _keys(code: str) -> dict[str, str]:
        base = f"ae:room:{code}"
        parts = ("room", "students", "drawings", "current", "seq", "hidden", "removed", "seats", "starred", "open", "revs")
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
            "step": 0,
            "pens_down": 0,
            "names_hidden": 0,
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
            int(f.get(b"step") or 0),
            f.get(b"pens_down") == b"1",
            f.get(b"names_hidden") == b"1",
        )

    def _secret_hash(self, code: str) -> str | None:
        value = self.redis.hget(self._keys(code)["room"], "secret")
        return value.decode() if value else None

    def _add(self, room, student, nickname, pixels, z, shares, now, fresh) -> Drawing:
        k = self._keys(room.code)
        step = room.step
        for _ in range(MOVES):  # the drawing is kept under the step the room is at when it is stored
            head = json.dumps(
                {"student": student, "nickname": nickname, "error_share": shares[0], "code_share": shares[1], "time": now, "step": step}
            ).encode()
            payload = struct.pack(">I", len(head)) + head + pixels.tobytes() + z.tobytes()
            rate = f"{k['room']}:rate:{student}"
            args = [student, repr(now), payload, core.MAX_STUDENTS, core.MAX_DRAWINGS, core.PER_SECOND, str(step), int(fresh)]
            keys = [
                k["room"],
                k["students"],
                k["drawings"],
                k["current"],
                k["seq"],
                rate,
                k["removed"],
                self._in_step(room.code, step),
                k["seats"],
                k["open"],
                k["revs"],
                k["hidden"],
            ]
            drawing_id, status, *placed = self.add_script(keys=keys, args=args)
            status = status.decode() if isinstance(status, bytes) else status
            if status != "moved":
                break
            step = int(self.redis.hget(k["room"], "step") or 0)
        if status != "ok":
            raise core.refused(status)
        seat, rev = placed
        return Drawing(int(drawing_id), student, nickname, pixels, z, shares[0], shares[1], now, False, step, int(seat), rev=int(rev))

    def _in_step(self, code: str, step: int) -> str:
        return f"{self._keys(code)['current']}:{step}"

    def _drawings(self, code: str, ids) -> list[Drawing]:
        k = self._keys(code)
        ids = sorted(int(i) for i in ids)
        if not ids:
            return []
        pipe = self.redis.pipeline()
        pipe.smembers(k["hidden"])
        pipe.smembers(k["starred"])
        pipe.hgetall(k["seats"])
        pipe.hmget(k["drawings"], ids)
        pipe.zmscore(k["revs"], ids)
        hidden, starred, seats, payloads, revs = pipe.execute()
        hidden, starred = {int(i) for i in hidden}, {int(i) for i in starred}
        seats = {s.decode(): int(n) for s, n in seats.items()}
        drawings = ((_drawing(i, p, i in hidden, i in starred), r) for i, p, r in zip(ids, payloads, revs) if p is not None)
        return [replace(d, seat=seats.get(d.student, 0), rev=int(r or 0)) for d, r in drawings]

    def _marks(self, code: str) -> tuple[int, int]:
        epoch, rev = self.redis.hmget(self._keys(code)["room"], ["epoch", "rev"])
        return int(epoch or 0), int(rev or 0)

    def _changes(self, code: str, since: int) -> list[Drawing]:
        ids = self.redis.zrangebyscore(self._keys(code)["revs"], f"({since}", "+inf")
        return sorted(self._drawings(code, ids), key=lambda d: (d.rev, d.id))

    def _some(self, code: str, ids: list[int]) -> list[Drawing]:
        return self._drawings(code, ids)

    def _touch(self, pipe, code: str, ids) -> None:
        k = self._keys(code)
        self.touch_script(keys=[k["room"], k["revs"]], args=list(ids), client=pipe)

    def _current(self, code: str, step: int | None) -> list[Drawing]:
        latest = self._keys(code)["current"] if step is None else self._in_step(code, step)
        return [d for d in self._drawings(code, self.redis.hvals(latest)) if not d.hidden]

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
        self._touch(pipe, code, [drawing_id])
        pipe.execute()

    def _set(self, code: str, setting: str, value: int) -> None:
        assert setting in core.SETTINGS
        self.redis.hset(self._keys(code)["room"], setting, value)

    def _star(self, code: str, drawing_id: int, on: bool) -> None:
        k = self._keys(code)
        if on and not self.redis.hexists(k["drawings"], drawing_id):
            return
        pipe = self.redis.pipeline()
        if on:
            pipe.sadd(k["starred"], drawing_id)
            pipe.expireat(k["starred"], int(self._get(code).expires) + 1)
        else:
            pipe.srem(k["starred"], drawing_id)
        self._touch(pipe, code, [drawing_id])
        pipe.execute()

    def _starred(self, code: str) -> dict[int, str]:
        k = self._keys(code)
        ids = sorted(int(i) for i in self.redis.sdiff(k["starred"], k["hidden"]))
        payloads = self.redis.hmget(k["drawings"], ids) if ids else []
        return {i: _drawing(i, p, False, True).student for i, p in zip(ids, payloads) if p is not None}

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
            self._touch(pipe, code, theirs)
        pipe.execute()

    def _lock(self, code: str, locked: bool) -> None:
        self.redis.hset(self._keys(code)["room"], "locked", int(locked))

    def _clear(self, code: str) -> None:
        k = self._keys(code)
        steps = list(self.redis.scan_iter(match=f"{k['current']}:*", count=100))  # each step's current drawings
        pipe = self.redis.pipeline()
        pipe.delete(k["students"], k["drawings"], k["current"], k["hidden"], k["seats"], k["starred"], k["open"], k["revs"], *steps)
        pipe.hincrby(k["room"], "epoch", 1)  # seq and rev stay: ids never repeat
        pipe.execute()


def _drawing(drawing_id: int, payload: bytes, hidden: bool, starred: bool) -> Drawing:
    (size,) = struct.unpack(">I", payload[:4])
    head = json.loads(payload[4 : 4 + size])
    body = payload[4 + size :]
    pixels = np.frombuffer(body[:784], np.uint8).reshape(28, 28)
    code = np.frombuffer(body[784:], np.float32)
    return Drawing(
        drawing_id,
        head["student"],
        head["nickname"],
        pixels,
        code,
        head["error_share"],
        head["code_share"],
        head["time"],
        hidden,
        step=head.get("step", 0),
        starred=starred,
    )
