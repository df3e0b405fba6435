"""One page run at a time per student: a student's many tabs share one turn at the server.

Streamlit runs each session's script on a thread of its own. A student with ten tabs open,
or twenty sessions opened at once, would have ten or twenty threads competing with the
class for the cores and the interpreter's lock, and the class's clicks would slow down
(``bench load``'s hostile student, bench/hostile_class.py). app.py runs each page inside
:func:`student_turn`: a student's other tabs wait until that run ends; the class, one
session per student, never waits here. A fragment's own rerun (a job's poll every second)
does not run app.py and is not gated. A student whose runs used much of a core lately, or
whose tabs' runs queue behind one another, starts each run in the class's pauses
(:func:`cnnviz.serving.page_activity.admitted`). The gates are keyed by whom fairness counts
the session as (``cnnviz.ui.owner.student``: the browser's owner token; a client that keeps
no cookies, by its address, so its many connections share one gate).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cnnviz.serving import page_activity

# owner -> (gate, {session: its runs holding or waiting for the gate})
_GATES: dict[str, tuple[threading.Lock, dict[str | None, int]]] = {}
_GUARD = threading.Lock()
_HELD = threading.local()  # .owners: the turns this thread holds


@contextmanager
def student_turn(owner: str, session: str | None = None) -> Iterator[None]:
    """Hold student ``owner``'s turn while the block runs (reentrant: app.py run inline by a
    page started without it runs inside the turn it already has).

    ``session``: the tab's session id. A run that queued behind another tab's run of the same
    student is part of a burst (tabs opened by the dozen) and heavy from its first run,
    before its CPU shows it (:func:`cnnviz.serving.page_activity.admitted`). A run that
    queued behind its own tab's is not: with Streamlit's fast reruns a second click during a
    run starts a new run while the first one is still ending."""
    held = _HELD.__dict__.setdefault("owners", set())
    if owner in held:
        yield
        return
    with _GUARD:
        gate, users = _GATES.setdefault(owner, (threading.Lock(), {}))
        users[session] = users.get(session, 0) + 1
        burst = any(s != session for s in users)  # another tab's run holds the turn or waits for it
    try:
        with page_activity.waiting():  # a run waiting for its student's other tab uses nothing
            gate.acquire()
        held.add(owner)
        try:
            with _GUARD:
                burst = burst or any(s != session for s in users)  # or arrived while this one waited
            with page_activity.admitted(owner, queued=burst):
                cpu = time.thread_time()
                try:
                    yield
                finally:
                    page_activity.charge(owner, time.thread_time() - cpu)
        finally:
            held.discard(owner)
            gate.release()
    finally:
        with _GUARD:
            users[session] -= 1
            if not users[session]:
                del users[session]
            if not users:  # nobody holds or waits for it: a gate per student ever seen would pile up
                del _GATES[owner]
