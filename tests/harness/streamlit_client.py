"""A Streamlit session at the protocol level, as the browser holds one: a websocket to
/_stcore/stream, BackMsg protobufs up (a rerun with the page, its query string and the widgets'
values), ForwardMsg protobufs down (the elements of each run). The load test's students and
teacher are these, not browsers: a 2-core machine cannot run a browser per student.

    session = StreamlitSession(url)
    run = session.rerun(page="draw", query="room=ABC")              # the first run of the page
    live = run.component("ae.live.live")                            # the live widget's element
    run = session.rerun(widgets={live.id: json.dumps(value)}, fragment=live.fragment)  # a stroke ends

Uses websocket-client (blocking sockets), which gevent makes cooperative under Locust.
"""

from __future__ import annotations

import io
import json
import random
import socket
import time
from dataclasses import dataclass, field

import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class Widget:
    id: str
    kind: str  # the element's type: component_instance, text_input, ...
    fragment: str  # the fragment it was drawn in ("" outside one)
    element: object  # the protobuf, for json_args, label, ...


@dataclass
class Run:
    """What one script run sent: its widgets, in the order drawn, and how it ended."""

    widgets: list[Widget] = field(default_factory=list)
    status: str = ""
    auto_rerun: list[tuple[float, str]] = field(default_factory=list)  # (interval, fragment id)
    exceptions: list[str] = field(default_factory=list)
    drawn: list[str] = field(default_factory=list)  # every element's type, in the order sent
    links: list[tuple[int, str]] = field(default_factory=list)  # (elements sent before it, query string): the URL's changes

    def component(self, name_suffix: str) -> Widget | None:
        found = [w for w in self.widgets if w.kind == "component_instance" and w.element.component_name.endswith(name_suffix)]
        return found[-1] if found else None

    def live(self, widget: str) -> Widget | None:
        """Our live component drawn as this widget (ae.live: draw, morph, hover, classmap, teacher, follow)."""
        found = [
            w for w in self.widgets if w.kind == "component_instance" and json.loads(w.element.json_args or "{}").get("widget") == widget
        ]
        return found[-1] if found else None

    def by_label(self, label: str) -> Widget | None:
        return next((w for w in self.widgets if getattr(w.element, "label", None) == label), None)


class StreamlitSession:
    def __init__(self, url: str, timeout: float = 60, cookie: str | None = None):
        """`cookie`: what the browser would send (a balancer's route, deploy/nginx.conf)."""
        self.ws = websocket.create_connection(
            url.replace("http", "ws", 1) + "/_stcore/stream",
            subprotocols=["streamlit"],
            timeout=timeout,
            enable_multithread=False,
            cookie=cookie,
            sockopt=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),  # as a browser: no Nagle wait on small frames
        )
        self.page, self.query, self.values = "", "", {}

    def close(self) -> None:
        self.ws.close()

    def rerun(
        self,
        page: str | None = None,
        query: str | None = None,
        widgets: dict | None = None,
        fragment: str = "",
        auto: bool = False,
        timeout: float = 60,
        click: str = "",
    ) -> Run:
        """Sends a rerun (widget values as JSON strings or plain values; `click`: the id of a button
        clicked, for this run only) and reads its messages until the run ends."""
        self.page = self.page if page is None else page
        self.query = self.query if query is None else query
        self.values.update(widgets or {})
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_name, state.fragment_id, state.is_auto_rerun = self.query, self.page, fragment, auto
        for wid, value in self.values.items():
            w = state.widget_states.widgets.add()
            w.id = wid
            if isinstance(value, bool):
                w.bool_value = value
            elif isinstance(value, str) and value.startswith(("{", "[")):
                w.json_value = value
            elif isinstance(value, str):
                w.string_value = value
            elif isinstance(value, int):
                w.int_value = value
            else:
                w.double_value = float(value)
        if click:
            w = state.widget_states.widgets.add()
            w.id, w.trigger_value = click, True
        self.ws.send_binary(msg.SerializeToString())
        return self.read(timeout)

    def read(self, timeout: float = 60) -> Run:
        run = Run()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.ws.recv()
            if not isinstance(data, bytes):
                continue
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                which = element.WhichOneof("type")
                inner = getattr(element, which)
                run.drawn.append(which)
                if which == "exception":
                    run.exceptions.append(inner.message)
                elif hasattr(inner, "id") and inner.id:
                    run.widgets.append(Widget(inner.id, which, msg.delta.fragment_id, inner))
            elif kind == "page_info_changed":
                run.links.append((len(run.drawn), msg.page_info_changed.query_string))
            elif kind == "auto_rerun":
                run.auto_rerun.append((msg.auto_rerun.interval, msg.auto_rerun.fragment_id))
            elif kind == "script_finished":
                run.status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if run.status == "FINISHED_EARLY_FOR_RERUN":  # st.switch_page, st.rerun: the run that follows is the page's
                    run = Run()
                    continue
                return run
        raise TimeoutError(f"no end of run within {timeout} s")


def drawings(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """n different drawings as the Draw canvas sends them: the 280x280 canvas as a PNG data URL,
    and the page's 28x28 digit (784 bytes, base64)."""
    import base64

    from PIL import Image, ImageDraw

    from ae import preprocess

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
        points = [(rng.uniform(40, 240), rng.uniform(40, 240)) for _ in range(rng.randint(2, 5))]
        ImageDraw.Draw(img).line(points, fill=(255, 255, 255, 255), width=20, joint="curve")
        buffer = io.BytesIO()
        img.save(buffer, format="PNG")
        digit = (preprocess.to_mnist(img) * 255).round().astype("uint8").tobytes()
        out.append(("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(), base64.b64encode(digit).decode()))
    return out
