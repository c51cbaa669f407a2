"""Crashes mid-write, stops mid-save, and the promise that nothing is ever unpickled."""

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ae import checkpoints, export, jobs, models
from ae.train import TrainConfig
from tests.conftest import ROOT


def _python(code: str, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


WRITER = """
import sys
from ae import export, models
model = models.build("conv", latent_dim=128)  # about 1 MB: every write takes a while
for i in range(1_000_000):
    export.save(sys.argv[1], model, {"writer": int(sys.argv[2]), "round": i})
"""


@pytest.mark.slow
def test_sigkill_while_writing_leaves_the_previous_checkpoint_loadable(tmp_path):
    path = tmp_path / "m.safetensors"
    export.save(path, models.build("conv", latent_dim=128), {"writer": -1, "round": -1})
    for writer_id, delay in enumerate((0.0, 0.013, 0.05, 0.11, 0.3)):  # kill at scattered moments
        writer = _python(WRITER, path, writer_id)
        deadline = time.time() + 60
        while checkpoints.load(path)[1]["writer"] != writer_id:  # it is writing in a loop now
            assert time.time() < deadline and writer.poll() is None, writer.stdout.read() if writer.poll() else ""
            time.sleep(0.02)
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        _, meta = checkpoints.load(path)  # raises if half-written
        assert meta["writer"] == writer_id and meta["round"] >= 0
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("m.safetensors", "m.served")]
    assert all(name.startswith((".m.safetensors.", ".m.served.")) for name in leftovers), leftovers  # half-written, never taken for files
    assert [p.stem for p in checkpoints.checkpoint_files(tmp_path)] == ["m"]  # a dead write is not a model


@pytest.mark.slow
def test_training_killed_mid_epoch_leaves_the_best_checkpoint_loadable(mnist_dir, tmp_path):
    out = tmp_path / "killed.safetensors"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ae.train",
            "--model",
            "conv",
            "--set",
            "width=8",
            "--latent-dim",
            "8",
            "--epochs",
            "50",
            "--limit",
            "2000",
            "--val-limit",
            "500",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while not out.exists():
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(1.5)  # well into a later epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    model, meta = checkpoints.load(out)
    assert meta["epochs_done"] >= 1 and not meta["complete"]
    assert model.latent_dim == 8


@pytest.mark.slow
def test_a_stop_during_a_checkpoint_write_still_leaves_a_valid_file(mnist_dir, tmp_path, monkeypatch):
    real_save = export.save
    writing = {"now": False}

    def slow_save(path, model, meta):
        writing["now"] = True
        time.sleep(0.5)  # the Stop click lands in here
        try:
            return real_save(path, model, meta)
        finally:
            writing["now"] = False

    monkeypatch.setattr(export, "save", slow_save)
    manager = jobs.Manager()
    job = manager.start(TrainConfig(model="dense", epochs=100, limit=1000, val_limit=200), "mid-save", tmp_path)
    deadline = time.time() + 60
    while not writing["now"]:
        assert time.time() < deadline
        time.sleep(0.01)
    manager.stop()
    while job.running:
        assert time.time() < deadline + 60
        time.sleep(0.05)
    assert job.state == "stopped"
    _, meta = checkpoints.load(tmp_path / "mid-save.safetensors")
    assert meta["epochs_done"] >= 1


def test_nothing_is_ever_unpickled():
    sources = [p for p in ROOT.rglob("*.py") if not any(part.startswith(".venv") for part in p.parts) and "tests" not in p.parts]
    assert sources
    for path in sources:
        text = path.read_text()
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, f"{path}: {call}"
        assert not re.search(r"^\s*(import pickle|from pickle|import dill|import joblib)", text, re.M), path
        assert "pickle.load" not in text, path


def test_a_server_with_sessions_open_stops_at_once_when_asked(tiny_checkpoints, mnist_dir):
    """A balancer's rolling restart or `docker stop` (SIGTERM, then SIGKILL after 10 s) does not wait
    on the app: sessions on four pages, then SIGTERM, and the process is gone within 5 s."""
    from tests.harness import appserver
    from tests.harness.streamlit_client import StreamlitSession

    env = {"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir)}
    with appserver.serve(env) as url:
        sessions = [StreamlitSession(url) for _ in range(4)]
        for session, page in zip(sessions, ["", "draw", "explore", "compress"]):
            assert session.rerun(page=page).status
        pid = appserver.server_pid(url)
        began = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        while time.monotonic() - began < 5:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            if _reaped(pid):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the server was still running 5 s after SIGTERM")


def test_a_served_lab_walks_and_watches_no_source_folder(tiny_checkpoints, mnist_dir):
    """The first visitor does not wait while Streamlit's file watcher walks the app's folder (venvs
    included) to put it under inotify: the lab is served as shipped (.streamlit/config.toml)."""
    from tests.harness import appserver
    from tests.harness.streamlit_client import StreamlitSession

    with appserver.serve({"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir)}) as url:
        session = StreamlitSession(url)
        assert session.rerun(page="draw").status
        session.close()
        assert "anon_inode:inotify" not in _open_files(appserver.server_pid(url))


def _open_files(pid: int) -> list[str]:
    """What a process's file descriptors point at (one closed meanwhile is left out)."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.append(os.readlink(fd))
        except FileNotFoundError:
            continue
    return found


def _reaped(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def test_the_server_sends_without_waiting_for_acks():
    """Nagle's algorithm off on accepted connections, also where the listening socket's protocol
    number is 0 (Streamlit's is): otherwise a run's later messages wait for a delayed ACK."""
    import asyncio
    import socket

    from ae import runtime

    runtime.answer_without_delay()
    seen = []

    async def main():
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # proto 0, as Streamlit binds it
        listener.bind(("127.0.0.1", 0))

        async def handle(reader, writer):
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()

    asyncio.run(main())
    assert seen and seen[0] != 0


def test_an_error_shows_a_visitor_no_traceback_details():
    """A public link: an exception on a page says that something failed, never the server's paths
    or code (.streamlit/config.toml's client.showErrorDetails; the server's log has them)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string('raise ValueError("/srv/lab/ae/secret.py: went wrong")').run()
    (shown,) = at.exception
    assert "/srv/lab" not in shown.message and not shown.stack_trace and "error" in shown.message
