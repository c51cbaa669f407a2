"""Several app servers behind a real balancer: Debian's nginx with deploy/nginx.conf, two app
servers on one Redis. A class draws through nginx; one app server is killed mid-class; its students
come back through nginx to the other as the same students, and nothing stored is lost."""

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest

from ae import rooms
from tests.conftest import ROOT

STUDENTS = 8


def _nginx(tmp_path: Path, port: int, upstreams: list[int]):
    """deploy/nginx.conf with its app servers and port swapped for these; (process, access log)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = re.findall(r"server app\d:8501[^;]*;", conf)
    assert len(servers) == len(upstreams), "the recipe lists two app servers"
    for line, up in zip(servers, upstreams):
        conf = conf.replace(line, line.replace(line.split()[1], f"127.0.0.1:{up}"), 1)
    log = tmp_path / "access.log"
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("access_log /dev/stdout ae;", f"access_log {log} ae;")
    (tmp_path / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(
        [
            shutil.which("nginx") or "/usr/sbin/nginx",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-g",
            f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    return proc, log


def _wait(url: str, proc) -> None:
    deadline = time.time() + 20
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/ae/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not answer")


def _stroke(session, room: str, token: str, n: int, fresh: bool):
    run = session.rerun(page="draw", query=f"room={room}&me={token}") if fresh else None
    live = (run or session.last).component("ae.live.live")
    value = {
        "png": session.png,
        "input": session.digit,
        "strokes": n,
        "code": [float(n)] * 16,
        "shares": [0.5, 0.5],
        "runtime": "ok",
        "reason": "",
    }
    out = session.rerun(widgets={live.id: json.dumps(value)}, fragment=live.fragment)
    assert out.status and not out.exceptions, out.exceptions
    session.last = run or session.last


@pytest.mark.browser  # servers and nginx: the slow, whole-system kind, as the browser tests are
def test_a_class_through_nginx_survives_an_app_server_killed_mid_class(tiny_checkpoints, mnist_dir, tmp_path):
    from bench import appserver
    from bench.streamlit_client import StreamlitSession, drawings

    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        pytest.fail("No nginx: apt-get install -y nginx (.ci/run installs it)", pytrace=False)
    pool = drawings(STUDENTS)
    with ExitStack() as stack:
        store_url = stack.enter_context(appserver.redis_server())
        room, secret = rooms.open_store(store_url).create("tiny_dense", 16)
        env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": store_url, "AE_TRAINING": "off"}
        secret_flag = {"STREAMLIT_SERVER_COOKIE_SECRET": "the-same-on-every-replica"}
        servers = [stack.enter_context(appserver.serve({**env, **secret_flag})) for _ in range(2)]
        port = appserver.free_port()
        nginx, _ = _nginx(tmp_path, port, [int(u.rsplit(":", 1)[1]) for u in servers])
        stack.callback(lambda: (nginx.terminate(), nginx.wait(10)))
        url = f"http://127.0.0.1:{port}"
        _wait(url, nginx)

        students = []
        for n, (png, digit) in enumerate(pool):
            token, cookie = f"student-{n:04d}", f"ae_route=browser-{n}"
            session = StreamlitSession(url, cookie=cookie)
            session.png, session.digit, session.token, session.cookie = png, digit, token, cookie
            _stroke(session, room.code, token, 1, fresh=True)
            students.append(session)

        os.kill(appserver.server_pid(servers[0]), signal.SIGKILL)  # mid-class
        moved = 0
        for session in students:
            try:
                _stroke(session, room.code, session.token, 2, fresh=False)
            except Exception:  # its server is gone: the browser reconnects, through nginx, with its link
                moved += 1
                session.close()
                again = StreamlitSession(url, cookie=session.cookie)
                again.png, again.digit, again.token = session.png, session.digit, session.token
                _stroke(again, room.code, session.token, 2, fresh=True)
        assert 0 < moved < STUDENTS  # the students were spread over both servers, by their cookies

        stored = rooms.open_store(store_url).all_drawings(room.code, secret)
        by_student = {}
        for d in stored:
            by_student.setdefault(d.student, []).append(d)
        assert len(by_student) == STUDENTS  # the same students, none twice
        assert all(len(ds) == 2 for ds in by_student.values())  # both strokes of each, before and after
