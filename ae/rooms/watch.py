"""A room's state as the students' pages follow it (ae/web.py's /ae/room/<code>), and its map's
tag as the teacher's page follows it (/ae/room/<code>/map): a page asks with the tag it holds and
is answered when the tag is another, or after WAIT seconds.
However many pages wait, the store is read once per POLL seconds per room and process, and a change
answers them all: a teacher's click reaches a class of hundreds in about POLL seconds, on this server
or another one sharing the store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from ae import rooms

POLL = 0.2  # seconds between reads of the store while a page waits
WAIT = 20.0  # seconds a page's question is held at most, well inside a proxy's read timeout


def _room_state(code: str) -> dict | None:
    return rooms.shared_store().state(code)


@dataclass
class Watch:
    code: str
    read_state: Callable[[str], dict | None] = _room_state  # the store read: a dict with a "tag", or None
    state: dict | None = None
    read: float = 0.0  # when the state was read (time.monotonic)
    waiting: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    reading: asyncio.Task | None = None  # the read of the store under way, which every page awaits


async def _fresh(watch: Watch) -> None:
    """The state read now, or by the read already under way: one read at a time per room."""
    if watch.reading is None:
        watch.reading = asyncio.create_task(_read(watch))
        watch.reading.add_done_callback(lambda _: setattr(watch, "reading", None))
    await asyncio.shield(watch.reading)


_watches: dict[tuple, Watch] = {}


async def _read(watch: Watch) -> None:
    state = await run_in_threadpool(watch.read_state, watch.code)  # the store may be a network away
    watch.read = time.monotonic()
    if state != watch.state:
        watch.state = state
        _wake(watch)


def _wake(watch: Watch) -> None:
    """Every page waiting on this room answered; the next ones wait for the next change."""
    woken, watch.changed = watch.changed, asyncio.Event()
    woken.set()


async def _poll(watch: Watch) -> None:
    try:
        while watch.waiting and watch.state is not None:
            await asyncio.sleep(POLL)
            await _fresh(watch)
    except rooms.Unavailable:
        _wake(watch)  # the pages are answered with the store's silence, and ask again later
    finally:
        watch.task = None
        if not watch.waiting:
            _watches.pop((watch.read_state, watch.code), None)


async def state_after(code: str, since: str | None, wait: float | None = None, read=_room_state) -> dict | None:
    """The room's state (`read`: Store.state, or another read with a tag) once its tag is not
    `since` (at once where it is not), or as it is after `wait` seconds; None where there is no
    such room. rooms.Unavailable where the store is silent."""
    key = (read, code)
    watch = _watches.setdefault(key, Watch(code, read))
    if watch.task is None and time.monotonic() - watch.read > POLL:
        await _fresh(watch)
    deadline = time.monotonic() + (WAIT if wait is None else wait)
    watch.waiting += 1
    try:
        while watch.state is not None and watch.state["tag"] == since and (left := deadline - time.monotonic()) > 0:
            if watch.task is None:
                watch.task = asyncio.create_task(_poll(watch))
            try:
                await asyncio.wait_for(watch.changed.wait(), left)
            except TimeoutError:
                break
            if watch.task is None and watch.state is not None and time.monotonic() - watch.read > POLL:
                await _fresh(watch)  # the poll stopped on the store's silence: this raises it, or reads on
    finally:
        watch.waiting -= 1
        if not watch.waiting and watch.task is None:
            _watches.pop(key, None)
    return watch.state
