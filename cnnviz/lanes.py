"""Two lanes of work in a server shared by a class: big one-off jobs run at low OS priority.

A 49-megapixel PNG takes ~0.7 s of a core to decode; decoded on the student's own script
thread it competes on equal terms with thirty classmates' quick interactions and stretches
their waiting (measured with ``python -m bench load``: p95 2.4 s with one such student against
1.1 s without). :func:`low_priority` runs such a job on one process-wide worker thread whose
Linux nice value is 19: it gets a core whenever one is idle, and yields it to the class's
ordinary work (scheduled per thread by the kernel; PIL and torch release the GIL). One
worker: two big uploads at once queue, so the memory they need is not paid twice.
On systems without per-thread priorities the worker runs at normal priority.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from PIL import Image

from cnnviz.images import decode_image, header_size

__all__ = ["HEAVY_PIXELS", "decode_upload", "low_priority"]

T = TypeVar("T")

HEAVY_PIXELS = int(os.environ.get("CNNVIZ_HEAVY_PIXELS", 8_000_000))  # a 12 MP phone JPEG decodes at 1/2 scale
_LOW_NICE = 19
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lower_my_priority() -> None:
    # Linux: PRIO_PROCESS with a thread id sets that thread's nice value only
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOW_NICE)


def _worker() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="cnnviz-low-priority", initializer=_lower_my_priority)
        return _pool


def low_priority(fn: Callable[..., T], *args, **kwargs) -> T:
    """``fn(*args, **kwargs)`` on the low-priority worker; its result or its exception."""
    return _worker().submit(fn, *args, **kwargs).result()


def decode_upload(data: bytes, name: str = "") -> Image.Image:
    """:func:`cnnviz.images.decode_image` of an upload, in the low-priority lane when the
    header announces more than ``HEAVY_PIXELS`` pixels (after JPEG's reduce-on-load)."""
    size = header_size(data)
    if size is not None and size[0] * size[1] > HEAVY_PIXELS:
        return low_priority(decode_image, data, name=name)
    return decode_image(data, name=name)
