"""The class in the app: which room a page is in (from its link, kept for the session), a
student's drawing sent to it, and what the teacher's map shows. The store is ae.rooms; pages
never see SQL or Redis.

Links: a student joins at `draw?room=CODE`; who they are is kept by their browser as a cookie for
the room (ae/web.py's /ae/me), never in the address bar, so a reload is the same student and a link
they copy is nobody. The teacher's key is kept likewise (/ae/teach).
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import hmac
import html
import io
import json
import os
import re
import secrets
import threading
import time

import numpy as np
import streamlit as st
from PIL import Image

from ae import latent, live, meter, quality, rooms
from ae.rooms import Drawing, Room
from ae.ui import catalog, lesson

ROOM_KEY = "class_room"  # session: the room's code this session is in
TEACHER_KEY = "class_teacher"  # session: the teacher's secret, where this session runs the room
STUDENT_KEY = "class_student"  # session: this student's token
NICKNAME_KEY = "class_nickname"
SENT_KEY = "class_sent"  # session: the canvas, stroke count and drawing last sent, and what came of it
FORGET_KEY = "class_forget"  # session: the room whose teacher's key this device is to forget
UNREACHABLE_SAID = "class_unreachable_said"  # session: the run that said the store does not answer
WORDS = {  # what a student's page says of the room (ae/live/frontend/follow.js, draw.js)
    "pens_down": rooms.PENS_DOWN,
    "picked": "★ Your teacher picked one of your drawings to talk about.",
    "sent": "✓ On the class map",  # a stroke the page posted (draw.js), stored
    "moved": "Your teacher moved the class to {}…",  # a lesson's step, heard on a page that must rerun to show it
    "ended": "Your teacher ended the lesson…",
    "steps": [lesson.heading(n) for n in range(1, len(lesson.STEPS) + 1)],
}


def store() -> rooms.Store:
    """The store $AE_ROOMS names (one per process and location, not in Streamlit's caches)."""
    return rooms.shared_store()


def reached(fn, default=None):
    """fn() where the store answers; else `default`, and the page says so once a run (one sentence;
    a fragment's run, the map's refresh, says it again in its place)."""
    try:
        return fn()
    except rooms.Unavailable:
        if not _unreachable_said():
            st.session_state[UNREACHABLE_SAID] = _this_run()
            st.warning(rooms.UNREACHABLE, icon=":material/cloud_off:")
        return default


RUN_MEMO = "class_run_memo"  # session: what this run read of the store (a run reads a room's row once, not six times)


def once_a_run(key: tuple, fn):
    """fn()'s answer, asked once in this run (a page's or a fragment's): the pages of one run see
    one room, and a rerun reads the store afresh."""
    run = _this_run()
    memo = st.session_state.get(RUN_MEMO)
    if run is None or memo is None or memo[0] is not run:
        memo = (run, {})
        if run is not None:
            st.session_state[RUN_MEMO] = memo
    if key not in memo[1]:
        memo[1][key] = fn()
    return memo[1][key]


def room_now(code: str) -> Room | None:
    return once_a_run(("room", code), lambda: store().get(code))


def state_now(code: str) -> dict | None:
    return once_a_run(("state", code), lambda: store().state(code))


def _this_run():
    """What tells this run (a whole page's or a fragment's) from the last: Streamlit's cursors, made anew for each."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.cursors if ctx is not None else None


def _unreachable_said() -> bool:
    return st.session_state.get(UNREACHABLE_SAID) is _this_run() is not None


def _param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if isinstance(value, str) and value else None


def joined_room() -> Room | None:
    """The room this page takes part in as a student: its link's, else the one joined earlier in
    this session; None outside a class (or with the class turned off)."""
    if not rooms.enabled() or teacher_room() is not None:  # a teacher is no student (a reload of the Class page included)
        return None
    code = _param("room") or st.session_state.get(ROOM_KEY)
    room = reached(lambda: room_now(code)) if code else None
    if room is None:
        return None
    st.session_state[ROOM_KEY] = room.code
    return room


def wrong_code() -> str | None:
    """One sentence when the link names a room that is not there (mistyped, ended), else None."""
    code = _param("room")
    if rooms.enabled() and code and reached(lambda: room_now(code), default=False) is None:
        return "This class has ended, or its code is wrong: ask your teacher for the link again. You can still draw on your own."
    return None


def teacher_room() -> tuple[Room, str] | None:
    """(room, secret) where this page runs a room: this session's, else the teacher's key kept on
    this device for the link's room (a cookie, ae/web.py), else an old-style link's ?teacher=."""
    if not rooms.enabled():
        return None
    code = _param("room") or st.session_state.get(ROOM_KEY)
    kept = st.context.cookies.get(f"{rooms.TEACHER_COOKIE}{rooms.normal_code(code or '')}") if code else None
    for secret in (st.session_state.get(TEACHER_KEY), kept, _param("teacher")):
        if code and secret and reached(lambda: store().is_teacher(code, secret), default=False):
            room = reached(lambda: room_now(code))
            if room is not None:
                st.session_state[ROOM_KEY], st.session_state[TEACHER_KEY] = room.code, secret
                return room, secret
    return None


def forged_teacher_link() -> bool:
    """Whether the page's link carries a teacher's secret that runs no room."""
    return bool(_param("room") and _param("teacher")) and teacher_room() is None and not _unreachable_said()


def leave() -> None:
    """This session leaves its room, and the page forgets the teacher's key on this device."""
    if st.session_state.get(TEACHER_KEY):
        st.session_state[FORGET_KEY] = st.session_state.get(ROOM_KEY)
    for key in (ROOM_KEY, TEACHER_KEY, SENT_KEY):
        st.session_state.pop(key, None)
    for name in ("room", "teacher", "me"):
        st.query_params.pop(name, None)


def student() -> str:
    """This session's student, bound the first time it is asked: the one this browser keeps for the
    room (a cookie: a reloaded page is the same student), else an old-style link's `me`, else a
    new one. Once bound, no later link makes it someone else, and a client address binds at most
    JOINS_PER_MINUTE sessions a minute (RoomError beyond). The address bar never carries it."""
    token = st.session_state.get(STUDENT_KEY)
    if token is None:
        address = client_address()
        if address is not None:  # a server always knows it; a test harness may not
            joined(address)
        code = rooms.normal_code(_param("room") or st.session_state.get(ROOM_KEY) or "") or ""
        kept = (st.context.cookies or {}).get(f"{rooms.STUDENT_COOKIE}{code}") if code else None
        token = next((t for t in (kept, _param("me")) if t and rooms.STUDENT_TOKEN.match(t)), None)
        if token and code and NICKNAME_KEY not in st.session_state:  # a student back: their nickname too
            st.session_state[NICKNAME_KEY] = reached(lambda: store().nickname(code, token), default="")
        token = st.session_state[STUDENT_KEY] = token or secrets.token_urlsafe(12)
    if "me" in st.query_params:
        st.query_params.pop("me")
    return token


def kept_student(code: str) -> str | None:
    """The student, bound now, where this browser does not keep them yet for the room (the Follow
    widget asks /ae/me to keep it), else None (kept, or too many joins from this address)."""
    try:
        token = student()
    except rooms.RoomError:
        return None
    return token if (st.context.cookies or {}).get(f"{rooms.STUDENT_COOKIE}{code}") != token else None


JOINS_PER_MINUTE = "AE_JOINS_PER_MINUTE"  # sessions one client address may join with in a minute (default 30)
TRUSTED_PROXIES = "AE_TRUSTED_PROXIES"  # addresses of proxies whose X-Forwarded-For names the client
_JOINS: dict[str, list[float]] = {}
_JOINS_LOCK = threading.Lock()


def client_address() -> str | None:
    """The client's address: the socket's, or behind a trusted proxy the one it forwarded."""
    address = st.context.ip_address
    trusted = {a.strip() for a in os.environ.get(TRUSTED_PROXIES, "").split(",") if a.strip()}
    forwarded = (st.context.headers or {}).get("X-Forwarded-For")
    if address in trusted and forwarded:
        return forwarded.split(",")[-1].strip()[:64]  # the last hop the trusted proxy added
    return address


def joins_per_minute() -> int:
    text = os.environ.get(JOINS_PER_MINUTE) or "30"
    try:
        return max(1, int(text))
    except ValueError:
        raise rooms.RoomError(
            f"This server's {JOINS_PER_MINUTE} is {text[:20]!r}, not a whole number: nobody can join until it is."
        ) from None


def joined(address: str, now: float | None = None) -> None:
    """Counts a session joining from this address; RoomError in one sentence past the limit."""
    now = time.monotonic() if now is None else now
    most = joins_per_minute()
    with _JOINS_LOCK:
        recent = [t for t in _JOINS.get(address, []) if t > now - 60]
        if len(recent) >= most:
            _JOINS[address] = recent
            raise rooms.RoomError(
                f"More than {most} pages joined classes from your network in the last minute: wait a moment, then draw again."
            )
        _JOINS[address] = [*recent, now]
        if len(_JOINS) > 10_000:  # addresses seen long ago go
            for key in [k for k, v in _JOINS.items() if not v or v[-1] < now - 60]:
                del _JOINS[key]


def room_model(room: Room) -> catalog.LoadedModel | None:
    """The room's model on this server, or None when this server does not have it."""
    return next((c for c in catalog.loaded_models() if c.name == room.model and c.model.latent_dim == room.latent_dim), None)


def send(room: Room, choice: catalog.LoadedModel, drawn, nickname: str, fresh: bool = True) -> None:
    """A student's drawing (ae.live.Drawn) to the room, with its code and "is this a digit?"
    shares: the page's where it ran the model (the store checks them), else the server's.
    `fresh`: a drawing begun, else the open one grown (Store.add). RoomError says why it was not stored."""
    digit, z, shares = drawn.digit, drawn.code, drawn.shares
    if z is None or len(z) != room.latent_dim:
        z, x_hat = catalog.rebuild(choice, digit)
        placed = choice.meter
        shares = placed.shares(quality.mse(digit, x_hat), z) if placed else (None, None)
    pixels = np.clip(np.round(digit * 255), 0, 255).astype(np.uint8)
    store().add(room.code, student(), nickname, pixels, z, shares or (None, None), fresh=fresh)


def take_part(room: Room, choice: catalog.LoadedModel, drawn, canvas: str) -> None:
    """A student's line by the canvas (the widget's key): which class, and whether its last stroke
    is on the class map (sending it once, when it is a finished stroke not yet sent).
    A stroke grows the drawing the canvas holds (the page counts its clears); the first one sent
    after a clear, or from a canvas this session has not sent from, begins a new one: the last is
    finished (docs/class.md)."""
    name = st.session_state.get(NICKNAME_KEY, "")
    sent = st.session_state.get(SENT_KEY)
    sent = sent if sent is not None and sent[0] == canvas else None  # another canvas's (another page's) says nothing here
    if drawn.posted is not None:  # the page stored it itself (take_stroke): what came of it
        st.session_state[SENT_KEY] = sent = (canvas, drawn.strokes, None if drawn.posted == "ok" else drawn.posted, None)
    elif drawn.digit is not None and (sent is None or sent[1] != drawn.strokes):
        grows = sent is not None and sent[3] == drawn.drawing
        try:
            send(room, choice, drawn, name, fresh=not grows)
            sent = (canvas, drawn.strokes, None, drawn.drawing)
        except rooms.RoomError as e:
            sent = (canvas, drawn.strokes, str(e), sent[3] if grows else None)
        st.session_state[SENT_KEY] = sent
    said = "" if sent is None else " · :material/check_circle: **On the class map**" if sent[2] is None else f" · {sent[2]}"
    st.markdown(f"You are in class **{pretty(room)}**: your drawings go to the class's map, anonymously{said}")


def nickname_field() -> None:
    """A student's nickname (optional), once a page and outside every step, so that a student who
    joins while a lesson runs has it too."""
    st.text_input(
        "Nickname (optional)",
        max_chars=20,
        key=NICKNAME_KEY,
        placeholder="Nickname (optional)",
        help="Shown with your drawings on the class's map; left empty, they are anonymous",
        width=220,
    )


def for_the_canvas(room: Room | None, quiet: bool = False) -> dict | None:
    """What the Draw widget needs of its room: the code (to hear the teacher's pens down and picks),
    this student's pick tag, the words, and what it posts a stroke with where its model ran (the
    student, a pass the server signed for them, the nickname: take_stroke). `quiet`: the page
    then tells the server nothing of a stroke it posted (no rerun: this page shows nothing of it)."""
    if room is None:
        return None
    try:
        token = student()  # bound here, at joining: a pick of theirs is known before they draw again
    except rooms.RoomError:
        token = None  # too many joins from this address: drawing alone goes on, and the send says why
    post = {"token": token, "pass": stroke_pass(room.code, token), "nickname": st.session_state.get(NICKNAME_KEY, ""), "quiet": quiet}
    return {
        "code": room.code,
        "pens_down": room.pens_down,
        "me": token and rooms.pick_tag(room.code, token),
        "post": post if token else None,
        "words": WORDS,
    }  # the rest from the page's Follow widget


def stroke_pass(code: str, token: str | None) -> str:
    """What lets a page post its student's strokes (take_stroke): signed with the server's cookie
    secret (the same on every replica behind a balancer), for a student a session bound."""
    from streamlit import config

    key = str(config.get_option("server.cookieSecret")).encode()
    return hmac.new(key, f"stroke {code} {token}".encode(), hashlib.sha256).hexdigest()[:32]


def take_stroke(code: str, sent) -> rooms.Drawing:
    """A stroke the page posted (ae/web.py's /ae/room/<code>/draw): its student and pass, nickname,
    28x28 digit (base64), the code and shares its model found, and whether it begins a drawing;
    ValueError where it is no such thing, RoomError (one sentence) where the store refused it."""
    if not isinstance(sent, dict):
        raise ValueError("a stroke is a JSON object")
    token, signed, nickname = sent.get("token"), sent.get("pass"), sent.get("nickname")
    if not (isinstance(token, str) and rooms.STUDENT_TOKEN.match(token) and isinstance(signed, str)):
        raise ValueError("a stroke names its student")
    if not hmac.compare_digest(signed, stroke_pass(code, token)):
        raise PermissionError("this page's pass is not this server's")
    digit, z, shares = live.page_input(sent.get("input")), sent.get("code"), sent.get("shares")
    try:
        z = np.asarray(z, np.float64) if isinstance(z, list) else None
    except (TypeError, ValueError):
        z = None
    if digit is None or z is None or not (isinstance(shares, list) and len(shares) == 2):
        raise ValueError("a stroke carries the page's 28x28 digit, code and shares")
    pixels = np.clip(np.round(digit * 255), 0, 255).astype(np.uint8)
    nickname = nickname if isinstance(nickname, str) else ""
    return store().add(code, token, nickname, pixels, z, tuple(shares), fresh=sent.get("fresh") is not False)


def follow(room: Room, page: str) -> None:
    """A student's page in a room follows the teacher: while a lesson runs, to the Draw page, which
    holds every step and shows the teacher's (ae/ui/steps.py), and hears every change within a
    second (ae/live/frontend/follow.js, from ae/web.py's /ae/room): a new step is shown by the
    browser, with no run of the server's. Called before the page draws anything: a page left at
    once costs the server little."""
    if room.step and page != "draw":
        st.switch_page("app_pages/draw.py")
    hear(room, holds_steps=page == "draw")


def hear(room: Room, holds_steps: bool) -> None:
    """The Follow widget: on a page that holds the lesson's steps it shows the teacher's step
    itself; on any other, a new step reruns the page (which then leaves for Draw)."""
    state = reached(lambda: state_now(room.code))
    if state is not None:
        rules = [lesson.hidden_but(n, over=True) for n in range(len(lesson.STEPS) + 1)] if holds_steps else None
        live.follow(room.code, state, WORDS, key="class_follow", keep=kept_student(room.code), rules=rules, follows=lesson.FOLLOWS)


def join_url(room: Room) -> str:
    """The link students open: this server's address as the teacher's browser sees it (or
    $AE_PUBLIC_URL, for a server behind a proxy), the Draw page, the room."""
    base = os.environ.get("AE_PUBLIC_URL") or (st.context.url or "http://localhost:8501")
    base = re.sub(r"/(class|draw|home)/?$", "", base.rstrip("/"))
    return f"{base}/draw?room={room.code}"


def qr_svg(url: str) -> str:
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=10, border=2, dark="#000", light="#fff", xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


@functools.lru_cache(maxsize=16)
def _background(path: str, mtime_ns: int, size: int) -> tuple[latent.Projection, dict] | None:
    """The map's fixed axes for a model (fitted to its first 2,000 test digits' codes, as Explore's
    default: catalog.digit_map) and the test digits' points behind it; None without them. The
    points go to the page once, as a file beside the model's (not with every refresh of the map),
    where that can be."""
    choice = catalog.choice_at(path, mtime_ns, size)
    found = catalog.digit_map(choice)
    if found is None:
        return None
    lo, hi = np.percentile(found.points, [1, 99], axis=0)
    pad = 0.08 * (hi - lo)
    listed = found.listed()
    url = live.beside_model(choice, f"map-{catalog.MAP_DIGITS}.json.gz", gzip.compress(json.dumps(listed).encode(), mtime=0))
    background = {
        "points": [] if url else listed,
        "points_url": url,
        "lo": (lo - pad).tolist(),
        "hi": (hi + pad).tolist(),
        "how": found.projection.how,
    }
    return found.projection, background


def background(choice: catalog.LoadedModel):
    return _background(*choice.version)


@functools.lru_cache(maxsize=20_000)
def _png(code: str, drawing_id: int, raw: bytes) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.frombuffer(raw, np.uint8).reshape(28, 28)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def png(room: Room, d: Drawing) -> str:
    """A drawing as a PNG data URL, made once per drawing."""
    return _png(room.code, d.id, d.pixels.tobytes())


def name(d: Drawing, hidden: bool = False) -> str:
    """A drawing's name on the teacher's pages: the nickname, or the student's seat where names are hidden."""
    if hidden:
        return f"student {d.seat}" if d.seat else f"drawing #{d.id}"
    return d.nickname or f"drawing #{d.id}"


def verdict(d: Drawing) -> str:
    """The meter in a few words, for the map's tooltip and the strips."""
    if d.error_share is None:
        return "not scored"
    return f"stranger than {meter.percent(d.unusual)} of test digits" if d.unusual >= meter.LINE else "looks like a digit"


def map_drawings(room: Room, choice: catalog.LoadedModel, projection: latent.Projection, drawings: list[Drawing]) -> list[dict]:
    """What the map draws of each drawing: where its code lies, its picture, its nearest class."""
    if not drawings:
        return []
    codes = np.stack([d.code for d in drawings])
    placed = choice.meter
    tints = placed.nearest_class(codes) if placed else None
    xy = projection(codes)
    return [
        {
            "id": d.id,
            "xy": [round(float(x), 3), round(float(y), 3)],
            "png": png(room, d),
            "name": name(d, room.names_hidden),
            "starred": d.starred,
            "verdict": verdict(d),
            "unusual": round(d.unusual, 4) if d.error_share is not None else None,
            "tint": int(tints[i]) if tints is not None else -1,
        }
        for i, (d, (x, y)) in enumerate(zip(drawings, xy))
    ]


def pretty(room: Room) -> str:
    return html.escape(rooms.pretty_code(room.code))
