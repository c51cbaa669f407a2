"""A class as load, with Locust: simulated students that open the Draw page of a room over
Streamlit's websocket protocol (tests/harness/streamlit_client.py), each finishing a stroke every 2 seconds
and clearing the canvas after every CLEAR_EVERY strokes, and one teacher on the Class page whose
map follows the room as the page's does. Run in a process of its own (Locust patches the standard
library for gevent):

    python -m bench.class_load --class URL URL CODE SECRET --users 150 --seconds 60

Several classes at once: `--class STUDENTS_URL TEACHER_URL ROOM SECRET` once for each (students
are dealt to the classes in turn, each class has its teacher). It prints one JSON object: strokes
sent and stored, drawings seen on the teachers' maps, and the percentiles of stroke end to the
stroke stored and to the drawing on the teacher's map. A stroke goes as the page sends it: posted
to /ae/room/<code>/draw where the page's model ran (draw.js), with a rerun only where the page
shows something of it (the Lesson page's canvases), else a rerun with the widget's value. The
teacher's map is followed as its page does (ae/live/frontend/classmap.js): a question to
/ae/room/<code>/map with the tag it holds, answered when the room changed, asked again at once.

STUDENTS_URL may name several servers, comma-separated: the class's students are spread over them.

`--lead STORE`: the teacher leads (LEAD_SCRIPT: the lesson's step 1, step 2, pens down, pens up,
each a change in the store STORE names, as the Class page's click makes it), and each student's
page follows as the browser's does: it holds a question to /ae/room/<code> (follow.js), stops
drawing while the pens are down, and at a new step draws on that step's canvas, which its page
holds (ae/ui/steps.py: follow.js shows the step as it hears it). Reported: the teacher's change to
each student's page hearing it (pens) or showing the step, and the drawings counted from the store.
"""

from __future__ import annotations

import argparse
import json
import random
import select
import socket
import sys
import time

import gevent
import gevent.event
import gevent.lock
import websocket
from locust import User, events, task
from locust.env import Environment

from tests.harness.streamlit_client import drawings

TO_STORED = "stroke end to the stroke stored (the page's post, or its rerun)"
STROKE_EVERY_S = 2.0
CLEAR_EVERY = 4  # strokes to a drawing: then the student clears the canvas, and the next stroke begins another
TEACHER_EVERY_S = 0.5
SETTINGS: dict = {}
CLASSES: list[dict] = []  # students_url, teacher_url, room, secret
DEALT = {"students": 0, "teachers": 0}
SENT: dict[str, float] = {}  # a drawing's nickname tag -> when its stroke ended
DONE: set[str] = set()  # the tags whose rerun finished: stored, to be seen (one cut off by the end is not)
SEEN: dict[str, float] = {}  # -> when the teacher's map first showed it
POOL: list[tuple[str, str]] = []  # drawings as the page sends them
JOINED = gevent.event.Event()  # every student has opened the page: the class starts drawing
OPENED: list[int] = []  # students whose page has opened
LEAD_SCRIPT = ((8.0, "step", 1), (16.0, "step", 2), (24.0, "pens", True), (28.0, "pens", False))  # seconds after the class joined
MADE: list[tuple[str, str, float]] = []  # every change the teacher made: the room state's tag after it, its name, when
STEP_CANVAS = {0: "draw_live", 1: "lesson_rebuild", 2: "lesson_bottleneck"}  # the canvas a page shows at each step: its widget key
HEARD = "the teacher's {} heard on a student's page"
SHOWN = "the teacher's step change shown on a student's page"
SHOWN_AT = "the teacher's {} shown on a student's page"  # by the page as it hears it: the page holds every step


REJOINED = "a student whose server went away opens the page again"


def _report(name: str, started: float, error: Exception | None = None, length: int = 0) -> None:
    events.request.fire(
        request_type="ws",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=length,
        exception=error,
        context={},
    )


