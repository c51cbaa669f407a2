"""Several app servers behind a real balancer: Debian's nginx with deploy/nginx.conf, two app
servers on one Redis. A class draws through nginx; one app server is killed mid-class; its students
come back through nginx to the other as the same students, and nothing stored is lost."""

import json
import os
import shutil
import signal
from contextlib import ExitStack

import pytest

from ae import rooms

STUDENTS = 8


def _stroke(session, room: str, token: str, n: int, fresh: bool):
    run = session.rerun(page="draw", query=f"room={room}&me={token}") if fresh else None
    live = (run or session.last).component("ae.live.live")
    value = {
        "png": session.png,
        "input": session.digit,
        "strokes": n,
        "drawing": n,  # each stroke on a cleared canvas: a drawing of its own
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
    from tests.harness import appserver
    from tests.harness.streamlit_client import StreamlitSession, drawings

    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        pytest.fail("No nginx: apt-get install -y nginx (.ci/run installs it)", pytrace=False)
    pool = drawings(STUDENTS)
    with ExitStack() as stack:
        store_url = stack.enter_context(appserver.redis_server())
        room, secret = rooms.open_store(store_url).create("tiny_dense", 16)
        env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir), "AE_ROOMS": store_url, "AE_TRAINING": "off"}
        secret_flag = {"STREAMLIT_SERVER_COOKIE_SECRET": "the-same-on-every-replica"}
        servers = [stack.enter_context(appserver.serve({**env, **secret_flag})) for _ in range(2)]
        url = stack.enter_context(appserver.behind_nginx(servers))

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
