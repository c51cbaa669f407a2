"""Every view in its link: the chosen model and each page's state in the URL's query parameters,
so that a teacher hands out a view (or a lesson's step) as a link. A page names its fields; when
a link is opened, their values go into the widgets' state before the widgets are drawn (a bad or
stale one falls back to the default, said in one line); the current values go back into the URL
before the page is drawn and again after it, so the URL is the link to copy.

    FIELDS = [links.Field("level", "denoise_level", links.number(0.0, 1.0))]
    links.restore(FIELDS)       # at the top of the page (app.py restores the model)
    ...                         # the widgets, with their keys
    links.keep(FIELDS)          # at the end of the page, and of a fragment that changes them
    links.copy_button()         # "Copy a link to this view"
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from ae.ui.catalog import MODEL_KEY

MODEL = "model"
PRESENT = "present"  # ?present=1: the view for a projector
OTHERS = ("room", "me", PRESENT)  # parameters that are nobody's field: kept as they are
PRIVATE = ("me", "teacher")  # who this page is: never in a link to share
OPENED = "links_opened"  # session: per page, the link (query) last restored or written
TROUBLES = "links_troubles"  # session: what could not be used of the link, to say in one line
LONGEST = 100  # characters a parameter may have: every field's value is far shorter


class Stale(ValueError):
    """A parameter the page cannot use; the message says why, for the one line."""


@dataclass(frozen=True)
class Field:
    name: str  # in the URL
    key: str  # the widget's key in session state
    read: Callable[[str], object]  # the URL's text -> the widget's value; Stale (or ValueError) when it cannot be
    write: Callable[[object], str] = str


def _shown(text: str) -> str:
    """A link's text as the one line quotes it: short."""
    return repr(text if len(text) <= 24 else text[:24] + "…")


def number(lo: float, hi: float, whole: bool = False) -> Callable[[str], float]:
    def read(text: str):
        value = int(text) if whole else float(text)
        if not lo <= value <= hi:  # NaN fails this too
            raise Stale(f"{_shown(text)} is not between {lo:g} and {hi:g}")
        return value

    return read


def one_of(choices) -> Callable[[str], object]:
    named = {str(c): c for c in choices}

    def read(text: str):
        if text not in named:
            raise Stale(f"{_shown(text)} is not one of {', '.join(named)}")
        return named[text]

    return read


def some_of(choices, most: int | None = None) -> Callable[[str], list]:
    """A comma-separated list of different choices (at most `most`, at most all of them), in the link's order."""
    one = one_of(choices)
    most = min(most or len(choices), len(choices))

    def read(text: str) -> list:
        parts = [part for part in text.split(",") if part]
        if len(parts) > most:
            raise Stale(f"{len(parts)} are more than {most}")
        picked = [one(part) for part in parts]
        if len(set(map(str, picked))) < len(picked):
            raise Stale("a choice is named twice")
        return picked

    return read


def write_list(values) -> str:
    return ",".join(str(v) for v in values)


def flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise Stale(f"{text!r} is not 0 or 1")
    return text == "1"


def write_flag(value) -> str:
    return "1" if value else "0"


def digit_fields(key: str, prefix: str = "") -> list[Field]:
    """A digit source's fields (ae.ui.digit_source): MNIST or a drawing, the class, the test digit."""
    return [
        Field(f"{prefix}source", f"{key}_source", one_of(["MNIST", "Draw"])),
        Field(f"{prefix}class", f"{key}_class", one_of(["any", *range(10)])),
        Field(f"{prefix}digit", f"{key}_index", number(0, 9999, whole=True)),
    ]


def _query() -> dict[str, str]:
    return {k: v for k, v in st.query_params.items() if k not in OTHERS}