class Student(User):
    def wait_time(self) -> float:
        """Until this student's next stroke: every 2 s, each student at a phase of their own
        (a constant pacing would keep them all in step, lifting their pens at once)."""
        self.next_stroke += STROKE_EVERY_S
        return max(0.0, self.next_stroke - time.monotonic())

    def on_start(self):

        self.next_stroke = 0.0
        self.number = DEALT["students"]  # the order dealt: unique in this run (an object's id mod a million was not)
        self.strokes = self.cleared = 0
        self.posted_drawing = None
        started = time.perf_counter()
        place = CLASSES[DEALT["students"] % len(CLASSES)]
        DEALT["students"] += 1
        self.place, self.token = place, f"student-{self.number:07d}"  # the room link's `me`: a reload is the same student
        servers = place["students_url"].split(",")  # several: the class spread over them, as a balancer would
        self.server = servers[DEALT["students"] // len(CLASSES) % len(servers)]
        self.join()
        _report("a student opens the room's Draw page", started)
        OPENED.append(self.number)
        self.busy = gevent.lock.Semaphore()  # one run at a time on the page's socket: a stroke's or the follower's
        self.pens_down, self.follower = False, gevent.spawn(self.follow) if SETTINGS.get("lead") else None

    def join(self) -> None:
        """Open the room's Draw page, as the browser does (again after its server went away)."""
        from tests.harness.streamlit_client import StreamlitSession

        cookie = f"ae_route=s{self.number}" if SETTINGS["cookies"] else None  # a browser's balancer cookie
        self.session = StreamlitSession(self.server, cookie=cookie)
        run = self.session.rerun(page="draw", query=f"room={self.place['room']}&me={self.token}")
        self.canvases = {
            w.id.rsplit("-", 1)[-1]: w for w in run.widgets if w.kind == "component_instance" and '"widget": "draw"' in w.element.json_args
        }
        self.nickname, self.heard = run.by_label("Nickname (optional)"), run.live("follow")
        self.state = json.loads(self.heard.element.json_args)["state"] if self.heard else None
        self.live = self.canvases.get(STEP_CANVAS.get(self.state["step"] if self.state else 0, ""))
        if self.live is None or self.nickname is None:
            raise RuntimeError(f"the room's Draw page has no canvas for its step or no nickname ({run.status}, {run.exceptions})")

    def gone(self) -> bool:
        """Whether the page's socket was closed under it (its server went away): a browser sees it
        at once and opens the page again; a student who only posts strokes sends nothing on it, so
        it is looked at before each stroke."""
        ws = self.session.ws
        try:
            while ws.sock is not None and select.select([ws.sock], [], [], 0)[0]:
                if ws.sock.recv(1, socket.MSG_PEEK) == b"":
                    return True
                opcode, _ = ws.recv_data_frame(True)  # a message or a ping between runs, or the balancer's close
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return True
            return ws.sock is None
        except Exception:
            return True

    def follow(self) -> None:
        """The page's Follow widget: a question held at /ae/room/<code> until the room changes."""
        import urllib.request

        url = f"{self.server}/ae/room/{self.place['room']}"
        while True:
            try:
                with urllib.request.urlopen(f"{url}?since={self.state['tag'] if self.state else ''}", timeout=40) as answer:
                    state = json.loads(answer.read())
            except Exception as e:
                _report("a student's page asks the room", time.perf_counter(), e)
                gevent.sleep(1.0)
                continue
            now, before = time.monotonic(), self.state
            if before is not None and state["tag"] == before["tag"]:
                continue
            self.state = state
            change = next(((name, made) for tag, name, made in reversed(MADE) if tag == state["tag"]), None)
            self.pens_down = state["pens_down"]
            if change:  # a step's words are on the page at once (follow.js), its widget once the page has rerun
                _heard(HEARD.format(change[0] if change[0].startswith("pens") else "step change"), now - change[1])
            if before is not None and state["step"] != before["step"]:
                self.show_step(state, change)

    def show_step(self, state: dict, change) -> None:
        """The room's Draw page holds every step of the lesson (ae/ui/steps.py): follow.js shows the
        new one as it hears it, with no run of the server's (the browser test watches it), and the
        student draws on that step's canvas from then on."""
        canvas = self.canvases.get(STEP_CANVAS.get(state["step"], ""))
        rules = json.loads(self.heard.element.json_args).get("rules") if self.heard else None
        error = None if canvas is not None and rules else RuntimeError(f"the page does not hold step {state['step']}")
        if change:  # shown now, whatever the page's socket is doing (a stroke's rerun, say)
            _heard(SHOWN, time.monotonic() - change[1], error)
            _heard(SHOWN_AT.format(change[0]), time.monotonic() - change[1], error)
        if error is None:
            with self.busy:
                self.live = canvas

    @task
    def stroke(self):
        if self.strokes == 0:  # the class draws once all have joined, each student at a phase of their own
            JOINED.wait()
            self.next_stroke = time.monotonic() + random.uniform(0, STROKE_EVERY_S)
            gevent.sleep(max(0.0, self.next_stroke - time.monotonic()))
        if self.pens_down:  # the canvas takes no ink
            return
        with self.busy:
            self.draw_once()

    def draw_once(self):
        if self.gone():
            self.rejoin()
        self.strokes += 1
        tag = f"u{self.number}-{self.strokes}"[:20]
        # what the page sends when the pen lifts: the canvas, and the code and shares its model found
        code = [round(random.gauss(0, 3), 4) for _ in range(SETTINGS["latent_dim"])]
        png, digit = random.choice(POOL)
        value = {
            "png": png,
            "input": digit,
            "strokes": self.strokes + self.cleared,  # the page counts its clears with its strokes
            "drawing": self.cleared,
            "code": code,
            "shares": [random.random(), random.random()],
            "runtime": "ok",
            "reason": "",
        }
        started = time.perf_counter()
        SENT[tag] = time.monotonic()
        post = (json.loads(self.live.element.json_args).get("room") or {}).get("post")
        try:
            if post:  # the page posts the stroke itself (draw.js), and reruns only where it shows it
                said = self.post_stroke(post, value, tag)
                if not post["quiet"]:
                    value["posted"] = said
                    self.rerun_with(value, tag)
            else:
                self.rerun_with(value, tag)
            DONE.add(tag)
            error = None
        except Exception as e:  # a timeout or a closed socket: counted, and the student comes back as a browser does
            error = e
        _report(TO_STORED, started, error)
        if error is None and self.strokes % CLEAR_EVERY == 0:
            error = self.clear(rerun=not (post and post["quiet"]))
        if error is not None and not isinstance(error, RuntimeError):
            self.rejoin()

    def rejoin(self) -> None:
        self.session.close()
        started = time.perf_counter()
        try:
            self.join()
            _report(REJOINED, started)
        except Exception as e:
            _report(REJOINED, started, e)

    def post_stroke(self, post: dict, value: dict, tag: str) -> str:
        """The stroke to /ae/room/<code>/draw as draw.js posts it: "ok", or the store's sentence."""
        import urllib.error
        import urllib.request

        fresh = self.posted_drawing != value["drawing"]
        body = {"token": post["token"], "pass": post["pass"], "nickname": tag, "fresh": fresh}
        body.update((k, value[k]) for k in ("input", "code", "shares"))
        request = urllib.request.Request(f"{self.server}/ae/room/{self.place['room']}/draw", data=json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                r.read()
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
            return e.read().decode()  # refused (pens down, locked): the canvas says so
        self.posted_drawing = value["drawing"]
        return "ok"

    def rerun_with(self, value: dict, tag: str) -> None:
        run = self.session.rerun(widgets={self.live.id: json.dumps(value), self.nickname.id: tag}, fragment=self.live.fragment)
        if run.exceptions:
            raise RuntimeError(run.exceptions[0])

    def clear(self, rerun: bool = True) -> Exception | None:
        """The canvas cleared, a moment after the drawing's last stroke: the drawing is finished.
        A page that posts its strokes quietly counts the clear and says it with its next stroke."""
        gevent.sleep(random.uniform(0.2, 0.6))
        self.cleared += 1
        if not rerun:
            return None
        value = {"png": None, "strokes": self.strokes + self.cleared, "drawing": self.cleared, "runtime": "ok", "reason": ""}
        started, error = time.perf_counter(), None
        try:
            run = self.session.rerun(widgets={self.live.id: json.dumps(value)}, fragment=self.live.fragment)
            error = RuntimeError(run.exceptions[0]) if run.exceptions else None
        except Exception as e:
            error = e
        _report("a student clears the canvas (the server's rerun)", started, error)
        return error

    def on_stop(self):
        if self.follower is not None:
            self.follower.kill()
        self.session.close()


def _heard(name: str, seconds: float, error: Exception | None = None) -> None:
    events.request.fire(request_type="ws", name=name, response_time=seconds * 1000, response_length=0, exception=error, context={})


def lead(location: str) -> None:
    """The teacher's clicks of LEAD_SCRIPT, from the moment the class has joined, in every room."""
    from ae import rooms

    store, start = rooms.open_store(location), time.monotonic()
    for at, what, value in LEAD_SCRIPT:
        gevent.sleep(max(0.0, start + at - time.monotonic()))
        for c in CLASSES:
            made = time.monotonic()
            (store.pace if what == "step" else store.pens)(c["room"], c["secret"], value)
            name = f"step {value}" if what == "step" else "pens down" if value else "pens up"
            MADE.append((store.state(c["room"])["tag"], name, made))


def stored_drawings(location: str) -> dict[str, tuple[float, int]]:
    """Every drawing the rooms kept: its nickname tag -> (when it was stored, its step)."""
    from ae import rooms

    store = rooms.open_store(location)
    return {d.nickname: (d.time, d.step) for c in CLASSES for d in store.all_drawings(c["room"], c["secret"])}


def teacher_cookie(place: dict) -> str:
    """The teacher's key as their browser keeps it (ae/web.py's /ae/teach): the map's route asks for it."""
    from ae.rooms import TEACHER_COOKIE

    return f"{TEACHER_COOKIE}{place['room']}={place['secret']}"


class Teacher(User):
    fixed_count = 1  # set to the number of classes by main()

    def wait_time(self) -> float:
        return 0.0 if self.answered else TEACHER_EVERY_S  # a failed question is asked again after a pause, as the page does

    def on_start(self):
        from tests.harness.streamlit_client import StreamlitSession

        self.place = CLASSES[DEALT["teachers"] % len(CLASSES)]
        DEALT["teachers"] += 1
        self.session = StreamlitSession(self.place["teacher_url"])
        run = self.session.rerun(page="class", query=f"room={self.place['room']}&teacher={self.place['secret']}")
        if run.live("classmap") is None:
            raise RuntimeError(f"the Class page has no map ({run.status}, {run.exceptions})")
        self.tag, self.answered = "", True
        self.cookie = teacher_cookie(self.place)

    def look(self, drawings: list[dict]) -> None:
        now = time.monotonic()
        for drawing in drawings:
            tag = drawing.get("name")
            if tag in SENT and tag not in SEEN:
                SEEN[tag] = now
                events.request.fire(
                    request_type="ws",
                    name="stroke end to the drawing on the teacher's map",
                    response_time=(now - SENT[tag]) * 1000,
                    response_length=0,
                    exception=None,
                    context={},
                )

    @task
    def refresh(self):
        from tests.harness.appserver import get_json

        started, error = time.perf_counter(), None
        try:
            heard = get_json(f"{self.place['teacher_url']}/ae/room/{self.place['room']}/map?since={self.tag}", cookie=self.cookie)
            self.tag = heard["tag"]
            self.look(heard["drawings"])
        except Exception as e:
            error = e
        self.answered = error is None
        _report("the teacher's map answered (held until the room changed)", started, error)


def _wall_to_mono(t: float) -> float:
    return t - time.time() + time.monotonic()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.class_load", description=__doc__.splitlines()[0])
    p.add_argument(
        "--class",
        dest="classes",
        nargs=4,
        action="append",
        required=True,
        metavar=("STUDENTS_URL", "TEACHER_URL", "ROOM", "SECRET"),
        help="a class: the app server its students use, the one its teacher uses, its room and secret (once per class)",
    )
    p.add_argument("--latent-dim", type=int, default=32, help="the rooms' model's code size")
    p.add_argument("--users", type=int, default=150, help="students, dealt to the classes in turn")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--cookies", action="store_true", help="each student sends a balancer cookie of its own (deploy/nginx.conf)")
    p.add_argument("--lead", metavar="STORE", help="the teacher leads the lesson and pens (LEAD_SCRIPT) in this store ($AE_ROOMS)")
    p.add_argument("--store", metavar="STORE", help="count the drawings from this store, as --lead does")
    args = p.parse_args(argv)
    SETTINGS.update(vars(args))
    CLASSES.extend(dict(zip(("students_url", "teacher_url", "room", "secret"), c)) for c in args.classes)
    Teacher.fixed_count = len(CLASSES)
    POOL.extend(drawings(200))  # before the first greenlet: PIL and numpy, not Locust's
    env = Environment(user_classes=[Student, Teacher], events=events)
    runner = env.create_local_runner()
    runner.start(args.users + len(CLASSES), spawn_rate=50)
    deadline = time.monotonic() + 180
    while len(OPENED) < args.users and time.monotonic() < deadline:  # the class has arrived: then it draws
        gevent.sleep(0.1)
    JOINED.set()
    leader = gevent.spawn(lead, args.lead) if args.lead else None
    gevent.sleep(args.seconds)
    runner.stop()  # the students stop, the teachers too: each class's map is read once more for the last drawings
    from tests.harness.appserver import get_json

    teacher = Teacher(env)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not DONE <= SEEN.keys():
        for c in CLASSES:
            teacher.look(get_json(f"{c['teacher_url']}/ae/room/{c['room']}/map", cookie=teacher_cookie(c))["drawings"])
        gevent.sleep(TEACHER_EVERY_S)
    out = {"students": args.users, "seconds": args.seconds, "sent": len(DONE), "seen_on_map": len(DONE & SEEN.keys()), "errors": {}}
    if args.lead or args.store:  # counted from the store: strokes the pens down refused were never drawings (nor those the end cut off)
        if leader is not None:
            leader.get()
        stored = {t: kept for t, kept in stored_drawings(args.lead or args.store).items() if t in DONE}
        steps = [made for _, name, made in MADE if name.startswith("step")]
        unseen = [t for t in stored if t not in SEEN]
        # a drawing stored in the last moment of a step leaves the map (which shows the current step's) before its next refresh
        moved_on = [t for t in unseen if any(0 <= _wall_to_mono(stored[t][0]) - s + 1.0 <= 1.0 for s in steps)]
        # the map shows each student's latest drawing: one replaced by the next before a refresh came is never on it
        student = lambda tag: tag.rsplit("-", 1)[0]  # noqa: E731
        later = lambda t: any(student(o) == student(t) and stored[o][1] == stored[t][1] and stored[o][0] > stored[t][0] for o in stored)  # noqa: E731
        replaced = [t for t in unseen if t not in moved_on and later(t)]
        out.update(
            sent=len(stored),
            seen_on_map=len(stored) - len(unseen),
            moved_on=len(moved_on),
            replaced=len(replaced),
            lost=len(unseen) - len(moved_on) - len(replaced),
        )
    for entry in env.stats.entries.values():
        out[entry.name] = {
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "max_ms": round(entry.max_response_time),
        }
    for error in env.stats.errors.values():
        out["errors"][f"{error.name}: {error.error}"[:200]] = error.occurrences
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
