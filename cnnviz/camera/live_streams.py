"""The class's live camera streams: a cap, one stream per student, a frame rate the server
grants, and streams that stop when their tab goes.

* **Registered by the page, live by its frames.** The Live page registers its session's
  stream (:meth:`Streams.register`: a random token, the model and the student's choices);
  the browser then posts frames with that token (:mod:`cnnviz.camera.live_http`). A stream counts
  as *live* while frames come: one that sent none for ``IDLE_S`` seconds (its tab closed,
  hidden or asleep) is live no more and frees its place at once; its next frame, if any,
  asks for a place again.
* **Capped.** At most ``CNNVIZ_MAX_LIVE`` streams are live at once (default 4); a frame of
  one more is refused with a message (:class:`LiveRefused`). A student has one live
  stream: their newer tab's takes the older one's place (which is told so).
* **Paced by the server.** Each reply says when the next frame may come (``next_ms``):
  at most ``CNNVIZ_LIVE_FPS`` frames a second, and no faster than the stream's share of
  the CPU allows, given what its frames cost lately - ``LIVE_SHARE`` of a core for all live
  streams together while the class is quiet, ``BUSY_SHARE`` while page runs (the class's
  clicks, :mod:`cnnviz.serving.page_activity`) are in flight. Before a frame is analysed it waits,
  at most ``YIELD_S``, for the page runs in flight to end, as the long jobs do: the class's
  clicks first.
* **Nothing stored.** A stream keeps only its latest frame's bytes (for Freeze) in memory;
  they go with the stream.

No Streamlit here.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cnnviz.camera.live import LiveSettings
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.serving import page_activity

__all__ = ["MAX_LIVE", "LiveRefused", "Stream", "Streams", "STREAMS", "grant_ms"]

MAX_LIVE = max(0, int(os.environ.get("CNNVIZ_MAX_LIVE", 4)))
MAX_FPS = float(os.environ.get("CNNVIZ_LIVE_FPS", 20))
IDLE_S = 3.0  # no frame for this long: the stream is live no more (its tab closed or slept)
FORGET_S = 30 * 60  # a registered stream that sent nothing for this long is forgotten
LIVE_SHARE = 1.0  # cores all live streams may use while the class is quiet
BUSY_SHARE = 0.25  # ... while the class's clicks are in flight
YIELD_S = 0.25  # a frame waits at most this long for the class's clicks in flight
MAX_FRAME_BYTES = 512 << 10  # a 320 px JPEG is 10-40 kB; a frame bigger than this is refused


class LiveRefused(CnnvizError):
    """A frame that is not analysed: over the cap, a stream replaced or unknown. ``status``:
    the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 429):
        super().__init__(message)
        self.status = status


@dataclass
class Stream:
    """One session's live view: its ``token`` (the frames' credential), ``session`` (the
    Streamlit session), ``student``, the model and the choices, and what its frames cost."""

    token: str
    session: str
    student: str
    lm: LoadedModel
    settings: LiveSettings
    registered: float  # the clock's time when the page registered it
    last_frame: float | None = None  # the clock's time of the latest frame (None: none since it went idle)
    cost_s: float = 0.0  # recent seconds of one frame's analysis (an exponential average)
    latest: bytes | None = None  # the latest frame's bytes, for Freeze
    replaced: bool = False  # the student's newer stream took its place
    frames: int = 0

    def live(self, now: float) -> bool:
        return self.last_frame is not None and now - self.last_frame < IDLE_S and not self.replaced


def grant_ms(cost_s: float, live: int, busy: bool, *, max_fps: float = MAX_FPS) -> int:
    """Milliseconds from a reply to its stream's next frame, so that frames start at most
    ``max_fps`` times a second and ``live`` streams whose frames cost ``cost_s`` seconds each
    use at most ``LIVE_SHARE`` (``BUSY_SHARE`` when ``busy``) of a core between them."""
    share = (BUSY_SHARE if busy else LIVE_SHARE) / max(1, live)
    return int(round(1000 * max(0.0, max(1.0 / max_fps, cost_s / share) - cost_s)))


