"""The routes of ours that the app's served entry (entry.py, `st.App`) adds beside Streamlit's:

    /ae/health                          "ok" once the server answers: for a balancer
    /ae/models/<name>/<file>?v=<digest> a checkpoint's served files (ae.served), for the page
    /ae/made/<digest>/<file>            what the server made for the page (the class map's points)
    /ae/room/<code>?since=<tag>         a room's state as its students' pages follow it (JSON: the lesson's
                                        step, pens down, the teacher's picks), once its tag is not `since`
                                        (held up to 20 s: ae/rooms/watch.py)
    /ae/room/<code>/map?since=<tag>     the teacher's map: what changed after the tag the page holds
                                        (held likewise; the teacher's key cookie only: ae/ui/classmap.py)
    /ae/room/<code>/draw                POST: a student's stroke, from a page that ran the model (JSON:
                                        ae/ui/classroom.py's take_stroke), stored without a Streamlit rerun
    /ae/me                              POST {room, token}: who a student is in a room, kept as a cookie on
                                        this device (a reload is the same student; never in a link)
    /ae/teach                           the teacher's key to a room, kept as a cookie on this device:
                                        GET ?room=&key= (the private link; then to the Class page),
                                        POST {room, secret} (the Class page, once it opened a room),
                                        DELETE ?room= (leaving)

Every HTTP response (Streamlit's too) carries COOP/COEP (`Isolated`): the page is then cross-origin
isolated, so onnxruntime-web may use threads (it runs on one for now: runtime.js's `placement`).
Everything the page loads is ours, same origin.

A file asked for with its version is the same bytes for ever (cached for a year); a version that is
no longer the file's is a 404, and the page falls back to the server.
"""

from __future__ import annotations

import functools
import json
import re
import time
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ae import checkpoints, rooms, served
from ae.rooms import watch

SERVED_FILES = {f"encoder{served.PACKED}", f"decoder{served.PACKED}", served.METER}
MADE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")
FOREVER = "public, max-age=31536000, immutable"
PREFIX = "ae"


ISOLATION = [(b"cross-origin-opener-policy", b"same-origin"), (b"cross-origin-embedder-policy", b"require-corp")]


class Isolated:
    """ASGI middleware: COOP/COEP on every HTTP response. `require-corp`, not `credentialless`,
    which WebKit lacks."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *ISOLATION]}
            await send(message)

        await self.app(scope, receive, sending)


def made_dir() -> Path:
    """Where the server keeps files it made for the page, a folder per model version."""
    return served.cache_dir() / "made"


def url_of_model_file(name: str, file: str, digest: str) -> str:
    """The URL of a served file relative to the live widget's page (…/component/<name>/index.html)."""
    return f"../../{PREFIX}/models/{name}/{file}?v={digest}"


def url_of_made_file(digest: str, file: str) -> str:
    return f"../../{PREFIX}/made/{digest}/{file}"


