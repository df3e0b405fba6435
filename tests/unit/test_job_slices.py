"""Time-sliced jobs (cnnviz.serving.jobs) with fake work: past its quantum, a running job pauses at
its next checkpoint when another student waits, resumes where it stopped with the result it
would have had alone, never lets its own student's later jobs jump ahead, and a paused job
that is stopped or abandoned gives everything back."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from cnnviz.errors import Stopped
from cnnviz.serving import jobs
from cnnviz.serving.job_forecast import Running, Waiting, forecast

Q = 0.3  # s: the quantum of these tests


class Walk:
    """Fake work: a random walk of ``steps`` steps from its own seeded generator, one step per
    checkpoint; it records which steps ran, when, and on which thread."""

    def __init__(self, steps: int = 200, step_s: float = 0.005, seed: int = 7) -> None:
        self.steps, self.step_s, self.seed = steps, step_s, seed
        self.ran: list[int] = []
        self.times: list[float] = []
        self.threads: set[int] = set()
        self.release = threading.Event()  # set: the remaining steps go without sleeping

    def __call__(self, on_progress, should_stop):
        rng = np.random.default_rng(self.seed)
        x = np.zeros(4)
        for i in range(self.steps):
            if should_stop():
                raise Stopped(f"stopped at step {i}")
            self.threads.add(threading.get_ident())
            self.ran.append(i)
            self.times.append(time.monotonic())
            x = x + rng.standard_normal(4) * (1 + i % 3)
            on_progress(i + 1, self.steps)
            if not self.release.is_set():
                time.sleep(self.step_s)
        return x


def wait_until(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def engine(**kw) -> jobs.Engine:
    return jobs.Engine(**{"slots": 1, "heartbeat_s": 300, "grace_s": 300, "quantum_s": Q, **kw})


def test_a_classmate_starts_within_a_quantum_and_the_paused_job_ends_as_if_alone():
    alone = Walk()(lambda d, n: None, lambda: False)
    e = engine()
    ann_w, bob_w = Walk(steps=400), Walk(steps=150, seed=8)
    ann = e.submit("ann", "a", "train", 0, ann_w)
    wait_until(lambda: len(ann_w.ran) > 5)
    time.sleep(Q)  # ann has held the slot past her quantum; nobody waited, so she ran on
    assert ann.status == "running" and ann.pauses == 0
    asked = time.monotonic()
    bob = e.submit("bob", "b", "featvis", 0, bob_w)
    wait_until(lambda: bob_w.ran)
    assert bob_w.times[0] - asked < 0.05 + 2 * ann_w.step_s  # the next checkpoint, not her whole run
    snap = ann.snapshot()
    assert (snap.status, snap.position) == ("paused", 1) and snap.active
    assert ann_w.ran == list(range(len(ann_w.ran)))  # she stopped between two steps
    # bob past his quantum: ann resumes; they alternate until each ends
    assert ann.join(20) and bob.join(20)
    assert ann.pauses >= 2 and bob.pauses >= 1
    assert ann_w.ran == list(range(400)) and bob_w.ran == list(range(150))  # no step done twice or skipped
    assert len(ann_w.threads) == 1  # resumed where it stopped, on its own thread
    np.testing.assert_array_equal(ann.snapshot().result, Walk(steps=400)(lambda d, n: None, lambda: False))
    np.testing.assert_array_equal(bob.snapshot().result, Walk(steps=150, seed=8)(lambda d, n: None, lambda: False))
    assert Walk()(lambda d, n: None, lambda: False).tolist() == alone.tolist()
    # one slot: the two never ran side by side; each handover is a pause (or the end of one)
    steps = sorted([*((t, "a") for t in ann_w.times), *((t, "b") for t in bob_w.times)])
    switches = sum(1 for (_, x), (_, y) in zip(steps, steps[1:], strict=False) if x != y)
    assert ann.pauses + bob.pauses <= switches <= ann.pauses + bob.pauses + 1
    assert not (e._running or e._paused or e._waiting)


def test_a_students_own_jobs_never_overtake_each_other():
    e = engine()
    a0, a1, b0 = Walk(steps=300), Walk(steps=60, seed=1), Walk(steps=300, seed=2)
    j0 = e.submit("ann", "tab1", "train", 0, a0)
    j1 = e.submit("ann", "tab2", "featvis", 0, a1)  # ann's second job, another tab
    wait_until(lambda: a0.ran)
    jb = e.submit("bob", "tab3", "featvis", 0, b0)
    wait_until(lambda: j0.status == "paused")
    assert e.order() == [j0, j1]  # ann's paused job first, then her second one
    assert j1.snapshot().position == 2
    for j in (j0, j1, jb):
        assert j.join(30)
    assert a1.times[0] > a0.times[-1]  # her second job started only when her first had ended
    assert j0.pauses >= 1 and j1.snapshot().status == "done"


def test_a_paused_job_that_is_stopped_ends_without_taking_a_slot_back():
    e = engine()
    ann_w, bob_w = Walk(steps=100_000), Walk(steps=100_000, seed=3)
    ann = e.submit("ann", "a", "train", 0, ann_w)
    wait_until(lambda: ann_w.ran)
    time.sleep(Q)
    bob = e.submit("bob", "b", "train", 0, bob_w)
    wait_until(lambda: ann.status == "paused")
    n = len(ann_w.ran)
    ann.stop()
    assert ann.join(1.0)
    snap = ann.snapshot()
    assert (snap.status, snap.message) == ("stopped", f"stopped at step {n}") and len(ann_w.ran) == n
    assert bob.status == "running" and ann.work is None  # bob kept the slot; ann's work let go
    assert e._paused == [] and "ann" not in e._last_turn
    bob.stop()
    assert bob.join(2.0)
    assert not (e._running or e._paused or e._waiting) and e._last_turn == {}


def test_a_paused_job_whose_tab_closed_stops_within_the_heartbeat():
    e = engine(heartbeat_s=0.4, grace_s=60)
    tab = {"open": True}
    ann_w, bob_w = Walk(steps=100_000), Walk(steps=100_000, seed=3)
    ann = e.submit("ann", "a", "train", 0, ann_w, alive=lambda: tab["open"])
    wait_until(lambda: ann_w.ran)
    time.sleep(Q)
    bob = e.submit("bob", "b", "train", 0, bob_w)
    while ann.status != "paused":
        ann.snapshot(), bob.snapshot()
        time.sleep(0.01)
    tab["open"] = False
    last = ann.last_poll
    for _ in range(60):  # bob's page goes on polling; ann's tab is gone
        bob.snapshot()
        if ann.join(0.05):
            break
    assert ann.snapshot().status == "stopped" and time.monotonic() - last < 1.2
    bob.stop()
    assert bob.join(2.0)


def test_too_many_paused_jobs_and_a_held_model_keep_a_job_running(monkeypatch):
    e = engine(max_paused=0)
    ann_w, bob_w = Walk(steps=150), Walk(steps=20, seed=3)
    ann = e.submit("ann", "a", "train", 0, ann_w)
    wait_until(lambda: ann_w.ran)
    bob = e.submit("bob", "b", "featvis", 0, bob_w)
    assert ann.join(20) and bob.join(20)
    assert ann.pauses == 0 and bob_w.times[0] > ann_w.times[-1]  # no room to pause: as without slices
    monkeypatch.setattr(jobs, "holding_a_model", lambda: True)  # every checkpoint inside model.use()
    e = engine()
    ann_w, bob_w = Walk(steps=150), Walk(steps=20, seed=3)
    ann = e.submit("ann", "a", "train", 0, ann_w)
    wait_until(lambda: ann_w.ran)
    bob = e.submit("bob", "b", "featvis", 0, bob_w)
    assert ann.join(20) and bob.join(20) and ann.pauses == 0


def test_the_forecast_counts_quanta_not_whole_jobs():
    # one slot; ann runs (30 s left, 2 s of her quantum left); bob 20 s, cat unknown, dan 5 s
    run = [Running("ann", 30.0, 2.0)]
    wait = [Waiting("b", "bob", 1, 1, 20.0), Waiting("c", "cat", 1, 2, None), Waiting("d", "dan", 1, 3, 5.0)]
    assert forecast(run, wait, 1, 5.0) == [("b", 2.0), ("c", 7.0), ("d", 12.0)]  # each ahead: one quantum at most
    # without slices the old rule: whole jobs, nothing known after an unknown one
    assert forecast([Running("ann", 30.0, math.inf)], wait, 1, math.inf) == [("b", 30.0), ("c", 50.0), ("d", None)]
    # a paused job (ann's, 10 s left) comes back after bob's slice; ann's queued job after both of hers
    wait = [Waiting("a1", "ann", 2, 5, 3.0), Waiting("a0", "ann", 1, 4, 10.0), Waiting("b", "bob", 1, 1, 7.0)]
    got = forecast([Running("cat", 1.0, 5.0)], wait, 1, 5.0)
    assert got == [("b", 1.0), ("a0", 6.0), ("a1", 1.0 + 5.0 + 5.0 + 2.0 + 5.0)]  # b 5, a0 5, b 2, a0 5 more → a1


@pytest.mark.parametrize("slots", [1, 2])
def test_every_job_ends_once_with_several_students_and_slots(slots):
    e = engine(slots=slots, quantum_s=0.05)
    works = {f"s{i}": Walk(steps=80, step_s=0.002, seed=i) for i in range(5)}
    js = {k: e.submit(k, k, "featvis", 0, w) for k, w in works.items()}
    assert all(j.join(30) for j in js.values())
    for k, w in works.items():
        assert w.ran == list(range(80))
        np.testing.assert_array_equal(
            js[k].snapshot().result, Walk(steps=80, seed=w.seed)(lambda d, n: None, lambda: False)
        )
    assert not (e._running or e._paused or e._waiting)