class Streams:
    """The registry of live streams (:data:`STREAMS` is the server's); thread-safe."""

    def __init__(self, cap: int = MAX_LIVE, clock: Callable[[], float] = time.monotonic):
        self.cap = cap
        self._clock = clock
        self._lock = threading.Lock()
        self._by_token: dict[str, Stream] = {}
        self._by_session: dict[str, str] = {}

    def register(self, session: str, student: str, lm: LoadedModel, settings: LiveSettings) -> str:
        """The session's stream with these choices (created once, updated on later runs);
        returns its token."""
        with self._lock:
            self._forget_old()
            token = self._by_session.get(session)
            s = self._by_token.get(token) if token else None
            if s is None:
                token = secrets.token_urlsafe(24)
                s = self._by_token[token] = Stream(token, session, student, lm, settings, self._clock())
                self._by_session[session] = token
            s.lm, s.settings, s.student = lm, settings, student
            return token

    def close(self, token: str) -> None:
        """End the stream ``token`` (the tab closed, the camera stopped): its place is free now."""
        with self._lock:
            s = self._by_token.get(token)
            if s is not None:
                s.last_frame, s.latest = None, None

    def forget_session(self, session: str) -> None:
        """Drop the session's stream (it left the Live page or ended)."""
        with self._lock:
            token = self._by_session.pop(session, None)
            self._by_token.pop(token or "", None)

    def live(self) -> int:
        """Streams live now."""
        now = self._clock()
        with self._lock:
            live = 0
            for s in self._by_token.values():
                if s.live(now):
                    live += 1
                else:
                    s.latest = None  # an idle stream's frame is not kept for a later Freeze
            return live

    def latest(self, session: str) -> bytes | None:
        """The session's latest frame (for Freeze), or None."""
        now = self._clock()
        with self._lock:
            s = self._by_token.get(self._by_session.get(session, ""))
            return s.latest if s is not None and s.live(now) else None

    def language(self, token: str) -> str:
        """The language of stream ``token``'s student ("en" for an unknown token)."""
        with self._lock:
            s = self._by_token.get(token)
            return s.settings.lang if s is not None else "en"

    def admit(self, token: str, size: int) -> Stream:
        """A frame of ``size`` bytes arrives for ``token``: its stream, now live; raises
        :class:`LiveRefused` (unknown or replaced stream, too big, over the cap)."""
        if size > MAX_FRAME_BYTES:
            raise LiveRefused(_("This frame is too large; the live view sends small pictures."), 413)
        now = self._clock()
        with self._lock:
            s = self._by_token.get(token)
            if s is None:
                raise LiveRefused(_("This live view has ended; reload the page to start it again."), 410)
            if s.replaced:
                raise LiveRefused(
                    _("Your live view moved to your other tab; turn the camera off and on to bring it back here."),
                    409,
                )
            if not s.live(now):
                others = [o for o in self._by_token.values() if o is not s and o.live(now)]
                mine = [o for o in others if o.student == s.student]
                if len(others) - len(mine) >= self.cap:
                    raise LiveRefused(
                        _(
                            "The class's {n} live views are all in use; try again in a moment, "
                            "or take a still photo below."
                        ).format(n=self.cap)
                    )
                for o in mine:  # one live stream per student: the newest tab's
                    o.replaced, o.latest = True, None
            s.last_frame = now
            return s

    def done(self, s: Stream, data: bytes, seconds: float) -> None:
        """Stream ``s``'s frame ``data`` took ``seconds`` to analyse: keep it as the latest."""
        with self._lock:
            s.cost_s = seconds if s.frames == 0 else 0.7 * s.cost_s + 0.3 * seconds
            s.frames += 1
            if s.last_frame is not None and not s.replaced:  # not closed meanwhile (the tab went)
                s.latest, s.last_frame = data, self._clock()

    def next_ms(self, s: Stream, busy: bool) -> int:
        """When stream ``s`` may send its next frame (:func:`grant_ms`)."""
        return grant_ms(s.cost_s, max(1, self.live()), busy)

    def _forget_old(self) -> None:
        now = self._clock()
        for token, s in list(self._by_token.items()):
            if now - (s.last_frame or s.registered) > FORGET_S:
                del self._by_token[token]
                if self._by_session.get(s.session) == token:
                    del self._by_session[s.session]


def class_first() -> bool:
    """Wait (at most ``YIELD_S``) while the class's page runs are in flight; whether it was busy."""
    busy = page_activity.in_flight() > 0
    if busy:
        page_activity.wait_quiet(YIELD_S)
    return busy


STREAMS = Streams()
