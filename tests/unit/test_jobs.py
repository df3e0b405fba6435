"""The job queue (cnnviz.serving.jobs) with tiny fake jobs: round-robin by arrival across students,
one running job per student, places in line, abandoned jobs stopped within the heartbeat,
errors as one line; and where a channel's weights come from."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch

from cnnviz.errors import CnnvizError, Stopped
from cnnviz.inside import channel as chan
from cnnviz.inside.catalogue import catalogue, find_layer
from cnnviz.models.zoo import load_model
from cnnviz.serving import jobs
from cnnviz.ui.job_views import ordinal, paused_text, waiting_text


class Fake:
    """Jobs that record when they start and end, and run until their gate opens."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def work(self, name: str, steps: int = 10_000, report: bool = True):
        gate = self.gates.setdefault(name, threading.Event())

        def run(on_progress, should_stop):
            with self.lock:
                self.started.append(name)
            for i in range(steps):
                if should_stop():
                    raise Stopped(f"{name} stopped midway")
                if report:
                    on_progress(i + 1, steps)
                if gate.wait(0.005):
                    return name
            return name

        return run

    def open(self, name: str, job: jobs.Job) -> None:
        self.gates[name].set()
        assert job.join(5), f"{name} did not end"


def wait_until(cond, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


@pytest.fixture
def engine():
    return jobs.Engine(slots=1, heartbeat_s=300, grace_s=300)


def test_a_students_tenth_job_does_not_delay_a_classmates_first(engine):
    f = Fake()
    a = [engine.submit("ann", f"ann-tab{i}", "featvis", i, f.work(f"a{i}")) for i in range(10)]  # ten tabs
    wait_until(lambda: f.started == ["a0"])
    b = engine.submit("bob", "bob-tab", "featvis", 0, f.work("b0"))
    c = engine.submit("cat", "cat-tab", "featvis", 0, f.work("c0"))
    # bob and cat, though they came after all of ann's jobs, are next; then ann's, in her order
    assert [j.owner + str(j.key) for j in engine.order()] == ["bob0", "cat0", *(f"ann{i}" for i in range(1, 10))]
    assert [j.snapshot().position for j in (b, c, a[1], a[9])] == [1, 2, 3, 11]
    f.open("a0", a[0])
    wait_until(lambda: len(f.started) == 2)
    f.open("b0", b)
    wait_until(lambda: len(f.started) == 3)
    f.open("c0", c)
    for i in range(1, 10):
        wait_until(lambda i=i: len(f.started) == 3 + i)
        f.open(f"a{i}", a[i])
    assert f.started == ["a0", "b0", "c0", *(f"a{i}" for i in range(1, 10))]
    # a student who joins later takes the next turn, not the end of a long line
    assert all(j.snapshot().status == "done" for j in (*a, b, c)) and b.snapshot().result == "b0"


def test_students_arriving_one_by_one_are_served_first_come_first_served(engine):
    f = Fake()
    first = engine.submit("s0", "t0", "examples", 0, f.work("s0"))
    wait_until(lambda: f.started == ["s0"])
    later = [engine.submit(f"s{i}", f"t{i}", "examples", 0, f.work(f"s{i}")) for i in range(1, 6)]
    assert [j.owner for j in engine.order()] == ["s1", "s2", "s3", "s4", "s5"]
    for name, job in zip(["s0", "s1", "s2", "s3", "s4", "s5"], [first, *later], strict=True):
        wait_until(lambda name=name: f.started[-1] == name)
        f.open(name, job)


def test_one_running_job_per_student_even_with_free_slots():
    engine = jobs.Engine(slots=2, heartbeat_s=300, grace_s=300)
    f = Fake()
    a0 = engine.submit("ann", "tab1", "featvis", 0, f.work("a0"))
    a1 = engine.submit("ann", "tab2", "featvis", 0, f.work("a1"))
    b0 = engine.submit("bob", "tab3", "featvis", 0, f.work("b0"))
    wait_until(lambda: sorted(f.started) == ["a0", "b0"])  # bob takes the second slot, ann's second waits
    time.sleep(0.1)
    assert a1.snapshot().status == "queued" and a1.snapshot().position == 1
    f.open("a0", a0)
    wait_until(lambda: f.started[-1] == "a1")
    f.open("a1", a1)
    f.open("b0", b0)


def test_a_waiting_student_is_told_their_place_and_about_how_long():
    engine = jobs.Engine(slots=1, heartbeat_s=300, grace_s=300, quantum_s=math.inf)  # jobs run to their end
    f = Fake()
    # no progress reported: the queue goes by the estimates alone
    running = engine.submit("ann", "t1", "train", 0, f.work("a0", report=False), estimate=30.0)
    wait_until(lambda: f.started == ["a0"])
    b = engine.submit("bob", "t2", "train", 0, f.work("b0"), estimate=20.0)
    a2 = engine.submit("ann", "t1b", "train", 0, f.work("a1"), estimate=10.0)
    c = engine.submit("cat", "t3", "featvis", 0, f.work("c0"))  # no estimate
    d = engine.submit("dan", "t4", "featvis", 0, f.work("d0"), estimate=5.0)
    sb, sc, sa, sd = (j.snapshot() for j in (b, c, a2, d))
    # bob, cat and dan take this turn in the order they came; ann's second job the next turn
    assert (sb.position, sc.position, sd.position, sa.position) == (1, 2, 3, 4)
    # bob starts when ann's first ends (~30 s), cat after bob's 20 s; cat's own length is
    # unknown, so nobody after cat gets a time
    assert sb.wait_s == pytest.approx(30.0, abs=1.0) and sc.wait_s == pytest.approx(50.0, abs=1.0)
    assert sa.wait_s is None and sd.wait_s is None
    assert running.snapshot().position is None and running.snapshot().status == "running"
    for j in (running, b, a2, c, d):
        j.stop()
    assert all(j.join(5) for j in (running, b, a2, c, d))


def test_the_same_request_is_not_restarted_and_a_changed_one_keeps_its_place(engine):
    f = Fake()
    a = engine.submit("ann", "t1", "featvis", "x", f.work("a"))
    wait_until(lambda: f.started == ["a"])
    b = engine.submit("bob", "t2", "featvis", 0, f.work("b0"))
    c = engine.submit("cat", "t3", "featvis", 0, f.work("c0"))
    assert engine.submit("ann", "t1", "featvis", "x", f.work("a")) is a  # asked again: the same job
    b2 = engine.submit("bob", "t2", "featvis", 1, f.work("b1"))  # bob changed his mind while waiting
    assert b.snapshot().status == "stopped" and b2.snapshot().position == 1 and c.snapshot().position == 2
    assert engine.get("t2", "featvis") is b2
    engine.forget("t1", "featvis")
    assert a.join(5) and a.snapshot().status == "stopped" and engine.get("t1", "featvis") is None
    wait_until(lambda: f.started[-1] == "b1")
    for j in (b2, c):
        j.stop()
    assert b2.join(5) and c.join(5)


def test_a_closed_tab_is_stopped_within_the_heartbeat_running_or_waiting():
    engine = jobs.Engine(slots=1, heartbeat_s=0.4, grace_s=3.0)
    f = Fake()
    connected = {"run": True, "wait": True}
    run = engine.submit("ann", "t1", "featvis", 0, f.work("run"), alive=lambda: connected["run"])
    wait_until(lambda: f.started == ["run"])
    wait = engine.submit("bob", "t2", "featvis", 0, f.work("wait"), alive=lambda: connected["wait"])
    for _ in range(10):  # both pages poll for a second: nothing stops
        run.snapshot(), wait.snapshot()
        time.sleep(0.1)
    assert (run.status, wait.status) == ("running", "queued")
    # ann's tab stays connected but stops polling (hidden, a phone in the background):
    # past the heartbeat her job runs on, within the grace
    time.sleep(1.0)
    wait.snapshot()
    assert run.status == "running"
    connected["run"] = False  # now her tab is closed
    t = time.monotonic()
    assert run.join(2.0) and run.snapshot().status == "stopped"
    assert run.message == "Stopped: the page was closed." and time.monotonic() - t < 0.5
    wait_until(lambda: f.started == ["run", "wait"])  # the slot went to bob at once
    connected["wait"] = False  # bob closes his tab too: his job ends ~0.4 s after his last poll
    last = time.monotonic()
    wait.last_poll = last
    assert wait.join(3.0)
    assert 0.4 <= time.monotonic() - last < 1.0 and wait.status == "stopped"


def test_a_waiting_job_whose_tab_closed_leaves_the_line():
    engine = jobs.Engine(slots=1, heartbeat_s=0.3, grace_s=60)
    f = Fake()
    run = engine.submit("ann", "t1", "featvis", 0, f.work("run"))
    gone = engine.submit("bob", "t2", "featvis", 0, f.work("gone"), alive=lambda: False)
    cat = engine.submit("cat", "t3", "featvis", 0, f.work("cat"))
    wait_until(lambda: f.started == ["run"])
    assert cat.snapshot().position == 2
    t = time.monotonic()
    while time.monotonic() - t < 1.0:  # ann's and cat's pages poll, bob's tab is gone
        run.snapshot(), cat.snapshot()
        time.sleep(0.05)
    assert cat.snapshot().position == 1 and gone.snapshot().status == "stopped"
    assert gone.message == "Stopped before it started."
    f.open("run", run)
    wait_until(lambda: f.started == ["run", "cat"])
    cat.stop()
    assert cat.join(5)


def test_a_stopped_job_keeps_its_message_and_errors_become_one_line(engine):
    def bad(on_progress, should_stop):
        raise CnnvizError("A clear sentence.")

    def bug(on_progress, should_stop):
        raise ZeroDivisionError("division by zero")

    a = engine.submit("s", "t", "bad", 1, bad)
    b = engine.submit("s", "t", "bug", 2, bug)
    assert a.join(5) and b.join(5)
    assert (a.snapshot().status, a.snapshot().message) == ("error", "A clear sentence.")
    assert b.snapshot().status == "error" and "ZeroDivisionError" in b.snapshot().message
    f = Fake()
    c = engine.submit("s", "t", "stop", 3, f.work("c"))
    wait_until(lambda: f.started == ["c"])
    c.stop()
    assert c.join(5) and (c.snapshot().status, c.snapshot().message) == ("stopped", "c stopped midway")
    assert c.work is None  # what the work held is let go with it


def test_learnt_rates_estimate_the_next_job_of_the_same_cost(engine):
    def quick(on_progress, should_stop):
        time.sleep(0.2)

    a = engine.submit("s", "t", "featvis", 0, quick, units=10, cost="tiny")
    assert a.join(5) and a.estimate is None
    b = engine.submit("s", "t", "featvis", 1, quick, units=40, cost="tiny")
    assert b.estimate == pytest.approx(40 * 0.02, rel=0.5)  # 4x the units: about 4x 0.2 s
    b.join(5)


def test_a_channel_is_credited_to_the_conv_that_computes_it():
    lm = load_model("tinyvgg_mnist", device="cpu")
    layers = catalogue(lm)
    for name, conv in (
        ("features.3.pool", "features.3.conv"),
        ("features.1.act", "features.1.conv"),
        ("features.0.conv", "features.0.conv"),
    ):
        assert chan.source_conv(layers, find_layer(layers, name)).name == conv
    assert chan.source_conv(layers, find_layer(layers, "classifier.fc")) is None
    w = chan.channel_filter(lm.model, find_layer(layers, "features.2.conv"), 4)
    ref = lm.model.get_submodule("features.2.conv").weight[4]
    np.testing.assert_allclose(chan.input_norms(w), torch.linalg.vector_norm(ref, dim=(1, 2)).numpy(), rtol=1e-6)


def test_what_a_waiting_student_reads():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th",
    ]  # fmt: skip
    assert waiting_text(2, 40.4).startswith("Waiting: 2nd in line; about 40 s")
    assert waiting_text(1, 0.2).startswith("Waiting: next in line; about 1 s")
    assert waiting_text(5, 600).startswith("Waiting: 5th in line; about 10 min")
    assert waiting_text(3, None).startswith("Waiting: 3rd in line (")
    assert paused_text(3, 9.2, "37 of 512 steps") == (
        "Paused at 37 of 512 steps to let a classmate run; 2 ahead (3rd in line); about 9 s. It goes on where it stopped."
    )
    assert paused_text(1, None, "5 %").startswith("Paused at 5 % to let a classmate run; next in line. ")
