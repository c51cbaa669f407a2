"""Shared fixtures: where MNIST is, a browser to drive, and tiny trained checkpoints.

A missing prerequisite fails the tests that need it, with the command that fixes it; only the
unit subset (`make test-unit`, AE_TESTS=unit) skips them instead, and says so in the summary.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = ROOT.parent / "shared" / "mnist"

if "MNIST_DIR" not in os.environ and DEFAULT_MNIST.is_dir():
    os.environ["MNIST_DIR"] = str(DEFAULT_MNIST)
# The class's rooms in a file of this test run, never beside the shared MNIST copy.
os.environ.setdefault("AE_ROOMS", str(Path(tempfile.mkdtemp(prefix="ae-rooms-")) / "rooms.sqlite3"))


def missing(reason: str) -> None:
    """Fail (skip in the unit subset) for a missing prerequisite."""
    if os.environ.get("AE_TESTS") == "unit":
        pytest.skip(f"unit subset: {reason}")
    pytest.fail(reason, pytrace=False)


def pytest_collection_modifyitems(items):
    """A test that asks for a browser is a browser test, marked or not: `make test-fast` runs none."""
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    from ae import data

    root = data.resolve_data_dir()
    if not data.mnist_available(root):
        missing(f"this test needs MNIST: {data.missing_message(root)}")
    return root


@pytest.fixture(scope="session")
def chromium() -> dict:
    """Playwright's launch options for the browser tests."""
    from tests.harness import appserver

    if appserver.chromium() is None:
        missing(appserver.NO_BROWSER)
    return appserver.launch_options()


@pytest.fixture(scope="module")
def shipped_app(mnist_dir, chromium):
    """The app as shipped, in Chromium: the real checkpoints and MNIST."""
    from tests.harness import appserver

    with appserver.serve({"MNIST_DIR": str(mnist_dir)}) as url, appserver.browser() as b:
        yield url, b


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory, mnist_dir) -> Path:
    """A folder of three small trained models (conv, dense, a 2-d VAE; tests/harness/tiny.py),
    trained once per test session, or copied from AE_TINY_CACHE where that holds them for today's
    sources (`make test-fast`); with several workers each model is made by the first worker free
    to take it, and every worker waits for the three."""
    from tests.harness import tiny

    cache = os.environ.get("AE_TINY_CACHE")
    cache = Path(cache).resolve() / tiny.key(mnist_dir) if cache else None
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return tiny.train(tmp_path_factory.mktemp("checkpoints"), cache)
    from filelock import FileLock, Timeout

    folder = tmp_path_factory.getbasetemp().parent / "tiny-checkpoints"  # the workers' common folder
    locks = {name: FileLock(f"{folder}-{name}.lock") for name in tiny.MODELS}
    for name, lock in locks.items():
        try:
            held = lock.acquire(timeout=0)
        except Timeout:
            continue  # another worker makes it: take the next
        with held:
            tiny.provide(folder, name, cache)
    for name, lock in locks.items():
        with lock:  # wait for what the others make (and make it here where one of them failed)
            tiny.provide(folder, name, cache)
    return folder


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A real redis-server (Debian's package) on a free port, for this test session."""
    from tests.harness import appserver

    if shutil.which("redis-server") is None:
        missing("this test needs Redis: apt-get install -y redis-server")
    with appserver.redis_server() as url:
        yield url