def _fresh(scope: str) -> bool:
    """True the first time this page (scope) sees the present link in this session: a rerun must
    not undo what the user changed since, and what the page wrote itself is no link to restore."""
    opened = st.session_state.setdefault(OPENED, {})
    query = urllib.parse.urlencode(sorted(_query().items()))
    if opened.get(scope) == query:
        return False
    opened[scope] = query
    return True


def _read(fields: list[Field]) -> None:
    query = _query()
    for field in fields:
        if field.name not in query:
            continue
        text = query[field.name]
        try:
            if len(text) > LONGEST:
                raise Stale(f"{len(text):,} characters are more than it can be")
            st.session_state[field.key] = field.read(text)
        except (ValueError, TypeError) as e:
            why = str(e) if isinstance(e, Stale) else f"{_shown(text)} cannot be read"
            st.session_state.setdefault(TROUBLES, []).append(f"{field.name}: {why}")


def restore_model(names: list[str]) -> None:
    """The link's model into the picker's state (app.py, before the sidebar is drawn)."""
    if _fresh("app"):
        _read([Field(MODEL, MODEL_KEY, one_of(names))])


def restore(fields: list[Field], page: str) -> None:
    """The link's values into the widgets' state, once per link; one line for what could not be used.
    Then the URL is brought up to date at once: a browser sends its URL with its next click, and one
    sent before the end of this run (a quick Next) must not read as a new link that undoes the run."""
    if _fresh(page):
        _read(fields)
    keep(fields, page)
    troubles = st.session_state.pop(TROUBLES, [])
    if troubles:  # the link's own text, shown as text: never markdown, which would make it a link or a picture
        said = f"Part of this link could not be used ({'; '.join(troubles)}): the page shows its default there instead."
        st.html(f'<div role="note" class="ae-link-note" style="{NOTE_CSS}">{html.escape(said)}</div>')


NOTE_CSS = "padding:0.75rem 1rem;border-radius:0.5rem;background:rgba(61,157,243,0.2);color:#c7ebff;margin-bottom:0.5rem"


def keep(fields: list[Field], page: str) -> None:
    """The model and the widgets' current values into the URL, beside the parameters that are nobody's."""
    current = {k: v for k, v in st.query_params.items() if k in OTHERS}
    if st.session_state.get(MODEL_KEY) and "room" not in current:
        current[MODEL] = str(st.session_state[MODEL_KEY])
    for field in fields:
        value = st.session_state.get(field.key)
        if value is not None:
            current[field.name] = field.write(value)
    if dict(st.query_params) != current:
        st.query_params.from_dict(current)
    st.session_state.setdefault(OPENED, {}).update(
        {page: urllib.parse.urlencode(sorted(_query().items())), "app": urllib.parse.urlencode(sorted(_query().items()))}
    )


def presenting() -> bool:
    """?present=1: the projector's view (sidebar folded, large type, the lesson's controls only)."""
    return st.query_params.get(PRESENT) == "1"


PRESENT_CSS = """<style>
[data-testid='stMain'] { font-size: 1.3rem; }
[data-testid='stMain'] h1 { font-size: 3.2rem; }
[data-testid='stHeader'], [data-testid='stToolbar'], [data-testid='stDecoration'] { display: none; }
</style>"""


def present() -> None:
    """The projector's view, where the link asks for it: larger type, Streamlit's toolbar gone."""
    if presenting():
        st.html(PRESENT_CSS)


def link() -> str:
    """This view's link: the page's address as the browser sees it, with its parameters."""
    base = st.context.url or ""
    query = urllib.parse.urlencode({k: v for k, v in st.query_params.items() if k not in PRIVATE})
    return f"{base}?{query}" if query else base


def copy_button() -> None:
    """'Copy a link to this view': the link in a code block, whose corner button copies it."""
    if presenting():
        return
    with st.popover("Copy a link to this view", icon=":material/link:"):
        st.code(link(), language=None, wrap_lines=True)
        st.caption("Opened in any browser, it shows this view: the model and this page's settings. Add &present=1 for a projector.")
