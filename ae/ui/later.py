"""Results that take seconds, computed once per key in a background thread: a page shows what it
has at once and the rest when it is ready, instead of a spinner in front of everything.

    curves = later.result(("curves", *choice.version), compress.curves, ...)   # None until ready
    if curves is None:
        later.waiting(("curves", *choice.version), "Measuring ... (about 10 s)")
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import streamlit as st

from ae.runtime import lower_priority

# One worker, niced: the pages' own reruns come first. Its results stay for the process.
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ae-later", initializer=lower_priority)
_FUTURES: dict[tuple, Future] = {}
_LOCK = threading.Lock()


def start(key: tuple, fn, *args) -> Future:
    """fn(*args), started now unless it already was (once per key per process)."""
    with _LOCK:
        if key not in _FUTURES or (_FUTURES[key].done() and _FUTURES[key].exception() is not None):
            _FUTURES[key] = _POOL.submit(fn, *args)  # a failure is tried again next time it is asked for
        return _FUTURES[key]


def result(key: tuple, fn, *args):
    """fn(*args)'s result if it is ready, else None (and it is on its way); its exception if it failed."""
    future = start(key, fn, *args)
    return future.result() if future.done() else None


@st.fragment(run_every=1.0)
def waiting(key: tuple, message: str) -> None:
    """A note while the result for `key` is measured; the page reruns once it is ready."""
    future = _FUTURES.get(key)
    if future is None or future.done():
        st.rerun()
    st.info(message, icon=":material/hourglass_top:")
