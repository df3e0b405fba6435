"""Process-wide settings for a server shared by a class."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path

import torch

from cnnviz.serving import reclaim
from cnnviz.ui.warm_start import import_all, imports


def keep_imports_out_of_gc() -> None:
    """Freeze every object alive now out of the cyclic garbage collector's reach.

    Streamlit calls gc.collect after every script run; with torch, captum and the model's
    objects to walk, that costs ~0.2 s per interaction. Called at the top of every run (the
    previous run's cycles were collected just after it ended), so objects that pages import
    lazily are frozen too. Measured (bench/bench_load.py, 30 sessions): p95 latency 2.9×
    single-user this way, 10× when frozen only once per process. What dies after being
    frozen (a closed session, a replaced script runner) waits for :func:`cnnviz.serving.reclaim.sweep`.
    """
    reclaim.freeze()


def torch_threads() -> int:
    """Torch's intra-op threads for the server: ``CNNVIZ_TORCH_THREADS``, default 1.

    Many sessions share a few cores: one thread per forward, and several forwards at once
    on model replicas (:func:`model_replicas`), keep every core busy without the second
    half of a two-thread op spinning while it waits for a core (measured: a 35 ms CPU
    forward cost ~570 ms of server CPU with two threads on a loaded 2-core machine;
    docs/PERFORMANCE.md, "Both cores"). Idempotent; call it at the top of every run.
    """
    n = max(1, int(os.environ.get("CNNVIZ_TORCH_THREADS", "1")))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def model_replicas() -> int:
    """Copies of each shared model beyond the first: ``CNNVIZ_MODEL_REPLICAS``, default one
    per core beyond the first (at most 3), so that many forwards can run at once."""
    default = min(3, max(0, (os.cpu_count() or 1) - 1))
    return max(0, int(os.environ.get("CNNVIZ_MODEL_REPLICAS", default)))


_preload_lock = threading.Lock()
_preloaded = False


def preload_pages(folder: Path) -> None:
    """Import, once per process and in the first run, the core modules the pages use.

    Pages import their modules (captum, pandas, the explanation code...) on a student's
    first visit; with a class arriving at once, those imports (~0.9 s of CPU, holding the
    GIL) landed in the middle of thirty students' interactions. Runs in the first visitor's
    script (others arriving meanwhile wait for it). Served by asgi.py, the server's
    warm start (:mod:`cnnviz.ui.warm_start`) has imported them before any run: this is for
    ``streamlit run app.py`` and the tests' runs.
    """
    global _preloaded
    if _preloaded:
        return
    with _preload_lock:
        if not _preloaded:
            import_all(imports(sorted(folder.glob("*.py"))))
            _preloaded = True


_nodelay_done = threading.Lock()


def send_pictures_without_delay() -> None:
    """TCP_NODELAY on this server's TCP sockets, once per process (Linux).

    Streamlit binds its listening socket itself, without naming the protocol, so asyncio
    does not turn off Nagle's algorithm on the connections it accepts. A picture's headers and
    body are then written separately and the body waits for the browser's delayed ACK: every
    picture fetched on a kept-alive connection took ~44 ms instead of ~1 ms (measured on the
    loopback with a raw socket client: 42.5, 43.9, 44.0 ms). Connections accepted later inherit
    the option from the listening socket; those already open get it here too.
    """
    if _nodelay_done.acquire(blocking=False):
        nodelay_on_tcp_sockets()


def nodelay_on_tcp_sockets() -> int:
    """Set TCP_NODELAY on every TCP stream socket this process holds; how many (Linux's
    /proc/self/fd; 0 elsewhere)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return 0
    done = 0
    for entry in list(fds.iterdir()):
        with contextlib.suppress(OSError, ValueError):
            if not os.readlink(entry).startswith("socket:"):
                continue
            s = socket.socket(fileno=os.dup(int(entry.name)))  # a second handle, closed below
            with s:
                if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM:
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    done += 1
    return done
