"""The class under load (`python -m bench --only class`): classes of growing size on one app
server with SQLite, and on two app servers sharing one Redis (students on one, the teacher on the
other); each server's CPU a stroke and memory at the end; the largest class each setup holds at
p95 <= 1 s from stroke end to the drawing on the teacher's map, none lost; and every page's first
visit on a freshly started server. The load is bench/class_load.py (Locust), in its own process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.harness import appserver

# (students, classes): a room holds 200 students at most (ae.rooms.MAX_STUDENTS); beyond, two classes at once
SIZES = ((50, 1), (100, 1), (150, 1), (200, 1), (300, 2), (400, 2))
TWO_SERVER_SIZES = ((150, 1), (200, 1), (300, 2), (400, 2))
SECONDS = 45
REPEATS = 10  # runs of the 150-student class on one server: a goal held in each, not in one lucky run
MAP_SIZES = (50, 150, 200)  # drawings on the teacher's map (a room holds 200 students), for the cost of one answer of it
GOAL_MS = 1000
TO_MAP = "stroke end to the drawing on the teacher's map"
OPEN = "a student opens the room's Draw page"


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The process's resident memory now (VmRSS), or at its peak so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024)
    return float("nan")


MODEL, LATENT_DIM = "conv32", 32  # the default model, which the class's room uses


def _room(location: str) -> tuple[str, str]:
    from ae import rooms

    while True:  # a secret that begins with "-" would read as an option on class_load's command line
        room, secret = rooms.open_store(location).create(MODEL, LATENT_DIM)
        if not secret.startswith("-"):
            return room.code, secret


def one_class(
    classes: list[tuple[str, str]],
    location: str,
    users: int,
    pids: list[int],
    seconds: float = SECONDS,
    cookies: bool = False,
    kill=None,
    lead: bool = False,
) -> dict:
    """`users` students dealt to one class for each (students' server, teacher's server): the load
    process's figures, and each server's CPU a stroke. `cookies`: each student a balancer cookie
    of its own; `kill`: (seconds into the drawing, pid) of a server to SIGKILL mid-class; `lead`:
    the teacher leads the lesson and the pens (class_load.LEAD_SCRIPT)."""
    argv = ["--cookies"] if cookies else []
    argv += ["--lead", location] if lead else ["--store", location] if kill else []
    for students_url, teacher_url in classes:
        argv += ["--class", students_url, teacher_url, *_room(location)]
    before = [cpu_s(p) for p in pids]
    if kill is not None:  # the class takes a few seconds to arrive: then it draws, and a server dies
        threading.Timer(kill[0], os.kill, (kill[1], signal.SIGKILL)).start()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.class_load",
            *argv,
            "--users",
            str(users),
            "--seconds",
            str(seconds),
            "--latent-dim",
            str(LATENT_DIM),
        ],
        cwd=appserver.ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 400,
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"the load failed:\n{out.stderr[-3000:]}")
    load = json.loads(out.stdout.strip().splitlines()[-1])
    from bench.class_load import TO_STORED  # Locust's module, loaded once its run is over

    strokes = max((load.get(TO_STORED) or {}).get("count", 0), 1)  # every stroke sent (a led class's refused ones too)
    row = {
        "students": users,
        "classes": len(classes),
        "sent": load["sent"],
        "seen_on_map": load["seen_on_map"],
        "errors": load["errors"],
        "to_map": _percentiles(load.get(TO_MAP)),
        "to_stored": _percentiles(load.get(TO_STORED)),
        "open": _percentiles(load.get(OPEN)),
        "server_cpu_ms_per_stroke": [round(1000 * (cpu_s(p) - b) / strokes, 1) if _alive(p) else None for p, b in zip(pids, before)],
        "server_rss_mb": [rss_mb(p) if _alive(p) else None for p in pids],
    }
    row["rejoined"] = _percentiles(load.get("a student whose server went away opens the page again"))
    if lead:
        from bench.class_load import HEARD, SHOWN, SHOWN_AT

        row["step_heard"] = _percentiles(load.get(HEARD.format("step change")))
        row["step_shown"] = _percentiles(load.get(SHOWN))
        row["step_1_shown"], row["step_2_shown"] = (_percentiles(load.get(SHOWN_AT.format(f"step {n}"))) for n in (1, 2))
        row["pens_down_heard"] = _percentiles(load.get(HEARD.format("pens down")))
        row["pens_up_heard"] = _percentiles(load.get(HEARD.format("pens up")))
        row["moved_on"], row["replaced"], row["lost"] = load["moved_on"], load["replaced"], load["lost"]
        reached = [row[k] for k in ("step_heard", "step_shown", "pens_down_heard", "pens_up_heard")]
        row["holds"] = (
            all(r["count"] and r["p95_ms"] <= GOAL_MS for r in [row["to_map"], *reached])
            and row["lost"] == row["replaced"] == 0
            and not row["errors"]
        )
        print(f"class (led): {row}", file=sys.stderr)
        return row
    if kill is None:
        row["holds"] = row["to_map"]["p95_ms"] <= GOAL_MS and row["seen_on_map"] == row["sent"] and not row["errors"]
    else:  # counted from the store, as for a led class: a stroke cut off by the server's death was never stored
        row["moved_on"], row["replaced"], row["lost"] = load["moved_on"], load["replaced"], load["lost"]
        row["holds"] = row["to_map"]["p95_ms"] <= GOAL_MS and row["lost"] == 0
    print(f"class: {row}", file=sys.stderr)
    return row


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def settle(pids: list[int], quiet_s: float = 0.05, timeout: float = 300) -> None:
    """Waits until the servers have finished warming up: a second in which they used under 5% of a core."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        before = [cpu_s(p) for p in pids]
        time.sleep(1.0)
        if all(cpu_s(p) - b < quiet_s for p, b in zip(pids, before)):
            return


