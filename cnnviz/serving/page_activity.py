"""The class's clicks first: long jobs and heavy students compute in the class's pauses.

A long job (feature visualisation, training, a top-image pass) computes for seconds to
minutes; a page run (a click) for a tenth of a second. A student who uploads fifty photos or
opens tabs by the dozen keeps their one page run (:mod:`cnnviz.ui.fair_runs`) busy all the
time. Both share the cores and the interpreter's lock with the class's clicks; the lock
looks like the scarcer: with a hostile student's attacks the server used 1.3 of its 2 cores
while the class's clicks took 3-6 times as long (``bench load``). The lock takes turns between the threads that want it, whatever they are, and a lower OS priority does
not help (the kernel can leave a lowered thread waiting while it holds the lock, and every
page run waits with it). So the background yields here, cooperatively:

* app.py counts each page run in flight (:func:`page_run`); a run waiting for its student's
  other tab, or a heavy student's run, does not count (:func:`waiting`). Fragment reruns (a
  job's progress poll) do not run app.py and are not counted.
* At each checkpoint (a step, batch or chunk) a job waits while a page run is in flight, for
  at most ``YIELD_S``, so it keeps moving even when the class never pauses
  (:func:`between_steps`).
* A job's thread runs at a lower OS priority (``JOB_NICE``, :func:`background_priority`):
  that does not help with the interpreter's lock, but it does with the cores, where jobs
  compute mostly in torch kernels outside the lock.
* A heavy student (page runs that used over ``HEAVY_SHARE`` of a core lately,
  :func:`charge`) runs in the one lane heavy runs share, starting when no page run is in
  flight or after ``YIELD_S`` (:func:`admitted`).

No Streamlit here: the jobs (:mod:`cnnviz.serving.jobs`) and :mod:`cnnviz.ui.fair_runs` use it.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "HEAVY_SHARE",
    "HOLDING",
    "YIELD_S",
    "JOB_NICE",
    "admitted",
    "background_priority",
    "between_steps",
    "holding_a_model",
    "charge",
    "idle_for",
    "in_flight",
    "page_run",
    "share",
    "wait_quiet",
    "waiting",
]

YIELD_S = float(os.environ.get("CNNVIZ_JOB_YIELD", 1.0))  # s a job's step or a heavy run waits at most
# A student whose page runs used more than this share of a core lately (over about TAU_S)
# is heavy: a walk through the pages uses about a tenth; a flood of uploads or of tabs, all
# of one.
HEAVY_SHARE = float(os.environ.get("CNNVIZ_HEAVY_SHARE", 0.5))
TAU_S = 10.0
JOB_NICE = int(os.environ.get("CNNVIZ_JOB_NICE", 10))  # the job threads' nice value (0: as the class's)

_cond = threading.Condition()
_running = 0  # page runs in flight
_idle_since = time.monotonic()  # when the last page run in flight ended
_usage: dict[str, tuple[float, float]] = {}  # student -> (decayed CPU seconds, when)
_heavy_lane = threading.RLock()  # heavy students' runs, one at a time (re-entrant: a nested turn)
_mine = threading.local()  # .counted: this thread's page runs counted in _running now

HOLDING = threading.local()  # how many replicas (of any model) this thread holds (LoadedModel.use)


def holding_a_model() -> bool:
    """Whether this thread is inside some model's :meth:`LoadedModel.use`.

    A job of the queue must not pause there: the replica would stay locked away from the class.

    Returns:
        True inside a ``use()`` block of any model.
    """
    return getattr(HOLDING, "n", 0) > 0


def _add(n: int) -> None:
    global _running, _idle_since
    with _cond:
        _running += n
        if _running == 0:
            _idle_since = time.monotonic()
            _cond.notify_all()


@contextmanager
def page_run() -> Iterator[None]:
    """Count the block (one page run) as in flight.

    Yields:
        None.
    """
    _mine.counted = getattr(_mine, "counted", 0) + 1
    _add(1)
    try:
        yield
    finally:
        _mine.counted -= 1
        _add(-1)


@contextmanager
def waiting() -> Iterator[None]:
    """Inside :func:`page_run`: the block does not count as in flight (outside one, or nested
    in another :func:`waiting`, nothing changes).

    Yields:
        None.
    """
    n = getattr(_mine, "counted", 0)
    _mine.counted = 0
    _add(-n)
    try:
        yield
    finally:
        _mine.counted = n
        _add(n)


def in_flight() -> int:
    """Page runs in flight now.

    Returns:
        Their number.
    """
    return _running


def idle_for() -> float:
    """Seconds since the last page run ended, none being in flight now (0 while one is).

    Returns:
        The seconds.
    """
    with _cond:
        return 0.0 if _running else time.monotonic() - _idle_since


def wait_quiet(max_s: float = YIELD_S) -> float:
    """Wait until no page run is in flight, or ``max_s`` seconds.

    Args:
        max_s: the longest wait.

    Returns:
        The seconds waited.
    """
    start = time.monotonic()
    with _cond:
        _cond.wait_for(lambda: _running == 0, timeout=max_s)
    return time.monotonic() - start


def between_steps() -> None:
    """A job's checkpoint: wait while a page run is in flight (at most ``YIELD_S``), except
    while holding a shared model: a click may be waiting for that replica."""
    if _running and not holding_a_model():
        wait_quiet()


def background_priority() -> None:
    """Lower the calling thread's CPU priority to ``JOB_NICE`` (a job's thread calls it).

    Jobs compute mostly in torch kernels, outside the interpreter lock, so on a 2-core server
    one job takes a whole core from the class's page runs, whose waits then grow far more
    than the core's share (queues near saturation). At a lower priority a job uses what the
    class leaves, and all of it when the class is idle; at nice 10 it still gets about a
    tenth of a contested core, so it never stops. On Linux the nice value is per thread
    (setpriority(2)), so only this thread is lowered; elsewhere nothing changes.
    """
    if JOB_NICE <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), JOB_NICE))
    except OSError:  # not permitted here: jobs then run at the class's priority
        pass


# ------------------------------------------------------------------ heavy students
def _decayed(student: str, now: float) -> float:
    cpu, when = _usage.get(student, (0.0, now))
    return cpu * math.exp(-(now - when) / TAU_S)


def charge(student: str, cpu_s: float) -> None:
    """Add the CPU time of one of a student's page runs to their recent use.

    Args:
        student: the student key.
        cpu_s: CPU seconds of the run.
    """
    now = time.monotonic()
    with _cond:
        _usage[student] = (_decayed(student, now) + cpu_s, now)
        if len(_usage) > 4096:  # forget those long quiet (an exponential weight keeps no history)
            for k in [k for k, (c, w) in _usage.items() if now - w > 10 * TAU_S]:
                del _usage[k]


def share(student: str) -> float:
    """The share of one core a student's page runs used lately (an average over about
    ``TAU_S``).

    Args:
        student: the student key.

    Returns:
        The share (1.0 is a whole core).
    """
    with _cond:
        return _decayed(student, time.monotonic()) / TAU_S


@contextmanager
def admitted(student: str, max_s: float = YIELD_S, queued: bool = False) -> Iterator[float]:
    """Admit one of a student's page runs (inside :func:`page_run`).

    A heavy student's run takes the one lane heavy runs share (two heavy students, say one
    with cookies and one without, use one thread between them), starts when no page run is in
    flight or after ``max_s``, and does not count as the class's: the heavy get what the class
    leaves. Heavy: a share of a core over ``HEAVY_SHARE`` lately, or ``queued``.

    Args:
        student: the student key.
        max_s: the longest a heavy student's run waits for a quiet moment.
        queued: the run queued behind the same student's others (a burst of tabs): heavy
            at once, where the share shows a burst only after seconds of it.

    Yields:
        The seconds it waited (0 for a student who is not heavy).
    """
    if not queued and share(student) <= HEAVY_SHARE:
        yield 0.0
        return
    start = time.monotonic()
    with waiting(), _heavy_lane:
        wait_quiet(max_s)
        yield time.monotonic() - start
