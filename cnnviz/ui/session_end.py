"""What a session held, given back when it ends.

Streamlit keeps a disconnected session for ``server.disconnectedSessionTTL`` seconds (a
phone that slept reconnects to it), then lets it go. What its runs left behind is garbage
at once, but frozen by the per-run ``gc.freeze`` (:mod:`cnnviz.serving.reclaim`), and glibc keeps
freed heap: 100 sessions opened with a 20 MB query string took the server from 1.45 to
6.85 GB, and nothing came back after they closed (issue 23).

:func:`watch` (app.py, every run) notes the session; one watcher thread per process looks
every ``POLL_S`` seconds which noted sessions have disconnected (``Runtime.is_active_session``,
thread-safe), sweeps then (:func:`cnnviz.serving.reclaim.sweep`) if the server grew by
``SWEEP_GROWTH_MB`` since the last sweep, and once a session has stayed
away longer than Streamlit keeps it, gives back its Train upload (:mod:`held_uploads`), its
photo (:mod:`held_photos`) and its live stream's registration (:mod:`cnnviz.camera.live_streams`).
At every look it gives glibc's free heap back
(:func:`cnnviz.serving.reclaim.trim`: < 1 ms when there is none, 35-80 ms after a class's folder
uploads).

A sweep is a full collection: 0.25-0.45 s holding the interpreter's lock, every page run of
the class stopped meanwhile. After every session's end (every 5 s at most) it took about an
eighth of the lock's time while a class worked beside a student opening and closing tabs;
sessions that held little leave little to sweep, so growth is what calls for one, and it
waits (a minute at most) for a pause of the class: no page run for ``SWEEP_PAUSE_S``. An
instant with none in flight was not one: with thirty students walking, sweeps at such
instants stopped each process three or four times in 20 s, and the clicks that came
meanwhile made the class's slowest (``bench lessons``). Growth alone missed a
class leaving together: a sweep while half of 100 sessions had closed measured the other
half's memory as the new floor, and when they closed nothing had grown (+76 MB kept for
good). So ``SWEEP_AFTER_ENDED`` sessions ended since the last sweep call for one too.
"""

from __future__ import annotations

import os
import threading
import time

from streamlit import config

from cnnviz.camera import live_streams
from cnnviz.serving import memguard, page_activity, reclaim
from cnnviz.ui import compat, held_photos, held_uploads

__all__ = [
    "POLL_S",
    "SWEEP_AFTER_ENDED",
    "SWEEP_GROWTH_MB",
    "SWEEP_PAUSE_S",
    "SWEEP_PUT_OFF_S",
    "Sweeper",
    "look",
    "watch",
]

POLL_S = 3.0
SWEEP_GROWTH_MB = float(os.environ.get("CNNVIZ_SWEEP_GROWTH_MB", 64))
SWEEP_PUT_OFF_S = 60.0  # a sweep waits at most this long for a pause of the class
SWEEP_PAUSE_S = 1.0  # a pause: no page run for this long (a walking class clicks every few 0.1 s)
SWEEP_AFTER_ENDED = 20  # a sweep per this many ended sessions costs the class < 2 ms a session
_lock = threading.Lock()
_seen: dict[str, float | None] = {}  # session id -> when it was found disconnected (None: connected)
_watcher: threading.Thread | None = None


def watch() -> None:
    """Note this run's session and start the watcher once per process (no-op without a server)."""
    global _watcher
    sid = compat.session_id()
    if sid is None or not compat.server_running():
        return
    with _lock:
        _seen[sid] = None
        if _watcher is None:
            _watcher = threading.Thread(target=_loop, name="cnnviz-session-end", daemon=True)
            _watcher.start()


def look(now: float | None = None) -> int:
    """One look at the noted sessions: how many disconnected or expired since the last."""
    kept_s = float(config.get_option("server.disconnectedSessionTTL"))
    now = time.monotonic() if now is None else now
    ended = 0
    with _lock:
        for sid, away_since in list(_seen.items()):
            if compat.session_connected(sid):
                _seen[sid] = None
            elif away_since is None:
                _seen[sid] = now
                ended += 1
            elif now - away_since > kept_s:  # Streamlit has let it go: so does the app
                del _seen[sid]
                held_uploads.STORE.release(sid)
                held_photos.STORE.release(sid)
                live_streams.STREAMS.forget_session(sid)  # its registration (and model) with it
                ended += 1
    return ended


class Sweeper:
    """When the watcher sweeps. ``due``: since when (monotonic s) a sweep has been due, as a
    session ended (None: not due); ``swept``: the server's RSS after the last sweep;
    ``ended``: sessions ended since the last sweep."""

    def __init__(self, swept: int) -> None:
        self.due: float | None = None
        self.swept = swept
        self.ended = 0

    def tick(self, ended: int, now: float | None = None, idle_s: float | None = None) -> bool:
        """One look's housekeeping, ``ended`` sessions having ended at it. Sweeps when one is
        due, the server grew by ``SWEEP_GROWTH_MB`` since the last or ``SWEEP_AFTER_ENDED``
        sessions ended, and the class pauses (no page run for ``SWEEP_PAUSE_S``: its clicks
        would stop for it) or it has been put off for ``SWEEP_PUT_OFF_S``; else gives free
        heap back. ``idle_s``: seconds without a page run (default: this process's). Returns
        whether it swept."""
        now = time.monotonic() if now is None else now
        idle_s = page_activity.idle_for() if idle_s is None else idle_s
        self.ended += ended
        if self.due is None and ended:
            self.due = now
        worth = memguard.rss_bytes() - self.swept > SWEEP_GROWTH_MB * 2**20 or self.ended >= SWEEP_AFTER_ENDED
        quiet = idle_s >= SWEEP_PAUSE_S or (self.due is not None and now - self.due > SWEEP_PUT_OFF_S)
        if self.due is not None and worth and quiet and reclaim.sweep():  # False: the guard's, moments ago
            self.due, self.swept, self.ended = None, memguard.rss_bytes(), 0
            return True
        reclaim.trim()
        return False


def _loop() -> None:
    sweeper = Sweeper(memguard.rss_bytes())
    while compat.server_running():
        time.sleep(POLL_S)
        if not compat.server_running():  # the server stopped while this thread slept (an AppTest ends)
            return
        sweeper.tick(look())
