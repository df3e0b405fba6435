"""One queue for a class's long jobs: feature visualisations, top-image passes, trainings and
slow explanations all wait and run here, shared fairly between students.

* **Per student.** A job belongs to a student (``owner``: the browser's owner token, or the
  address of a client that keeps no cookies, :mod:`cnnviz.serving.student_key`), not to a tab. A
  student runs at most one job at a time; the rest of theirs wait in the order they asked
  for them, whichever tab asked.
* **Round-robin by arrival across students.** Each job gets a turn when it is submitted,
  ``max(turn being served now, the student's last turn + 1)``, and the waiting job with the
  lowest turn (then the earliest) runs next. A classmate's first job therefore waits only for
  the jobs already running, never behind a student's tenth; jobs of different students that
  get the same turn run first come, first served.
* **How many at once.** ``CNNVIZ_MAX_JOBS`` (default 2: the one feature visualisation and
  the one training that could run at once before they shared a queue) jobs hold a slot at
  once; the teacher's knob. Each job computes on one torch thread, so on a 2-core server two
  jobs leave the class's own clicks competing for the cores; 1 keeps a core free for them.
* **Time-sliced.** A job that has held its slot for ``CNNVIZ_JOB_QUANTUM`` seconds (default
  5) while another student's job waits pauses at its next checkpoint (the next time it asks
  ``should_stop()``: each step, batch or chunk), gives its slot to the next in line and
  rejoins the round-robin at the next turn; it resumes where it stopped, on the same thread
  with the same state, so nothing is redone and its result is the one it would have had
  alone. 5 s: a classmate's job starts within about that plus one step (the page polls once
  a second), and the slow explanations (Integrated Gradients, Occlusion: a few seconds)
  usually finish within one slice. A paused job keeps its memory (its memory guard
  reservation stays held), so at most ``CNNVIZ_MAX_PAUSED`` (default 4) are paused at
  once; past that a job waits for a running one to end, as without slicing. A job never
  pauses while it holds a shared model (:func:`cnnviz.serving.page_activity.holding_a_model`): the
  class's clicks would wait for that replica.
* **The class's clicks first.** At each checkpoint a job waits while any page run is in
  flight, up to ``CNNVIZ_JOB_YIELD`` seconds (:mod:`cnnviz.serving.page_activity`): jobs compute
  between the class's clicks, and still move on when the class never pauses. Not while it holds a
  shared model: a click may be waiting for that replica.
* **Abandoned jobs stop.** The page polls :meth:`Job.snapshot` about once a second. A job
  whose page has not polled for ``CNNVIZ_JOB_HEARTBEAT`` seconds (default 4) while its tab's
  connection is closed is stopped: dropped if waiting, and its work sees ``should_stop()``
  if running. A tab still connected but silent keeps its job for ``CONNECTED_GRACE_S``:
  browsers slow a hidden tab's timers (Chrome: to once a second, after five minutes hidden
  to once a minute) and phones freeze them while another app is in front.

One engine for every kind: a job (:mod:`cnnviz.serving.job`) is its work and its page's
polls; what a page is told is :mod:`cnnviz.serving.job_forecast`'s. No Streamlit here: the
page side is :mod:`cnnviz.ui.job_views`.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Hashable

from cnnviz.i18n import N_, Message
from cnnviz.serving import page_activity
from cnnviz.serving.job import Job, Work
from cnnviz.serving.job_forecast import ACTIVE, Snapshot, places, snapshot_of
from cnnviz.serving.page_activity import holding_a_model

__all__ = ["ACTIVE", "ENGINE", "Engine", "Job", "Snapshot", "Work"]

MAX_JOBS = max(1, int(os.environ.get("CNNVIZ_MAX_JOBS", 2)))
HEARTBEAT_S = float(os.environ.get("CNNVIZ_JOB_HEARTBEAT", 4))  # s unpolled, connection closed → stop
QUANTUM_S = float(os.environ.get("CNNVIZ_JOB_QUANTUM", 5))  # s a job holds its slot while others wait
MAX_PAUSED = max(0, int(os.environ.get("CNNVIZ_MAX_PAUSED", 4)))  # jobs paused (holding memory) at once
CONNECTED_GRACE_S = 90.0  # s unpolled with the connection open (a hidden tab polls once a minute)
KEEP_FINISHED_S = 30 * 60  # a finished job (and its result) is kept this long after its last poll


class Engine:
    """The queue and its slots; :data:`ENGINE` is the server's.

    Args:
        slots: jobs running at once (at least 1).
        heartbeat_s: seconds a job's page may go unpolled with its connection closed before
            the job is stopped (see the module docstring).
        grace_s: seconds a job's page may go unpolled with its connection still open.
        quantum_s: seconds a job holds its slot while another student's job waits;
            ``math.inf``: never pause.
        max_paused: jobs paused (keeping their memory) at once.
    """

    def __init__(
        self,
        slots: int = MAX_JOBS,
        heartbeat_s: float = HEARTBEAT_S,
        grace_s: float = CONNECTED_GRACE_S,
        quantum_s: float = QUANTUM_S,
        max_paused: int = MAX_PAUSED,
    ):
        self.slots, self.heartbeat_s, self.grace_s = max(1, int(slots)), heartbeat_s, grace_s
        self.quantum_s, self.max_paused = quantum_s, max_paused
        self._cond = threading.Condition()
        self._waiting: list[Job] = []  # never started
        self._running: list[Job] = []  # holding a slot
        self._paused: list[Job] = []  # started, waiting at a checkpoint for a slot
        self._registry: dict[tuple[str, str], Job] = {}
        self._last_turn: dict[str, int] = {}  # owner -> turn of their latest job still active
        self._turn = 0  # the turn being served now
        self._seq = itertools.count()
        self._rates: dict[Hashable, float] = {}  # cost key -> seconds per unit of work, learnt

    @property
    def lock(self) -> threading.Condition:
        """The queue's lock: a job's progress is written under it."""
        return self._cond

    # ------------------------------------------------------------------ the page's side
    def submit(
        self,
        owner: str,
        tab: str,
        kind: str,
        key: Hashable,
        work: Work,
        *,
        estimate: float | None = None,
        units: float | None = None,
        cost: Hashable = None,
        alive: Callable[[], bool] | None = None,
        task: object = None,
    ) -> Job:
        """Queue ``work`` for a student, replacing that tab's previous job of the same kind.

        A replaced job that was still waiting hands its turn on to the new one; the same
        ``key`` already waiting or running is returned as it is.

        Args:
            owner: the student the job belongs to (:mod:`cnnviz.serving.student_key`).
            tab: the tab that asks for it.
            kind: the kind of job; a tab has at most one of each kind.
            key: what identifies the request; the same key already waiting or running is
                not queued again.
            work: the job's work (:data:`cnnviz.serving.job.Work`).
            estimate: seconds the work takes, when known; else ``units`` × the seconds per unit
                learnt from finished jobs of the same ``cost`` key.
            units: how much work it is, in the units of its ``cost`` key; None when unknown.
            cost: the key its seconds per unit are learnt under; None: ``kind``.
            alive: whether the tab's connection is still open (see the module docstring);
                None: judged closed once the heartbeat has passed.
            task: kept as ``job.task``.

        Returns:
            The job, waiting or already running.
        """
        with self._cond:
            self._prune()
            old = self._registry.get((tab, kind))
            if old is not None and old.key == key and old.status in ("queued", "running"):
                return old
            cost = kind if cost is None else cost
            if estimate is None and units is not None and cost in self._rates:
                estimate = units * self._rates[cost]
            job = Job(self, owner, key, work, estimate=estimate, units=units, cost=cost, alive=alive, task=task)
            job.seq = next(self._seq)
            if old is not None and old.status == "queued" and old.owner == owner:
                job.turn, job.seq = old.turn, old.seq  # a changed request keeps its place in the line
                self._waiting.remove(old)
                self._end(old, "stopped", Message(N_("Replaced by a newer request.")))
            else:
                if old is not None:
                    old._stop.set()
                job.turn = max(self._turn, self._last_turn.get(owner, self._turn - 1) + 1)
            self._last_turn[owner] = max(job.turn, self._last_turn.get(owner, job.turn))
            self._registry[(tab, kind)] = job
            self._waiting.append(job)
            self._dispatch()
        return job

    def get(self, tab: str, kind: str) -> Job | None:
        """The job of ``kind`` that ``tab`` has in the registry.

        Args:
            tab: the tab's id.
            kind: the kind of job.

        Returns:
            The job (waiting, running, paused or finished), or None when the tab has none.
        """
        with self._cond:
            return self._registry.get((tab, kind))

    def of_tab(self, tab: str) -> list[Job]:
        """Every job ``tab`` has in the registry.

        Args:
            tab: the tab's id.

        Returns:
            Its jobs, waiting, running or finished, one per kind.
        """
        with self._cond:
            return [job for (t, _), job in self._registry.items() if t == tab]

    def forget(self, tab: str, kind: str) -> None:
        """Stop ``tab``'s job of ``kind`` and drop it from the registry.

        Args:
            tab: the tab's id.
            kind: the kind of job; nothing happens when the tab has none.
        """
        with self._cond:
            job = self._registry.pop((tab, kind), None)
        if job is not None:
            job.stop()

    def order(self) -> list[Job]:
        """The waiting jobs in the order they are expected to start (for tests and pages).

        Returns:
            The paused and waiting jobs, the next to (re)start first.
        """
        with self._cond:
            self._prune()
            return [j for j, _ in self._forecast()]

    # ------------------------------------------------------------------ scheduling
    def wake(self) -> None:
        """Give free slots to the next in line and wake the jobs waiting on the queue's lock
        (after a job was asked to stop)."""
        with self._cond:
            self._dispatch()
            self._cond.notify_all()

    def _next(self, exclude: str | None = None, fresh: bool = True) -> Job | None:
        """The job a free slot goes to: of the students with no job running, the one whose
        first job (paused before queued) has the lowest turn, then came first. ``fresh``:
        whether a job not started yet may be chosen (not when too many are paused)."""
        busy = {j.owner for j in self._running} | {exclude}
        held = {j.owner for j in self._paused}
        free = [j for j in self._paused if j.owner not in busy]
        if fresh:
            free += [j for j in self._waiting if j.owner not in busy and j.owner not in held]
        return min(free, key=lambda j: (j.turn, j.seq)) if free else None

    def _dispatch(self) -> None:
        """Give free slots to the next in line (under the lock)."""
        self._prune()
        while len(self._running) < self.slots:
            job = self._next(fresh=len(self._paused) <= self.max_paused)  # over only right after a pause
            if job is None:
                return
            self._turn = max(self._turn, job.turn)
            job.resumed = time.monotonic()
            self._running.append(job)
            if job.status == "paused":
                self._paused.remove(job)
                job.status = "running"
                self._cond.notify_all()  # its thread waits in yield_slot
            else:
                self._waiting.remove(job)
                job.status, job.started = "running", job.resumed
                threading.Thread(target=self._run, args=(job,), name="cnnviz-job", daemon=True).start()

    def yield_slot(self, job: Job) -> bool:
        """Pause ``job`` at its checkpoint, past its quantum, if another student's job waits.

        It stays paused until the round-robin comes back to it; never while it holds a
        shared model.

        Args:
            job: the running job, from its own thread.

        Returns:
            Whether it must stop (stopped or abandoned while paused).
        """
        if holding_a_model():
            return False
        with self._cond:
            self._prune()
            nxt = self._next(exclude=job.owner, fresh=len(self._paused) < self.max_paused)
            if nxt is None:
                return False
            now = time.monotonic()
            job.slot_s += now - job.resumed
            job.pauses += 1
            self._running.remove(job)
            self._paused.append(job)
            job.status = "paused"
            # Behind the students waiting now: the next turn, and the student's own queued jobs after it.
            job.turn, job.seq = max(self._turn + 1, nxt.turn), next(self._seq)
            own = sorted((j for j in self._waiting if j.owner == job.owner), key=lambda j: (j.turn, j.seq))
            for i, j in enumerate(own):
                j.turn = max(j.turn, job.turn + 1 + i)
            self._last_turn[job.owner] = max([job.turn, *(j.turn for j in own)])
            self._dispatch()
            while job.status == "paused":
                if job._stop.is_set() or job.abandoned():
                    self._paused.remove(job)  # it ends without taking a slot back
                    self._dispatch()
                    return True
                self._cond.wait(0.25)  # also the pace at which a closed tab's paused job notices
            return False

    def _prune(self) -> None:
        """Drop waiting jobs that were stopped or abandoned; forget old finished ones."""
        now = time.monotonic()
        for job in [j for j in self._waiting if j._stop.is_set() or j.abandoned(now)]:
            self._waiting.remove(job)
            self._end(job, "stopped", Message(N_("Stopped before it started.")))
        for k, job in list(self._registry.items()):
            if job._finished.is_set() and now - job.last_poll > KEEP_FINISHED_S:
                del self._registry[k]

    def _end(self, job: Job, status: str, message: str = "", result: object = None) -> None:
        job.status, job.message, job.result, job.ended = status, message, result, time.monotonic()
        job.work = None  # what it closed over (a model, an image) is not kept with the result
        if not any(j.owner == job.owner for j in (*self._waiting, *self._running, *self._paused) if j is not job):
            self._last_turn.pop(job.owner, None)
        job._finished.set()

    def _run(self, job: Job) -> None:
        """A started job's thread: the work, then its slot to the next in line."""
        page_activity.background_priority()
        status, message, result = job.execute()
        with self._cond:
            if job in self._running:
                self._running.remove(job)
                job.slot_s += time.monotonic() - job.resumed
            if status == "done" and job.units:
                self._rates[job.cost] = job.slot_s / job.units
            self._end(job, status, message, result)
            self._dispatch()
            self._cond.notify_all()

    # ------------------------------------------------------------------ what a page is told
    def _forecast(self) -> list[tuple[Job, float | None]]:
        """Waiting and paused jobs with their expected (re)start, seconds from now (None when
        unknown): :func:`cnnviz.serving.job_forecast.places` on what is known now."""
        slicing = self.quantum_s if self.max_paused > len(self._paused) or self._paused else math.inf
        return places(self._running, [*self._paused, *self._waiting], self.slots, slicing)

    def snapshot(self, job: Job) -> Snapshot:
        """What ``job``'s page is told now (:func:`cnnviz.serving.job_forecast.snapshot_of`).

        Args:
            job: a job of this engine.

        Returns:
            Its state, with its place in the line and expected wait when waiting or paused.
        """
        with self._cond:
            if job.status not in ("queued", "paused"):
                return snapshot_of(job, [])
            self._prune()
            return snapshot_of(job, self._forecast())


ENGINE = Engine()
