"""Push a class's moves to the sessions of this process that follow it.

Polling made every follower's browser ask the server each second whether its class had
moved, and a move waited up to a poll to be seen. Instead, one :class:`Watcher` per app
process reads the revisions of the classes that have followers here (``ClassStore.revisions``:
one small SQLite read every :data:`WATCH_S`) and reruns exactly the follower sessions whose
class moved (``compat.rerun_session``). Each process watches its own sessions, so it works
behind the multi-process nginx setup. The reruns are spread :data:`SPREAD_S` apart: thirty
page runs asked at once share the interpreter and all finish late; one after another, the
first ones show the step early and the last no later.

Without Streamlit's private rerun (``compat.can_rerun()`` False) nothing is pushed and the
followers' fragment polls every second, as before (``lesson_follow``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cnnviz.lessons.format import LessonError
from cnnviz.lessons.store import ClassStore

_LOG = logging.getLogger(__name__)
WATCH_S = 0.2  # a move reaches the followers within this plus their page runs
SPREAD_S = 0.06  # between two followers' reruns: about one follower's page run


class Watcher:
    """The follower sessions of this process, per class, and the thread that reruns them.

    Args:
        store: the class store.
        rerun: asks a session (by id) to run its page again; False when it is gone.
        every: seconds between two reads of the revisions; spread: seconds between reruns.
    """

    def __init__(
        self,
        store: ClassStore,
        rerun: Callable[[str], bool],
        every: float = WATCH_S,
        spread: float = SPREAD_S,
    ):
        self.store, self.rerun, self.every, self.spread = store, rerun, every, spread
        self._shown: dict[str, dict[str, int]] = {}  # code -> {session id: revision it showed}
        self._asked: dict[str, int] = {}  # session id -> revision it was asked to show
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, code: str, sid: str, revision: int) -> None:
        """Session ``sid`` shows class ``code`` at ``revision`` (call it on each of its runs)."""
        with self._lock:
            for other, sessions in list(self._shown.items()):  # one class per session
                if other != code and sessions.pop(sid, None) is not None and not sessions:
                    del self._shown[other]
            self._shown.setdefault(code, {})[sid] = revision
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cnnviz-class-watch", daemon=True)
                self._thread.start()

    def forget(self, sid: str) -> None:
        """Session ``sid`` follows no class any more (on its own, left, or gone)."""
        with self._lock:
            for code in [c for c, s in self._shown.items() if s.pop(sid, None) is not None and not s]:
                del self._shown[code]
            self._asked.pop(sid, None)

    def followers(self) -> dict[str, int]:
        """code -> how many sessions of this process follow it."""
        with self._lock:
            return {c: len(s) for c, s in self._shown.items()}

    def due(self) -> list[str]:
        """One read of the store: the sessions whose class moved past what they show (or
        ended), each once per revision."""
        with self._lock:
            codes = list(self._shown)
        if not codes:
            return []
        try:
            now = self.store.revisions(codes)
        except LessonError:  # the store is busy: the next pass reads again
            return []
        out = []
        with self._lock:
            for code, sessions in self._shown.items():
                rev = now.get(code, -1)  # -1: the class ended; its followers' runs say so
                for sid, shown in sessions.items():
                    if shown != rev and self._asked.get(sid) != rev:
                        self._asked[sid] = rev
                        out.append(sid)
        return out

    def push(self) -> int:
        """One pass: rerun the sessions :meth:`due` lists, :attr:`spread` apart. Returns how
        many were asked."""
        sids = self.due()
        for i, sid in enumerate(sids):
            if i and self.spread:
                time.sleep(self.spread)
            if not self.rerun(sid):
                self.forget(sid)  # a closed tab
        return len(sids)

    def _run(self) -> None:
        while True:
            t = time.monotonic()
            try:
                self.push()
            except Exception:  # never let the thread die: the followers' polls would be all that is left
                _LOG.exception("the class watcher's pass failed")
            time.sleep(max(0.0, self.every - (time.monotonic() - t)))