async def health(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


async def model_file(request: Request) -> Response:
    name, file = request.path_params["name"], request.path_params["file"]
    if file not in SERVED_FILES or not checkpoints.NAME_RE.match(name):
        return PlainTextResponse("not found", 404)
    checkpoint = checkpoints.default_dir() / f"{name}{checkpoints.SUFFIX}"
    doc = served.description(checkpoint)
    wanted = request.query_params.get("v")
    if doc is None or (wanted is not None and (len(wanted) != 16 or not doc.get("source", "").startswith(wanted))):
        return PlainTextResponse("not found", 404)
    path = served.folder_of(checkpoint) / file
    if not path.is_file():
        return PlainTextResponse("not found", 404)
    return FileResponse(path, media_type="application/octet-stream", headers={"Cache-Control": FOREVER if wanted else "no-cache"})


async def made_file(request: Request) -> Response:
    digest, file = request.path_params["digest"], request.path_params["file"]
    if not (re.fullmatch(r"[0-9a-f]{16}", digest) and MADE_NAME.match(file)):
        return PlainTextResponse("not found", 404)
    path = made_dir() / digest / file
    if not path.is_file():
        return PlainTextResponse("not found", 404)
    return FileResponse(path, media_type="application/octet-stream", headers={"Cache-Control": FOREVER})


async def room_state(request: Request) -> Response:
    code = rooms.normal_code(request.path_params["code"])
    since = request.query_params.get("since", "")[:40]
    try:
        state = await watch.state_after(code, since) if code else None
    except rooms.RoomError as e:
        return PlainTextResponse(str(e), 503, headers={"Cache-Control": "no-store", "Retry-After": "5"})
    if state is None:
        return PlainTextResponse("This class has ended, or its code is wrong.", 404, headers={"Cache-Control": "no-store"})
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


async def room_map(request: Request, classmap) -> Response:
    from starlette.concurrency import run_in_threadpool

    code = rooms.normal_code(request.path_params["code"]) or ""
    since = request.query_params.get("since", "")[:60]
    secret = request.cookies.get(f"{rooms.TEACHER_COOKIE}{code}")
    quiet = {"Cache-Control": "no-store"}
    try:
        if not code or await run_in_threadpool(_teacher, code, secret) is None:
            return PlainTextResponse("Only the teacher's page sees the class's map.", 403, headers=quiet)
        if await watch.state_after(code, since, read=classmap.state) is None:
            return PlainTextResponse("This class has ended, or its code is wrong.", 404, headers=quiet)
        update = await run_in_threadpool(classmap.update, code, since)
    except rooms.RoomError as e:
        return PlainTextResponse(str(e), 503, headers={**quiet, "Retry-After": "5"})
    if update is None:
        return PlainTextResponse("This class has ended, or its code is wrong.", 404, headers=quiet)
    return JSONResponse(update, headers=quiet)


async def _fields(request: Request, *names: str) -> list:
    """These fields of a small JSON object posted (None each, where the body is no such thing)."""
    body = await request.body()
    try:
        sent = json.loads(body) if len(body) < 1024 else None
    except ValueError:
        sent = None
    return [sent.get(n) if isinstance(sent, dict) else None for n in names]


async def me(request: Request) -> Response:
    """A student's token kept on this device for a room (their page asks, once it is bound)."""
    from starlette.concurrency import run_in_threadpool

    code, token = await _fields(request, "room", "token")
    code = rooms.normal_code(code) if isinstance(code, str) else None
    if not (code and isinstance(token, str) and rooms.STUDENT_TOKEN.match(token)):
        return PlainTextResponse("A room's code and a student's token, please.", 400)
    try:
        room = await run_in_threadpool(rooms.shared_store().get, code)
    except rooms.RoomError as e:
        return PlainTextResponse(str(e), 503)
    if room is None:
        return PlainTextResponse("This class has ended, or its code is wrong.", 404)
    return _keep(Response(status_code=204), request, room, token, rooms.STUDENT_COOKIE)


async def room_stroke(request: Request, take) -> Response:
    """A stroke posted by a student's page: 204 stored, else one sentence (the page shows it)."""
    from starlette.concurrency import run_in_threadpool

    code = rooms.normal_code(request.path_params["code"])
    body = await request.body()
    quiet = {"Cache-Control": "no-store"}
    try:
        if code is None or len(body) > 16_384:
            raise ValueError("no such stroke")
        drawing = await run_in_threadpool(take, code, json.loads(body))
    except PermissionError as e:
        return PlainTextResponse(str(e), 403, headers=quiet)
    except rooms.RoomError as e:  # refused: the sentence for the student
        return PlainTextResponse(str(e), 409, headers=quiet)
    except ValueError as e:  # JSON's errors included
        return PlainTextResponse(str(e)[:200], 400, headers=quiet)
    return JSONResponse({"id": drawing.id}, headers=quiet)


def _keep(response: Response, request: Request, room, secret: str, cookie: str = rooms.TEACHER_COOKIE) -> Response:
    response.set_cookie(
        f"{cookie}{room.code}",
        secret,
        max_age=max(1, int(room.expires - time.time())),
        path=_base(request) or "/",
        httponly=True,  # no script of the page reads it
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def _base(request: Request) -> str:
    return request.url.path.split(f"/{PREFIX}/", 1)[0]


def _teacher(code, secret):
    """The room if this secret runs it, else None (RoomError where the store cannot answer)."""
    if not (isinstance(code, str) and isinstance(secret, str) and len(secret) < 100):
        return None
    store = rooms.shared_store()
    return store.get(code) if store.is_teacher(code, secret) else None


async def teach(request: Request) -> Response:
    """The teacher's key kept (GET, POST) or forgotten (DELETE) on this device, as a cookie."""
    from starlette.concurrency import run_in_threadpool

    if request.method == "DELETE":
        code = rooms.normal_code(request.query_params.get("room") or "")
        response = Response(status_code=204)
        if code:
            response.delete_cookie(f"{rooms.TEACHER_COOKIE}{code}", path=_base(request) or "/")
        return response
    if request.method == "POST":
        code, secret = await _fields(request, "room", "secret")
    else:
        code, secret = request.query_params.get("room"), request.query_params.get("key")
    try:
        room = await run_in_threadpool(_teacher, code, secret)  # the store may be a network away
    except rooms.RoomError as e:
        return PlainTextResponse(str(e), 503)
    if room is None:
        return PlainTextResponse("This teacher link is wrong, or its class has ended.", 403)
    if request.method == "POST":
        return _keep(Response(status_code=204), request, room, secret)
    return _keep(RedirectResponse(f"{_base(request)}/class?room={room.code}", status_code=303), request, room, secret)


def routes(base_url: str = "", classmap=None, take_stroke=None) -> list[Route]:
    """Our routes under the server's base URL path (Streamlit's `server.baseUrlPath`); `classmap`:
    what places a room's drawings on the teacher's map (ae/ui/classmap.py: `state`, `update`);
    `take_stroke`: what stores a stroke a page posts (ae/ui/classroom.py). The app's entry passes
    them in: ae/ does not import the app's pages' modules."""
    root = "/" + "/".join(part for part in (base_url.strip("/"), PREFIX) if part)
    extra = [Route(f"{root}/room/{{code}}/map", functools.partial(room_map, classmap=classmap))] if classmap else []
    if take_stroke:
        extra.append(Route(f"{root}/room/{{code}}/draw", functools.partial(room_stroke, take=take_stroke), methods=["POST"]))
    return [
        *extra,
        Route(f"{root}/health", health),
        Route(f"{root}/models/{{name}}/{{file}}", model_file),
        Route(f"{root}/made/{{digest}}/{{file}}", made_file),
        Route(f"{root}/room/{{code}}", room_state),
        Route(f"{root}/teach", teach, methods=["GET", "POST", "DELETE"]),
        Route(f"{root}/me", me, methods=["POST"]),
    ]
