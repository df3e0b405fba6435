"""The class's page runs in flight, so that long jobs step between the class's clicks.

A long job (feature visualisation, training, a top-image pass) computes for seconds to
minutes; a page run (a click) for a tenth of a second. On a 2-core server a job that computes
while clicks are served takes a core from them and, between its torch kernels, the
interpreter's lock, and the class's waits grow far beyond that core's share. A lower OS
priority alone does not help: the kernel can leave a lowered thread waiting while it holds
the interpreter's lock, and every page run waits with it. So jobs yield here instead: at each
checkpoint (each step, batch or chunk) a job waits while any page run is in flight, for at
most ``max_s``, so it keeps moving (one step per ``max_s``) even when the class never pauses.

app.py counts each run with :func:`page_run`; a run waiting for its student's other tab
(:func:`waiting`) does not count: it uses nothing. Fragment reruns (a job's progress poll)
do not run app.py and are not counted, so a job never waits for its own progress bar.
The same rule holds back a heavy student's page runs (:func:`admitted`), from the
CPU their runs used lately (:func:`charge`). No Streamlit here: the jobs
(:mod:`cnnviz.jobs`) and :mod:`cnnviz.ui.fair_runs` wait on it.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["HEAVY_SHARE", "YIELD_S", "admitted", "charge", "in_flight", "page_run", "wait_quiet", "waiting"]

YIELD_S = float(os.environ.get("CNNVIZ_JOB_YIELD", 1.0))  # s a job's step waits at most for the class
# A student whose page runs used more than this share of a core lately (over about TAU_S)
# is heavy: a walk through the pages uses about a tenth; a flood of uploads or of tabs, all
# of one.
HEAVY_SHARE = float(os.environ.get("CNNVIZ_HEAVY_SHARE", 0.5))
TAU_S = 10.0

_cond = threading.Condition()
_running = 0
_usage: dict[str, tuple[float, float]] = {}  # student -> (decayed CPU seconds, when)
_heavy_lane = threading.RLock()  # heavy students' runs, one at a time (re-entrant: a nested turn)
_mine = threading.local()  # .runs: this thread's page runs counted now (0 or 1; reentrant)


def _add(n: int) -> None:
    global _running
    with _cond:
        _running += n
        if _running == 0:
            _cond.notify_all()


@contextmanager
def page_run() -> Iterator[None]:
    """Count the block (one page run) as in flight."""
    _add(1)
    _mine.runs = getattr(_mine, "runs", 0) + 1
    try:
        yield
    finally:
        _mine.runs -= 1
        _add(-1)


@contextmanager
def waiting() -> Iterator[None]:
    """Inside :func:`page_run`: the block waits for something else and does not count
    (outside one, nothing changes)."""
    n = getattr(_mine, "runs", 0)
    _add(-n)
    try:
        yield
    finally:
        _add(n)


def in_flight() -> int:
    """Page runs in flight now."""
    return _running


def wait_quiet(max_s: float = YIELD_S) -> float:
    """Wait until no page run is in flight, or ``max_s`` seconds.

    Returns:
        The seconds waited.
    """
    start = time.monotonic()
    with _cond:
        _cond.wait_for(lambda: _running == 0, timeout=max_s)
    return time.monotonic() - start


def _decayed(student: str, now: float) -> float:
    cpu, when = _usage.get(student, (0.0, now))
    return cpu * math.exp(-(now - when) / TAU_S)


def charge(student: str, cpu_s: float) -> None:
    """Add ``cpu_s`` CPU seconds of one of ``student``'s page runs to their recent use."""
    now = time.monotonic()
    with _cond:
        _usage[student] = (_decayed(student, now) + cpu_s, now)
        if len(_usage) > 4096:  # forget those long quiet (an exponential weight keeps no history)
            for k in [k for k, (c, w) in _usage.items() if now - w > 10 * TAU_S]:
                del _usage[k]


def share(student: str) -> float:
    """The share of one core ``student``'s page runs used lately (an average over about ``TAU_S``)."""
    with _cond:
        return _decayed(student, time.monotonic()) / TAU_S


@contextmanager
def admitted(student: str, max_s: float = YIELD_S) -> Iterator[float]:
    """Admit one of ``student``'s page runs; inside :func:`page_run`, yields the seconds it
    waited (0 for a student who is not heavy).

    One student runs one page at a time (:mod:`cnnviz.ui.fair_runs`), but a student who
    uploads fifty photos or opens tabs by the dozen keeps that one run busy all the time, and
    the class's clicks share the cores and the interpreter's lock with it. A heavy student's
    run (over :data:`HEAVY_SHARE`) therefore takes the one lane that heavy runs share (two
    heavy students, say one with cookies and one without, use one thread between them) and
    starts when no other page run is in flight, or after ``max_s``: the heavy get what the
    class leaves, and at least a run per ``max_s``.
    """
    if share(student) <= HEAVY_SHARE:
        yield 0.0
        return
    start = time.monotonic()
    with waiting():  # neither the lane's wait nor the class's counts as in flight
        _heavy_lane.acquire()
        wait_quiet(max_s)
    try:
        yield time.monotonic() - start
    finally:
        _heavy_lane.release()
