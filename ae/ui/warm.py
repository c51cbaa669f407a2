"""What a first visit would wait for, done before and as the server starts: every checkpoint
loaded and MNIST read (`essentials`, before the server answers: under a second), then in the
background the default model's map of test digits and its Compress measures (unless its
checkpoint shipped them: ae.shipping.ship), its class map's file and every model's arguments for the
page, the default first (`start`). A class that arrives at once on a fresh server finds it ready.
`python -m ae.serve` does both; app.py starts the background part at the first visit too (for
`streamlit run app.py`). The caches warmed are the process's own (functools),
which exist before the Streamlit runtime does and which no client can empty."""

from __future__ import annotations

import logging
import threading
import time

from ae import runtime

_STARTED = threading.Event()
log = logging.getLogger(__name__)


def _default():
    from ae.ui import catalog

    choices = catalog.loaded_models()
    return next((c for c in choices if c.name == catalog.DEFAULT_MODEL), choices[0] if choices else None), choices


def essentials() -> None:
    """Every checkpoint and MNIST: what the first page asks for (the default model's test codes,
    a second of encoding, come first in the background). The training digits only where the
    default model's measures are to be made here: reading them holds the whole split for a moment."""
    from ae import compress
    from ae.ui import inputs

    default, _ = _default()
    if default is not None and inputs.test_digits() is not None and compress.shipped(default.model) == (None, None):
        inputs.train_digits()


def start() -> None:
    """The rest, in a background thread, once per process."""
    if _STARTED.is_set():
        return
    _STARTED.set()
    threading.Thread(target=_warm, name="ae-warm", daemon=True).start()


def _warm() -> None:
    runtime.lower_priority()
    from ae import live
    from ae.ui import catalog, classroom, inputs, measures

    began = time.perf_counter()
    try:
        default, choices = _default()
        if default is None:
            return
        if inputs.test_digits() is not None:
            measures.quantiser(default), measures.curves(default)  # queued in ae.ui.later's worker
        catalog.digit_map(default)  # Explore's map, the class's, the code editor's: shipped, else made here
        classroom.background(default)
        for choice in [default, *(c for c in choices if c is not default)]:
            live.model_args(choice)  # exported for the page
    except Exception:  # warming is a favour: a failure here shows again where a page asks for it
        log.exception("warming up failed")
    log.info("warmed up in %.1f s", time.perf_counter() - began)
