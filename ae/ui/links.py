"""Every view in its link: the chosen model and each page's state in the URL's query parameters,
so that a teacher hands out a view (or a lesson's step) as a link. A page names its fields; when
a link is opened, their values go into the widgets' state before the widgets are drawn (a bad or
stale one falls back to the default, said once in one line); after each run the current values
go back into the URL.

    FIELDS = [links.Field("level", "denoise_level", links.number(0.0, 1.0))]
    links.restore(FIELDS)       # at the top of the page
    ...                         # the widgets, with their keys
    links.keep(FIELDS)          # at the end of the page (and of a fragment that changes them)
    links.copy_button()         # "Copy a link to this view"
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

PRESENT = "present"  # ?present=1: the projector's view
KEPT = ("room", "teacher", "me", PRESENT)  # parameters that are not a page's fields, kept as they are
SAID = "links_said"  # session: the links whose troubles were said already


class Stale(ValueError):
    """A parameter the page cannot use; its message says what it was, for the one line."""


@dataclass(frozen=True)
class Field:
    name: str  # in the URL
    key: str  # the widget's key in session state
    read: Callable[[str], object]  # the URL's text -> the widget's value; Stale (or ValueError) when it cannot be
    write: Callable[[object], str] = str


def number(lo: float, hi: float, whole: bool = False) -> Callable[[str], float]:
    def read(text: str):
        value = int(text) if whole else float(text)
        if not lo <= value <= hi or value != value:
            raise Stale(f"{text} is not between {lo:g} and {hi:g}")
        return value

    return read


def one_of(choices) -> Callable[[str], object]:
    names = {str(c): c for c in choices}

    def read(text: str):
        if text not in names:
            raise Stale(f"{text!r} is not one of {', '.join(names)}")
        return names[text]

    return read


def flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise Stale(f"{text!r} is not 0 or 1")
    return text == "1"


def write_flag(value) -> str:
    return "1" if value else "0"


def restore(fields: list[Field]) -> None:
    """The link's values into the widgets' state, once per link opened in this session (a rerun
    must not undo what the user changed since); what could not be used is said in one line."""
    query = {k: v for k, v in st.query_params.items() if k not in KEPT}
    opened = urllib.parse.urlencode(sorted(query.items()))
    if st.session_state.get(f"links_opened_{fields[0].key if fields else ''}") == opened:
        return
    st.session_state[f"links_opened_{fields[0].key if fields else ''}"] = opened
    troubles = []
    for field in fields:
        text = query.get(field.name)
        if text is None:
            continue
        try:
            st.session_state[field.key] = field.read(text)
        except (Stale, ValueError, TypeError) as e:
            troubles.append(f"{field.name}: {e}" if isinstance(e, Stale) else f"{field.name}: {text!r} cannot be read")
    if troubles:
        st.info(f"Part of this link could not be used ({'; '.join(troubles)}): the page shows its default there instead.", icon=":material/link_off:")


def keep(fields: list[Field]) -> None:
    """The widgets' current values into the URL, beside the parameters that are not the page's."""
    current = {k: v for k, v in st.query_params.items() if k in KEPT}
    for field in fields:
        if field.key in st.session_state and st.session_state[field.key] is not None:
            current[field.name] = field.write(st.session_state[field.key])
    if dict(st.query_params) != current:
        st.query_params.from_dict(current)
        st.session_state[f"links_opened_{fields[0].key if fields else ''}"] = urllib.parse.urlencode(
            sorted((k, v) for k, v in current.items() if k not in KEPT)
        )  # what is in the URL now is this session's own doing, not a link to restore


def presenting() -> bool:
    """?present=1: the projector's view (sidebar folded, large type, lesson controls only)."""
    return st.query_params.get(PRESENT) == "1"


def link() -> str:
    """This view's link: the page's address as the browser sees it, and its parameters."""
    base = st.context.url or ""
    query = urllib.parse.urlencode(dict(st.query_params))
    return f"{base}?{query}" if query else base


def copy_button() -> None:
    """'Copy a link to this view': the link, with the copy button every code block has."""
    with st.popover("Copy a link to this view", icon=":material/link:"):
        st.code(link(), language=None, wrap_lines=True)
        st.caption("Opened in any browser, it shows this view: the model and this page's settings. Add &present=1 for a projector.")
