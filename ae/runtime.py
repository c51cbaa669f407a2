"""Process settings for serving, training and benchmarking, each one explicit function.

Nothing here runs on import: `app.py` calls `tune_for_serving()` first thing, training calls
`tune_for_training()`, the bench calls the one it measures. docs/performance.md says what each
setting bought and how it was measured.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os

INSTALL_TRAINING = "pip install -r requirements-train.txt"  # what adds training (torch) to a serving install


def torch_installed() -> bool:
    """Whether this install can train (requirements-train.txt); serving never needs torch."""
    return importlib.util.find_spec("torch") is not None


def training_allowed(secret: str | bool | None = None) -> bool:
    """False when AE_TRAINING (else the app's `training` secret) says off: a public app starts no jobs."""
    setting = os.environ.get("AE_TRAINING")
    if setting is None and secret is not None:
        setting = str(secret)
    return (setting or "on").strip().lower() not in ("off", "false", "0", "no")


def keep_freed_memory() -> None:
    """Let glibc keep freed tensor buffers for the next batch instead of handing them back to the
    OS and faulting them in again, which by default it did after every batch. Process-wide; a
    no-op where libc is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: buffers up to 32 MB come from the heap...
    libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: ...which keeps up to 256 MB free at its top


def return_freed_memory() -> None:
    """Buffers over 256 KiB from mmap, handed back when freed: a server gives back what a burst of
    work took (Explore's 2,000 codes, Compress's curves), where glibc's sliding threshold had kept
    hundreds of MB after it. Process-wide; a no-op where libc is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-3, 256 << 10)  # M_MMAP_THRESHOLD (fixed: no longer raised by each large free)
    libc.mallopt(-1, 8 << 20)  # M_TRIM_THRESHOLD: at most 8 MB kept free at the heap's top


def answer_without_delay() -> None:
    """TCP_NODELAY on every TCP connection the server accepts. asyncio sets it only where a socket's
    protocol number says TCP, and the socket Streamlit's server listens on says 0: with Nagle's
    algorithm on, a run's messages after the first waited for the browser's delayed ACK, about 40 ms
    on every rerun, whatever the page (docs/performance.md)."""
    import asyncio.base_events
    import socket

    def nodelay(sock) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    asyncio.base_events._set_nodelay = nodelay


_serving = False


def lower_priority() -> None:
    """The calling thread yields the CPU to the pages' own (Linux: a thread has its own nice value)."""
    import threading

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)
    except (AttributeError, OSError):
        pass


def tune_for_serving() -> None:
    """Many short requests from many sessions on few cores: one thread each, and the objects of the
    big imports frozen out of the garbage collector's reach.

    Must run before torch is imported (by a training job): OpenMP reads OMP_NUM_THREADS when it
    loads, and Streamlit runs every rerun in a fresh thread, which would otherwise get a team of
    every core. The served models run in onnxruntime sessions of one thread each (ae.served).
    """
    global _serving
    if _serving:  # once per process: app.py runs again on every rerun
        return
    _serving = True
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import onnxruntime  # noqa: F401  (what computes the models: loaded before the freeze)
    import pandas  # noqa: F401  (Streamlit's components import it and pyarrow at a widget's first draw)
    import plotly.graph_objects  # noqa: F401  (the pages use it)
    import pyarrow  # noqa: F401
    import streamlit  # noqa: F401

    return_freed_memory()
    answer_without_delay()
    gc.freeze()  # a full collection walked the ~10^6 objects these imports leave, mid-rerun


def tune_for_training() -> int:
    """Every core for this thread's OpenMP team (a training job's thread in the app too); returns
    the thread count it had, for `restore_threads`."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    keep_freed_memory()
    return before


def restore_threads(count: int) -> None:
    import torch

    torch.set_num_threads(count)