def _percentiles(entry: dict | None) -> dict:
    return {k: entry[k] for k in ("p50_ms", "p95_ms", "count")} if entry else {"p50_ms": None, "p95_ms": None, "count": 0}


def first_visits(env: dict) -> dict[str, float]:
    """Seconds from opening each page (a fresh browser context, one after the other) to its first
    run done, on a server started just before: its health check answered, nothing visited yet."""
    from app_pages import PAGES

    out = {}
    with appserver.browser() as b, appserver.serve(env) as url:
        for file, _, _ in PAGES:
            context = b.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"{url}/{'' if file == 'home' else file}")
            page.wait_for_selector("[data-testid='stMain'] h1", timeout=120_000)
            appserver.wait_idle(page, timeout=120_000)
            out[file] = round(time.perf_counter() - started, 2)
            context.close()
    print(f"class: first visits {out}", file=sys.stderr)
    return out


def largest(rows: list[dict]) -> int | None:
    held = [r["students"] for r in rows if r["holds"]]
    return max(held) if held else None


LED_SECONDS = 36  # the lead script's changes at 8, 16, 24 and 28 s, and time to hear the last


def led_class_bench(data_dir=None, quick: bool = False, students: int = 150) -> dict:
    """A class of `students` whose teacher leads (two lesson steps, pens down and up): on one server
    with SQLite, and on two servers sharing Redis (the students spread over both, the teacher on the second)."""
    env = {"MNIST_DIR": str(data_dir)} if data_dir else {}
    env["AE_JOINS_PER_MINUTE"] = "100000"
    students = 20 if quick else students
    out: dict = {"goal_ms": GOAL_MS, "students": students, "seconds": LED_SECONDS}
    with tempfile.TemporaryDirectory() as folder:
        location = str(Path(folder) / "rooms.sqlite3")
        with appserver.serve({**env, "AE_ROOMS": location}) as url:
            pid = appserver.server_pid(url)
            _room(location)
            settle([pid])
            out["sqlite_one_server"] = one_class([(url, url)], location, students, [pid], LED_SECONDS, lead=True)
    with appserver.redis_server() as redis_url, contextlib.ExitStack() as servers:
        urls = [servers.enter_context(appserver.serve({**env, "AE_ROOMS": redis_url})) for _ in range(2)]
        pids = [appserver.server_pid(u) for u in urls]
        settle(pids)
        out["redis_two_servers"] = one_class([(",".join(urls), urls[1])], redis_url, students, pids, LED_SECONDS, lead=True)
    return out


