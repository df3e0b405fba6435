"""What a job's page is told (:class:`Snapshot`), and where each waiting job of the queue
(:mod:`cnnviz.serving.jobs`) stands: its place in line and about when it starts, by replaying the
queue's rule on what is known of each job's length.

The rule replayed: a free slot goes to the student whose first job (a paused one before
any they queued) has the lowest turn; a student runs one job at a time; with a quantum, a
job gives its slot back after the quantum and rejoins the line at the next turn, behind the
students waiting then. Lengths come from estimates or progress so far; a job of unknown
length is taken to use a whole quantum each time it runs (and never to end: a student's
jobs behind it come last, without a time). Without a quantum (jobs run to their end),
nothing after a job of unknown length gets a time.

No Streamlit, no threads: plain data in, plain data out.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["ACTIVE", "Running", "Snapshot", "Waiting", "forecast", "places", "remaining", "snapshot_of"]

ACTIVE = ("queued", "running", "paused")  # a job's states before it ends
ROUNDS = 20  # slices replayed per job at most: a job behind one of unknown length is reached or never


@dataclass
class Snapshot:
    """A job's state for its page.

    A kind of job whose page shows more subclasses it
    (:class:`cnnviz.training.trainer.Snapshot`).

    Attributes:
        status: "queued" | "running" | "paused" | "done" | "stopped" | "error".
        done: units of work done so far.
        total: units of work in all (0 when unknown).
        message: how it ended, often a :class:`cnnviz.i18n.Message` (translated where the
            page shows it).
        result: what the work returned, once done.
        position: 1 for the next job to start or resume, 2 for the one after... (None unless
            queued or paused).
        wait_s: about how long until it (re)starts, from the estimates of the jobs before it
            (None when unknown).
        seconds: how long since it first started.
        eta: about how many seconds of work it has left, from its progress while it runs
            (None until measurable).
    """

    status: str
    done: int
    total: int
    message: str = ""
    result: object = None
    position: int | None = None
    wait_s: float | None = None
    seconds: float = 0.0
    eta: float | None = None

    @property
    def active(self) -> bool:
        """Whether the job has not ended yet (queued, running or paused)."""
        return self.status in ACTIVE

    @property
    def fraction(self) -> float:
        """The share of its work done, from 0.0 to 1.0 (0.0 while the total is unknown)."""
        return min(1.0, self.done / self.total) if self.total else 0.0


@dataclass
class Running:
    """A job holding a slot, as :func:`forecast` sees it.

    Attributes:
        owner: its student.
        left: seconds of work left (None: unknown).
        quantum_left: seconds of its quantum left (``math.inf`` where it is never paused).
    """

    owner: str
    left: float | None
    quantum_left: float


@dataclass
class Waiting:
    """A job waiting to start or to resume, as :func:`forecast` sees it.

    Attributes:
        id: what :func:`forecast` names it by.
        owner: its student.
        turn: its turn in the round-robin.
        seq: its order among jobs of the same turn.
        left: seconds of work left (None: unknown).
    """

    id: Hashable
    owner: str
    turn: int
    seq: int
    left: float | None


def forecast(
    running: list[Running], waiting: list[Waiting], slots: int, quantum: float
) -> list[tuple[Hashable, float | None]]:
    """The waiting jobs in the order they are expected to (re)start, with about when.

    Args:
        running: the jobs holding slots now.
        waiting: queued and paused jobs; a student's paused job must come before their queued ones.
        slots: jobs run at once.
        quantum: seconds a job may hold its slot while others wait (``math.inf``: no pre-emption).

    Returns:
        ``[(id, seconds from now or None), ...]`` in start order; None once a job of unknown
        length stands before it and nothing bounds its slot time.
    """
    counter = itertools.count()
    lines: dict[str, deque[Waiting]] = {}
    for w in sorted(waiting, key=lambda w: (w.turn, w.seq)):
        lines.setdefault(w.owner, deque()).append(w)
    # (time a slot frees, tiebreak, owner that held it, what rejoins the line then)
    heap: list[tuple[float, int, str | None, Waiting | None]] = []
    unknown, served = False, max((w.turn for w in waiting), default=0)
    for r in running:
        end, again = _slice(r.left, r.quantum_left)
        unknown |= end is None
        rejoin = None if again is False else Waiting(None, r.owner, 0, 0, again)
        heapq.heappush(heap, (end or 0.0, next(counter), r.owner, rejoin))
    for _ in range(max(0, slots - len(running))):
        heapq.heappush(heap, (0.0, next(counter), None, None))
    busy = {r.owner for r in running}
    out: list[tuple[Hashable, float | None]] = []
    todo = {w.id for w in waiting}
    for _ in range(ROUNDS * (len(waiting) + len(running) + 1)):
        if not todo or not heap:
            break
        t, _, owner, rejoin = heapq.heappop(heap)
        if owner is not None:
            busy.discard(owner)
        if rejoin is not None:
            served += 1
            rejoin.turn, rejoin.seq = served, next(counter) + 1_000_000_000
            lines.setdefault(rejoin.owner, deque()).appendleft(rejoin)
        heads = [q[0] for o, q in lines.items() if q and o not in busy]
        if not heads:  # every waiting student has a job running: this slot waits for the next end
            heapq.heappush(heap, (heap[0][0] if heap else t, next(counter), None, None))
            continue
        job = min(heads, key=lambda w: (w.turn, w.seq))
        lines[job.owner].popleft()
        served = max(served, job.turn)
        if job.id in todo:
            todo.discard(job.id)
            out.append((job.id, None if unknown else t))
        end, again = _slice(job.left, quantum)
        unknown |= end is None
        busy.add(job.owner)
        rejoin = None if again is False else Waiting(job.id, job.owner, 0, 0, again)
        heapq.heappush(heap, (t + (end or 0.0), next(counter), job.owner, rejoin))
    # Behind a student's own job of unknown length (it never ends in the replay): last, no time.
    out += [(w.id, None) for w in sorted(waiting, key=lambda w: (w.turn, w.seq)) if w.id in todo]
    return out


def remaining(job, now: float) -> float | None:
    """Seconds of work ``job`` has left.

    From its progress and the time it has held a slot, else from its estimate.

    Args:
        job: a :class:`cnnviz.serving.jobs.Job`.
        now: the monotonic time to judge by.

    Returns:
        Seconds left (never below 0.0), or None when unknown.
    """
    left = _measured_left(job, now)
    if left is not None or job.estimate is None:
        return left
    return max(job.estimate - job.run_seconds(now), 0.0)


def _measured_left(job, now: float) -> float | None:
    """Seconds of work ``job`` has left at the pace of its progress so far (time paused for
    classmates not counted); None before half a second of it or any step done."""
    elapsed = job.run_seconds(now)
    frac = job.done / job.total if job.total else 0.0
    return elapsed * (1 - frac) / frac if 0 < frac < 1 and elapsed > 0.5 else None


def snapshot_of(job, ahead: list[tuple[object, float | None]]) -> Snapshot:
    """What ``job``'s page is told now.

    Args:
        job: a :class:`cnnviz.serving.jobs.Job`.
        ahead: the queue's waiting and paused jobs in start order with their expected
            (re)start (:func:`places`); where ``job`` stands there is its place in line.

    Returns:
        Its :class:`Snapshot`.
    """
    now = time.monotonic()
    position = wait = None
    for i, (j, start) in enumerate(ahead):
        if j is job:
            position, wait = i + 1, start
    seconds = (job.ended or now) - job.started if job.started else 0.0
    eta = _measured_left(job, now) if job.status == "running" else None
    return Snapshot(job.status, job.done, job.total, job.message, job.result, position, wait, seconds, eta)


def places(running: list, waiting: list, slots: int, quantum: float) -> list[tuple[object, float | None]]:
    """:func:`forecast` for the queue's own jobs (:class:`cnnviz.serving.jobs.Job`).

    Args:
        running: the jobs holding a slot.
        waiting: the paused and queued jobs, paused first.
        slots: jobs run at once.
        quantum: seconds a job may hold its slot while others wait (``math.inf``: no
            pre-emption).

    Returns:
        ``[(job, seconds from now or None), ...]`` for the waiting jobs, in the order they
        are expected to (re)start.
    """
    now = time.monotonic()
    run = [Running(j.owner, remaining(j, now), max(quantum - (now - j.resumed), 0.0)) for j in running]
    wait = [Waiting(id(j), j.owner, j.turn, j.seq, remaining(j, now)) for j in waiting]
    by_id = {id(j): j for j in waiting}
    return [(by_id[i], t) for i, t in forecast(run, wait, slots, quantum)]


def _slice(left: float | None, quantum: float) -> tuple[float | None, float | None | bool]:
    """How long a job holds its slot this time (None: unknown) and what of it is left after
    (False: nothing, it ends)."""
    if left is None:
        return (None, False) if math.isinf(quantum) else (quantum, None)
    if left <= quantum:
        return left, False
    return quantum, left - quantum
