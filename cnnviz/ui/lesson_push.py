"""Push a class's moves to the sessions of this process that follow it.

Polling made every follower's browser ask the server each second whether its class had
moved, and a move waited up to a poll to be seen. Instead, one :class:`Watcher` per app
process reads the revisions of the classes that have followers here (``ClassStore.revisions``:
one small SQLite read every :data:`WATCH_S`) and reruns exactly the follower sessions whose
class moved (``compat.rerun_session``). A follower whose class moved to another step is
rerun straight on that step's page and view (its ``ClassState`` goes to ``rerun``): a run of
the old page that only switched pages cost as much again. Each process watches its own
sessions, so it works behind the multi-process nginx setup.

At most :data:`WINDOW` pushed runs are in flight at once; the next is asked as soon as one
ends (:meth:`Watcher.finished`, at the end of the follower's page run). Thirty page runs
asked at once share the interpreter and all finish late, and every other student's click
waits behind thirty threads; asked at a fixed pace, the interpreter idled between them
(30 × 60 ms: the last follower saw the step after 1.8 s however quick the runs were). A run
that never reports its end holds its place for :data:`HOLD_S` at most.

Without Streamlit's private rerun (``compat.can_rerun()`` False) nothing is pushed and the
followers' fragment polls every second, as before (``lesson_follow``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from cnnviz.lessons.format import LessonError
from cnnviz.lessons.store import ClassState, ClassStore

_LOG = logging.getLogger(__name__)
WATCH_S = 0.2  # a move reaches the followers within this plus their page runs
WINDOW = int(os.environ.get("CNNVIZ_PUSH_WINDOW", 2))  # pushed page runs in flight at once
HOLD_S = 0.5  # a pushed run that has not ended after this no longer holds its place


class Watcher:
    """The follower sessions of this process, per class, and the thread that reruns them.

    Args:
        store: the class store.
        rerun: ``rerun(sid, cs)`` asks a session to run again: on the class's step in ``cs``
            (a :class:`ClassState`) when the class moved past the step it shows, else (None:
            a reveal, or the class ended) its own page; False when it is gone.
        every: seconds between two reads of the revisions; window: pushed runs in flight at
            once; hold: seconds a pushed run that did not report its end holds its place;
            thread: False: no thread of its own (a test calls :meth:`push`).
    """

    def __init__(
        self,
        store: ClassStore,
        rerun: Callable[[str, ClassState | None], bool],
        every: float = WATCH_S,
        window: int = WINDOW,
        hold: float = HOLD_S,
        thread: bool = True,
    ):
        self.store, self.rerun, self.every, self.window, self.hold = store, rerun, every, window, hold
        self._shown: dict[str, dict[str, tuple[int, int | None]]] = {}  # code -> {sid: (revision, step) it showed}
        self._asked: dict[str, int] = {}  # session id -> revision it was asked to show
        self._in_flight: dict[str, float] = {}  # session id -> when its pushed run was asked
        self._lock = threading.Lock()
        self._ended = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._threaded = thread

    def watch(self, code: str, sid: str, revision: int, step: int | None = None) -> None:
        """Session ``sid`` shows class ``code`` at ``revision`` and ``step`` (call it on each
        of its runs)."""
        with self._lock:
            for other, sessions in list(self._shown.items()):  # one class per session
                if other != code and sessions.pop(sid, None) is not None and not sessions:
                    del self._shown[other]
            self._shown.setdefault(code, {})[sid] = (revision, step)
            if self._thread is None and self._threaded:
                self._thread = threading.Thread(target=self._run, name="cnnviz-class-watch", daemon=True)
                self._thread.start()

    def forget(self, sid: str) -> None:
        """Session ``sid`` follows no class any more (on its own, left, or gone)."""
        with self._lock:
            for code in [c for c, s in self._shown.items() if s.pop(sid, None) is not None and not s]:
                del self._shown[code]
            self._asked.pop(sid, None)
            self._end(sid)

    def finished(self, sid: str) -> None:
        """Session ``sid``'s page run ended (app.py, after the page): its place is free."""
        with self._lock:
            self._end(sid)

    def _end(self, sid: str) -> None:
        if self._in_flight.pop(sid, None) is not None:
            self._ended.notify()

    def followers(self) -> dict[str, int]:
        """code -> how many sessions of this process follow it."""
        with self._lock:
            return {c: len(s) for c, s in self._shown.items()}

    def due(self) -> list[tuple[str, ClassState | None]]:
        """One read of the store: the sessions whose class moved past what they show (or
        ended), each once per revision, with the class's state when they must open another
        step (one more read per class that moved)."""
        with self._lock:
            codes = list(self._shown)
        if not codes:
            return []
        try:
            now = self.store.revisions(codes)
        except LessonError:  # the store is busy: the next pass reads again
            return []
        out: list[tuple[str, int, int | None]] = []
        with self._lock:
            for code, sessions in self._shown.items():
                rev = now.get(code, -1)  # -1: the class ended; its followers' runs say so
                for sid, (shown, step) in sessions.items():
                    if shown != rev and self._asked.get(sid) != rev:
                        self._asked[sid] = rev
                        out.append((sid, code, step))
        states = {code: self._state(code) for code in {code for _, code, _ in out}}
        moved = []
        for sid, code, step in out:
            cs = states[code]
            moved.append((sid, cs if cs is not None and cs.step != step else None))
        return moved

    def _state(self, code: str) -> ClassState | None:
        try:
            return self.store.state(code)
        except LessonError:  # ended, or the store is busy: a plain rerun, whose bar says which
            return None

    def push(self) -> int:
        """One pass: rerun the sessions :meth:`due` lists, each when a place in the window is
        free. Returns how many were asked."""
        due = self.due()
        for sid, cs in due:
            self._take_place(sid)
            if not self.rerun(sid, cs):
                self.forget(sid)  # a closed tab
        return len(due)

    def _take_place(self, sid: str) -> None:
        """Wait until fewer than :attr:`window` pushed runs are in flight, then count ``sid``'s."""
        with self._ended:
            while True:
                now = time.monotonic()
                for other in [o for o, t in self._in_flight.items() if now - t >= self.hold]:
                    del self._in_flight[other]  # ended without saying so (a run stopped early)
                if len(self._in_flight) < self.window:
                    break
                self._ended.wait(self.hold - (now - min(self._in_flight.values())))
            self._in_flight[sid] = time.monotonic()

    def _run(self) -> None:
        while True:
            t = time.monotonic()
            try:
                self.push()
            except Exception:  # never let the thread die: the followers' polls would be all that is left
                _LOG.exception("the class watcher's pass failed")
            time.sleep(max(0.0, self.every - (time.monotonic() - t)))