def led_markdown(result: dict) -> list[str]:
    """The README's lines for a led class (led_class_bench)."""
    lines = [
        f"The teacher leads a class of {result['students']} (`python -m bench --only lead`): the lesson's step 1, then step 2, pens down, pens up, "
        f"during {result['seconds']} s of drawing; each student's page holds its question to the room, and every step of the lesson, "
        "so that it shows a new step as it hears it, with no run of the server's (ae/ui/steps.py).",
        "",
        "| setup | a student opens the room's page, all at once, p50 / p95 (ms) | step change heard and shown, p50 / p95 (ms) | pens down heard: the canvas stops, p50 / p95 (ms) | pens up heard, p50 / p95 (ms) | stroke end to the teacher's map, p50 / p95 (ms) | drawings stored / on the map | server CPU a stroke (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for setup, name in (("sqlite_one_server", "one server, SQLite"), ("redis_two_servers", "two servers, one Redis")):
        r = result[setup]
        pair = lambda p: f"{p['p50_ms']} / {p['p95_ms']}"  # noqa: E731
        lines.append(
            f"| {name} | {pair(r['open'])} | {pair(r['step_shown'])} | {pair(r['pens_down_heard'])} | {pair(r['pens_up_heard'])} | {pair(r['to_map'])} | "
            f"{r['sent']:,} / {r['seen_on_map']:,} | {' / '.join(str(c) for c in r['server_cpu_ms_per_stroke'])} |"
        )
    held = [name for setup, name in (("sqlite_one_server", "one server"), ("redis_two_servers", "two servers")) if result[setup]["holds"]]
    one, two = result["sqlite_one_server"], result["redis_two_servers"]
    lines += [
        "",
        f"- every change on every student's page at p95 <= {result['goal_ms'] / 1000:.0f} s, and every drawing on the map: "
        + (", ".join(held) if held else "not held on either"),
        f"- drawings never on the map (all in the download): replaced by the same student's next one before the map's next refresh, "
        f"{one['replaced']} and {two['replaced']}; stored in the second before a step change, which took them off the map "
        f"(it shows the current step's), {one['moved_on']} and {two['moved_on']}; neither, {one['lost']} and {two['lost']}",
    ]
    return lines


def class_bench(data_dir=None, quick: bool = False) -> dict:
    env = {"MNIST_DIR": str(data_dir)} if data_dir else {}
    env["AE_JOINS_PER_MINUTE"] = "100000"  # every simulated student comes from this machine's one address
    sizes, two, seconds = (((20, 1),), ((20, 2),), 15) if quick else (SIZES, TWO_SERVER_SIZES, SECONDS)
    out: dict = {"goal_ms": GOAL_MS, "seconds": seconds}
    out["first_visits_s"] = first_visits(env)
    with tempfile.TemporaryDirectory() as folder:
        location = str(Path(folder) / "rooms.sqlite3")
        with appserver.serve({**env, "AE_ROOMS": location}) as url:
            pid = appserver.server_pid(url)
            _room(location)  # the store made before the clock
            settle([pid])
            out["sqlite_one_server"] = [one_class([(url, url)] * k, location, n, [pid], seconds) for n, k in sizes]
            held = [one_class([(url, url)], location, 20 if quick else 150, [pid], seconds) for _ in range(2 if quick else REPEATS)]
            out["repeated"] = {"students": held[0]["students"], "runs": len(held), "held": sum(r["holds"] for r in held)}
            out["repeated"]["p95_ms"] = [r["to_map"]["p95_ms"] for r in held]
            out["repeated"]["unseen"] = [r["sent"] - r["seen_on_map"] for r in held]
    with appserver.redis_server() as redis_url, contextlib.ExitStack() as servers:
        urls = [servers.enter_context(appserver.serve({**env, "AE_ROOMS": redis_url})) for _ in range(2)]
        pids = [appserver.server_pid(u) for u in urls]
        settle(pids)
        # class i's students on server i, its teacher on the other: each server serves students and a teacher
        pairs = [(urls[0], urls[1]), (urls[1], urls[0])]
        out["redis_two_servers"] = [one_class(pairs[:k] if k > 1 else pairs[:1], redis_url, n, pids, seconds) for n, k in two]
    out["largest_sqlite_one_server"] = largest(out["sqlite_one_server"])
    out["largest_redis_two_servers"] = largest(out["redis_two_servers"])
    out["map_cpu_ms"] = map_cost(data_dir)
    return out


def map_cost(data_dir=None, repeats: int = 40) -> dict:
    """The server's CPU (ms, this process's) for one answer of the teacher's map (ae/ui/classmap.py)
    with n drawings on it: after one student's new stroke (what a class drawing asks for, over and
    over), and afresh (the page opened, a new step)."""
    import numpy as np

    from ae import rooms
    from ae.ui import classmap

    before = {k: os.environ.get(k) for k in ("AE_ROOMS", "MNIST_DIR")}
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        os.environ["AE_ROOMS"] = str(Path(folder) / "rooms.sqlite3")
        if data_dir:
            os.environ["MNIST_DIR"] = str(data_dir)
        try:
            store, rng = rooms.shared_store(), np.random.default_rng(0)
            for n in MAP_SIZES:
                room, _ = store.create(MODEL, LATENT_DIM)
                for i in range(n):
                    store.add(room.code, f"s{i}", f"n{i}", rng.integers(0, 256, (28, 28), np.uint8), rng.normal(0, 3, LATENT_DIM))
                tag = classmap.update(room.code, "")["tag"]  # the model, its map's axes: loaded once
                spent = {"stroke": 0.0, "afresh": 0.0}
                for k in range(repeats):
                    pixels, code = rng.integers(0, 256, (28, 28), np.uint8), rng.normal(0, 3, LATENT_DIM)
                    store.add(room.code, f"s{k % n}", "", pixels, code, fresh=False)
                    started = time.process_time()
                    tag = classmap.update(room.code, tag)["tag"]
                    spent["stroke"] += time.process_time() - started
                    started = time.process_time()
                    classmap.update(room.code, "")
                    spent["afresh"] += time.process_time() - started
                out[str(n)] = {k: round(1000 * v / repeats, 2) for k, v in spent.items()}
        finally:
            for k, v in before.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    print(f"class: the map's CPU {out}", file=sys.stderr)
    return out


def markdown(result: dict) -> list[str]:
    """The README's lines for what class_bench measured."""
    lines = [
        f"Classes of simulated students (Locust, Streamlit's websocket protocol), each finishing a stroke every 2 s for {result['seconds']} s "
        "(posted to the room as the page posts it, the canvas cleared after every 4), and one teacher whose map asks the room what "
        "changed, as its page does; the load generator on the same 2 cores.",
        "",
        "| setup | students (classes) | strokes sent | on the teachers' maps | stroke end to the stroke stored, p50 / p95 (ms) | to the drawing on the teacher's map, p50 / p95 (ms) | server CPU a stroke (ms) | server memory at the end (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for setup, name in (("sqlite_one_server", "one server, SQLite"), ("redis_two_servers", "two servers, one Redis")):
        for r in result[setup]:
            lines.append(
                f"| {name} | {r['students']} ({r['classes']}) | {r['sent']:,} | {r['seen_on_map']:,} | {r['to_stored']['p50_ms']} / {r['to_stored']['p95_ms']} | "
                f"{r['to_map']['p50_ms']} / {r['to_map']['p95_ms']} | {' / '.join(str(c) for c in r['server_cpu_ms_per_stroke'])} | "
                f"{' / '.join(str(m) for m in r['server_rss_mb'])} |"
            )
    verdict = lambda n: f"{n} students" if n else "none of the sizes tried"  # noqa: E731
    lines += [
        "",
        "With two servers, one class's students are on the first and its teacher on the second; two classes are dealt one to each server, "
        "their teachers on the other (CPU and memory: first server / second; CPU is each server's over all the strokes sent).",
        "",
        f"- the most students held at p95 <= {result['goal_ms'] / 1000:.0f} s to the teacher's map, none lost (a room holds at most 200; "
        f"beyond, two classes at once): one server with SQLite, {verdict(result['largest_sqlite_one_server'])}; "
        f"two servers on Redis, {verdict(result['largest_redis_two_servers'])}",
        "- a student opening the room's Draw page while the whole class arrives within seconds (50 a second), one server: "
        + ", ".join(f"{r['students']} students p95 {r['open']['p95_ms']} ms" for r in result["sqlite_one_server"] if r["classes"] == 1),
        "- first visit of each page on a freshly started server (s): " + ", ".join(f"{k} {v}" for k, v in result["first_visits_s"].items()),
    ]
    if result.get("repeated"):
        r = result["repeated"]
        lines.append(
            f"- {r['students']} students on one server, {r['runs']} runs: the goal held in {r['held']}; p95 to the teacher's map "
            f"{', '.join(map(str, r['p95_ms']))} ms; strokes never on the map {', '.join(map(str, r['unseen']))}"
        )
    if result.get("map_cpu_ms"):
        cost = result["map_cpu_ms"]
        lines.append(
            "- the server's CPU for one answer of the teacher's map (ms), after a stroke / afresh: "
            + ", ".join(f"{n} drawings {c['stroke']} / {c['afresh']}" for n, c in cost.items())
        )
    return lines
