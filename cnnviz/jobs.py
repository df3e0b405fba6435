"""Long work for a web page in a background thread: a feature visualisation, an examples pass.

One job per (browser session, kind); a process-wide semaphore lets ``CNNVIZ_MAX_JOBS``
(default 1) run at once, so the rest queue (as trainings do, see training/trainer.py). The
page polls :meth:`Job.snapshot`; a job whose page stopped polling stops itself, and a
stopped job raises ``Stopped`` inside its work, which keeps nothing half-written.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cnnviz.errors import CnnvizError, Stopped

HEARTBEAT_TIMEOUT = float(os.environ.get("CNNVIZ_JOB_HEARTBEAT", 60))  # s without a poll → stop
_SLOTS = threading.BoundedSemaphore(int(os.environ.get("CNNVIZ_MAX_JOBS", 1)))
_REGISTRY: dict[tuple[str, str], Job] = {}
_REGISTRY_LOCK = threading.Lock()

# work(on_progress(done, total), should_stop) -> result
Work = Callable[[Callable[[int, int], None], Callable[[], bool]], object]


@dataclass
class Snapshot:
    """``status``: "queued" | "running" | "done" | "stopped" | "error"."""

    status: str
    done: int
    total: int
    message: str = ""
    result: object = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


@dataclass
class Job:
    """Runs ``work`` in a daemon thread once a slot is free. ``key`` says what it computes."""

    key: object
    work: Work
    _status: str = "queued"
    _done: int = 0
    _total: int = 0
    _message: str = ""
    _result: object = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_poll: float = field(default_factory=time.monotonic)
    _thread: threading.Thread | None = None

    def start(self) -> Job:
        self._thread = threading.Thread(target=self._run, name="cnnviz-job", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _should_stop(self) -> bool:
        return self._stop.is_set() or time.monotonic() - self._last_poll > HEARTBEAT_TIMEOUT

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._done, self._total = done, total

    def _finish(self, status: str, message: str = "", result: object = None) -> None:
        with self._lock:
            self._status, self._message, self._result = status, message, result

    def _run(self) -> None:
        while not _SLOTS.acquire(timeout=0.25):  # queued behind another session's job
            if self._should_stop():
                self._finish("stopped", "Stopped before it started.")
                return
        try:
            with self._lock:
                self._status = "running"
            self._finish("done", result=self.work(self._progress, self._should_stop))
        except Stopped as e:
            self._finish("stopped", str(e))
        except CnnvizError as e:
            self._finish("error", str(e))
        except Exception as e:  # a bug must not kill the server; the page shows one line
            self._finish("error", f"It failed ({type(e).__name__}: {e}).")
        finally:
            _SLOTS.release()

    def snapshot(self) -> Snapshot:
        """The progress so far; also tells the job that its page is still open."""
        self._last_poll = time.monotonic()
        with self._lock:
            return Snapshot(self._status, self._done, self._total, self._message, self._result)


def submit(session: str, kind: str, key: object, work: Work) -> Job:
    """Start ``work`` for (session, kind), stopping that session's previous job of this kind;
    the same key already queued or running is left alone."""
    with _REGISTRY_LOCK:
        old = _REGISTRY.get((session, kind))
        if old is not None and old.key == key and old._status in ("queued", "running"):
            return old
        if old is not None:
            old.stop()
        job = Job(key, work)
        _REGISTRY[(session, kind)] = job
    return job.start()


def get(session: str, kind: str) -> Job | None:
    with _REGISTRY_LOCK:
        return _REGISTRY.get((session, kind))


def forget(session: str, kind: str) -> None:
    with _REGISTRY_LOCK:
        job = _REGISTRY.pop((session, kind), None)
    if job is not None:
        job.stop()
