"""Firefox driven through WebDriver BiDi, which it speaks itself (Playwright cannot drive Debian's
firefox-esr, and geckodriver is not packaged): a websocket, JSON commands, no driver binary.

    with firefox.launch() as ff:
        ff.goto(url)
        ff.evaluate("document.title")
        ff.perform([pointer("touch", [(x0, y0), (x1, y1)])])   # tests/harness/engines.py drives the Draw page with it
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from websockets.sync.client import connect

from tests.harness.appserver import free_port

FIREFOX = "/usr/bin/firefox"
PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "browser.newtabpage.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "dom.w3c_touch_events.enabled": 1,
    "remote.prefs.recommended": True,
}


def available() -> str | None:
    return FIREFOX if Path(FIREFOX).exists() else None


class BidiError(RuntimeError):
    pass


class Firefox:
    """One browsing context (a tab) of a headless Firefox."""

    def __init__(self, socket, process):
        self.socket, self.process = socket, process
        self.ids = itertools.count(1)
        self.context = self.send("browsingContext.getTree", {})["contexts"][0]["context"]

    def send(self, method: str, params: dict, timeout: float = 60) -> dict:
        command = next(self.ids)
        self.socket.send(json.dumps({"id": command, "method": method, "params": params}))
        deadline = time.time() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.time(), 0.01)))
            if message.get("id") != command:
                continue  # an event: none is subscribed to, but be safe
            if message.get("type") == "error":
                raise BidiError(f"{method}: {message.get('error')}: {message.get('message')}")
            return message["result"]

    def goto(self, url: str) -> None:
        self.send("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def set_viewport(self, width: int, height: int) -> None:
        self.send("browsingContext.setViewport", {"context": self.context, "viewport": {"width": width, "height": height}})

    def frame(self, index: int) -> str:
        """The browsing context of this tab's `index`-th iframe in document order (BiDi names a
        window by its context; getTree's children come in the order the frames were made)."""
        window = self.evaluate(f"document.querySelectorAll('iframe')[{index}].contentWindow")
        if not isinstance(window, dict) or "context" not in window:
            raise BidiError(f"no iframe {index} on the page")
        return window["context"]

    def evaluate(self, expression: str, context: str | None = None, timeout: float = 60):
        """An expression's value (awaited if it is a promise), as JSON-able Python."""
        result = self.send(
            "script.evaluate",
            {
                "expression": expression,
                "target": {"context": context or self.context},
                "awaitPromise": True,
                "serializationOptions": {"maxObjectDepth": 6},
            },
            timeout,
        )
        if result.get("type") == "exception":
            raise BidiError(result["exceptionDetails"].get("text"))
        return _value(result["result"])

    def perform(self, sources: list[dict]) -> None:
        self.send("input.performActions", {"context": self.context, "actions": sources})
        self.send("input.releaseActions", {"context": self.context})

    def screenshot(self, path: str | os.PathLike) -> None:
        import base64

        data = self.send("browsingContext.captureScreenshot", {"context": self.context})["data"]
        Path(path).write_bytes(base64.b64decode(data))


def pointer(kind: str, points, step_ms: int = 16, button: int = 0, name: str | None = None) -> dict:
    """One pointer's actions: down at the first point, moves through the rest, up."""
    (x0, y0), rest = points[0], points[1:]
    actions = [{"type": "pointerMove", "x": round(x0), "y": round(y0), "duration": 0}, {"type": "pointerDown", "button": button}]
    actions += [{"type": "pointerMove", "x": round(x), "y": round(y), "duration": step_ms} for x, y in rest]
    actions.append({"type": "pointerUp", "button": button})
    return {"type": "pointer", "id": name or kind, "parameters": {"pointerType": kind}, "actions": actions}


def _value(remote: dict):
    kind = remote.get("type")
    if kind in ("undefined", "null"):
        return None
    if kind in ("string", "boolean"):
        return remote["value"]
    if kind == "number":
        v = remote["value"]
        return float(v) if isinstance(v, str) else v  # NaN, Infinity arrive as strings
    if kind == "array":
        return [_value(v) for v in remote.get("value", [])]
    if kind == "object":
        return {k if isinstance(k, str) else _value(k): _value(v) for k, v in remote.get("value", [])}
    return remote.get("value")


@contextlib.contextmanager
def launch(width: int = 1440, height: int = 1000):
    """A headless Firefox with a fresh profile, its BiDi socket open on one tab."""
    if available() is None:
        raise FileNotFoundError("No Firefox for the browser tests: apt-get install -y firefox-esr")
    profile = tempfile.mkdtemp(prefix="ae-firefox-")
    Path(profile, "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items()))
    port = free_port()
    log = tempfile.TemporaryFile("w+")
    process = subprocess.Popen(
        [
            FIREFOX,
            "--headless",
            "--no-remote",
            "--profile",
            profile,
            f"--remote-debugging-port={port}",
            f"--width={width}",
            f"--height={height}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MOZ_HEADLESS": "1"},
    )
    try:
        socket = _connect(port, process, log)
        with socket:
            browser = Firefox(socket, process)
            browser.set_viewport(width, height)
            yield browser
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)


def _connect(port: int, process, log, timeout: float = 60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"firefox exited early:\n{log.read()[-2000:]}")
        try:
            socket = connect(f"ws://127.0.0.1:{port}/session", max_size=None, open_timeout=5, proxy=None, legacy=True)
        except OSError:
            time.sleep(0.2)
            continue
        socket.send(json.dumps({"id": 0, "method": "session.new", "params": {"capabilities": {}}}))
        reply = json.loads(socket.recv(timeout=30))
        if reply.get("type") == "error":
            raise BidiError(f"session.new: {reply}")
        return socket
    raise TimeoutError(f"firefox's BiDi port {port} did not open within {timeout} s")
