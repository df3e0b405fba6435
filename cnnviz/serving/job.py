"""One long job of the queue (:mod:`cnnviz.serving.jobs`): its state, its heartbeat, the checkpoint
its work calls, and how its work's end is told to its student.

Work is ``work(on_progress(done, total), should_stop) -> result``; it raises ``Stopped`` to
end early (keeping nothing half-written) and ``CnnvizError`` for a message to the student.
Each kind of job (a feature visualisation, a top-image pass, a slow explanation, a
training: :class:`cnnviz.training.trainer.Trainer`) is only its work, and an object kept as
``task`` where its page needs more than the :class:`~cnnviz.serving.job_forecast.Snapshot`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Protocol

from cnnviz import i18n
from cnnviz.errors import CnnvizError, Stopped, of_error
from cnnviz.i18n import N_, Message
from cnnviz.serving import page_activity
from cnnviz.serving.job_forecast import Snapshot

__all__ = ["Job", "Queue", "Work"]

Work = Callable[[Callable[[int, int], None], Callable[[], bool]], object]


class Queue(Protocol):
    """What a job asks of the queue that made it (:class:`cnnviz.serving.jobs.Engine`)."""

    heartbeat_s: float  # s unpolled (connection closed) before it is abandoned
    grace_s: float  # s unpolled (connection open) before it is abandoned
    quantum_s: float  # s in its slot before it may pause for a classmate
    lock: threading.Condition  # its progress is written under it

    def wake(self) -> None: ...  # a job was stopped: rethink who runs
    def yield_slot(self, job: Job) -> bool: ...  # past its quantum: pause if a classmate waits
    def snapshot(self, job: Job) -> Snapshot: ...  # what its page is told


class Job:
    """One piece of long work in the queue; made by :meth:`cnnviz.serving.jobs.Engine.submit`.

    ``task``: an object the caller keeps with the job (the Trainer whose work this is).
    """

    def __init__(self, engine: Queue, owner: str, key: Hashable, work: Work, *, estimate, units, cost, alive, task):
        self.engine, self.owner, self.key, self.work, self.task = engine, owner, key, work, task
        self.estimate: float | None = estimate  # seconds, when known
        self.units, self.cost = units, cost  # work done, in the units its cost key learns a rate for
        self._alive: Callable[[], bool] | None = alive  # is the tab's connection open? (None: unknown)
        self.status, self.done, self.total, self.message, self.result = "queued", 0, 0, "", None
        # The language of the page that asked (its thread has a session; the job's has none):
        # what the work writes with _() reads as that student asked for it.
        self.lang = i18n.current()
        self.turn, self.seq = 0, 0
        self.started: float | None = None  # first start
        self.resumed: float | None = None  # it took its slot (started or resumed) then
        self.slot_s = 0.0  # seconds it held a slot before ``resumed``
        self.pauses = 0
        self.ended: float | None = None
        self.last_poll = time.monotonic()
        self._stop = threading.Event()
        self._finished = threading.Event()

    def stop(self) -> None:
        """Ask the job to stop: a waiting one is dropped, a running one sees ``should_stop()``."""
        self._stop.set()
        self.engine.wake()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the job has ended (done, stopped or failed); whether it has."""
        return self._finished.wait(timeout)

    def abandoned(self, now: float | None = None) -> bool:
        """Its page stopped polling: past the heartbeat with the tab gone, or past the grace."""
        silent = (time.monotonic() if now is None else now) - self.last_poll
        if silent <= self.engine.heartbeat_s:
            return False
        return silent > self.engine.grace_s or self._alive is None or not self._alive()

    def should_stop(self) -> bool:
        """The work's checkpoint: whether to stop now. It may first wait here while the class's
        page runs are in flight, and pause for as long as classmates run in its slot (see the
        module docstring)."""
        if self._stop.is_set() or self.abandoned():
            return True
        page_activity.between_steps()  # the class's clicks first
        if self.resumed is not None and time.monotonic() - self.resumed > self.engine.quantum_s:
            return self.engine.yield_slot(self)
        return False

    def run_seconds(self, now: float | None = None) -> float:
        """Seconds it has held a slot so far."""
        now = time.monotonic() if now is None else now
        return self.slot_s + (now - self.resumed if self.status == "running" and self.resumed else 0.0)

    def _progress(self, done: int, total: int) -> None:
        with self.engine.lock:
            self.done, self.total = int(done), int(total)

    def execute(self) -> tuple[str, str, object]:
        """Run the work on this thread, in its student's language.

        Returns:
            ``(status, message, result)``: "done" with the result, "stopped" or "error" with why.
            Messages stay :class:`cnnviz.i18n.Message`: the page translates them when it shows them.
        """
        try:
            with i18n.use(self.lang):
                return "done", "", self.work(self._progress, self.should_stop)
        except Stopped as e:
            return "stopped", (Message(N_("Stopped: the page was closed.")) if self.abandoned() else of_error(e)), None
        except CnnvizError as e:
            return "error", of_error(e), None
        except Exception as e:  # a bug must not kill the server; the page shows one line
            return "error", Message(N_("It failed ({error})."), error=f"{type(e).__name__}: {e}"), None

    def snapshot(self) -> Snapshot:
        """The job's state now; also its heartbeat (the page is still open)."""
        self.last_poll = time.monotonic()
        return self.engine.snapshot(self)
