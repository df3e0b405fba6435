"""Return memory nothing uses any more: garbage that the per-run ``gc.freeze`` hid from the
collector, and heap that glibc keeps after it was freed (an upload's transient copies:
ten sessions' folder floods left 200 MB of it).

The app freezes every object alive at the top of each script run (``cnnviz.ui.process``:
Streamlit's ``gc.collect`` after each run then skips torch's objects, ~0.2 s saved per
interaction). A frozen object is never collected, and with many sessions at once "alive"
includes every other session's objects of the moment: a closed session's state, and each
replaced script runner holding its request (a 20 MB query string: +40 MB per session,
measured), stayed frozen for good. :func:`freeze` and :func:`sweep` take one lock, so a
sweep's collection and a run's freeze never interleave.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time

__all__ = ["MIN_INTERVAL_S", "freeze", "sweep", "trim"]

MIN_INTERVAL_S = 5.0  # a full collection walks ~500k objects (0.25-0.45 s of GIL): not more often
_lock = threading.Lock()
_last = -MIN_INTERVAL_S


def _libc_trim():
    """glibc's ``malloc_trim`` (None elsewhere): gives the free pages of every arena back to the OS."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_trim = _libc_trim()


def freeze() -> None:
    """``gc.freeze()``, never in the middle of a :func:`sweep`."""
    with _lock:
        gc.freeze()


def sweep(min_interval_s: float = MIN_INTERVAL_S) -> bool:
    """Collect every unreachable object, frozen ones included, refreeze the survivors and give
    freed heap back to the OS. Skipped (False) within ``min_interval_s`` of the last sweep:
    callers may ask whenever a session ends or memory runs short."""
    global _last
    with _lock:
        now = time.monotonic()
        if now - _last < min_interval_s:
            return False
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        trim()
        _last = time.monotonic()
        return True


def trim() -> None:
    """Give the heap glibc keeps free back to the OS (~35 ms for 200 MB, < 1 ms for none)."""
    if _trim is not None:
        _trim(0)
