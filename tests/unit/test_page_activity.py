"""The class's clicks first (cnnviz.serving.page_activity): a long job steps only while no page run is
in flight (or after the longest wait), a heavy student's run starts in the class's pause, a
light one's at once, and a run waiting for its student's other tab does not hold jobs back."""

from __future__ import annotations

import threading
import time

import pytest

from cnnviz.serving import jobs, page_activity
from cnnviz.ui import fair_runs


@pytest.fixture(autouse=True)
def _clean():
    page_activity._usage.clear()
    yield
    page_activity._usage.clear()
    assert page_activity.in_flight() == 0


def _hold_run(release: threading.Event, started: threading.Event) -> threading.Thread:
    def run() -> None:
        with page_activity.page_run():
            started.set()
            release.wait(10)

    t = threading.Thread(target=run)
    t.start()
    assert started.wait(5)
    return t


def test_a_job_steps_only_between_page_runs():
    engine = jobs.Engine(slots=1, heartbeat_s=300, grace_s=300)
    steps: list[float] = []

    def work(on_progress, should_stop):
        for _ in range(40):
            if should_stop():
                return None
            steps.append(time.monotonic())
            time.sleep(0.005)
        return len(steps)

    release, started = threading.Event(), threading.Event()
    t = _hold_run(release, started)  # a click is being served
    job = engine.submit("ann", "tab", "featvis", 0, work)
    time.sleep(0.5)
    assert len(steps) == 0  # below YIELD_S (1 s): the job waits for the click
    opened = time.monotonic()
    release.set()
    t.join()
    assert job.join(10) and job.snapshot().result == 40
    assert steps[0] >= opened


def test_a_job_still_moves_when_the_class_never_pauses():
    engine = jobs.Engine(slots=1, heartbeat_s=300, grace_s=300)
    release, started = threading.Event(), threading.Event()
    t = _hold_run(release, started)
    calls = []

    def work(on_progress, should_stop):
        for _ in range(3):
            should_stop()
            calls.append(time.monotonic())
        return "done"

    t0 = time.monotonic()
    job = engine.submit("ann", "tab", "featvis", 0, work)
    assert job.join(10) and job.snapshot().result == "done"
    took = time.monotonic() - t0
    release.set()
    t.join()
    # each checkpoint waited the longest wait, then stepped
    assert 3 * page_activity.YIELD_S * 0.9 <= took <= 3 * page_activity.YIELD_S + 2


def _admit(student: str, max_s: float) -> float:
    with page_activity.page_run(), page_activity.admitted(student, max_s) as waited:
        return waited


def test_a_heavy_students_run_starts_in_the_class_pause_and_a_light_ones_at_once():
    page_activity.charge("eve", 100 * page_activity.HEAVY_SHARE)  # a flood: many seconds of CPU just now
    page_activity.charge("ann", 0.1)
    assert page_activity.share("eve") > page_activity.HEAVY_SHARE > page_activity.share("ann")
    release, started = threading.Event(), threading.Event()
    t = _hold_run(release, started)  # a classmate's click in flight
    try:
        assert _admit("ann", max_s=5) == 0.0
        waited = _admit("eve", max_s=0.3)
        assert 0.25 <= waited < 2  # nobody paused: eve waited the longest wait
        threading.Timer(0.2, release.set).start()
        waited = _admit("eve", max_s=5)
        assert 0.1 <= waited < 2  # she started when the click ended, not after 5 s
    finally:
        release.set()
        t.join()
    assert _admit("eve", max_s=5) < 0.1  # an idle server: at once


def test_heavy_students_share_one_lane():
    for who in ("eve", "mallory"):
        page_activity.charge(who, 100 * page_activity.HEAVY_SHARE)
    spans, lock = [], threading.Lock()

    def run(who: str) -> None:
        with page_activity.page_run(), page_activity.admitted(who, max_s=0.05):
            t = time.monotonic()
            time.sleep(0.3)
            with lock:
                spans.append((t, time.monotonic()))

    threads = [threading.Thread(target=run, args=(w,)) for w in ("eve", "mallory")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a0, a1), (b0, b1) = sorted(spans)
    assert a1 <= b0  # one after the other


def test_the_share_decays_and_student_turn_charges_cpu():
    with page_activity.page_run(), fair_runs.student_turn("bob"):
        end = time.thread_time() + 0.2
        while time.thread_time() < end:  # 0.2 s of this thread's CPU
            pass
    share = page_activity.share("bob")
    assert 0.15 / page_activity.TAU_S <= share <= 0.5 / page_activity.TAU_S
    cpu, when = page_activity._usage["bob"]
    page_activity._usage["bob"] = (cpu, when - page_activity.TAU_S)  # as if a TAU_S ago
    assert page_activity.share("bob") == pytest.approx(share / 2.718281828, rel=0.05)


def test_a_run_waiting_for_its_students_other_tab_does_not_count():
    inside, release = threading.Event(), threading.Event()

    def tab() -> None:
        with page_activity.page_run(), fair_runs.student_turn("eve"):
            inside.set()
            release.wait(10)

    first = threading.Thread(target=tab)
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=tab)  # eve's other tab: waits for the first
    second.start()
    time.sleep(0.2)
    assert page_activity.in_flight() == 1
    release.set()
    first.join()
    second.join()


def _two_runs(first_session: str, second_session: str) -> tuple[list[float], float]:
    """eve's run in ``first_session``, then one in ``second_session`` queued behind it, while
    ann's click is in flight; when each run began, and when ann's click ended."""
    release, started = threading.Event(), threading.Event()
    t = _hold_run(release, started)  # ann's click in flight
    first_in, first_go = threading.Event(), threading.Event()
    entered: list[float] = []

    def run(session: str, hold: threading.Event | None) -> None:
        with page_activity.page_run(), fair_runs.student_turn("eve", session):
            entered.append(time.monotonic())
            if hold is not None:
                first_in.set()
                hold.wait(10)

    first = threading.Thread(target=run, args=(first_session, first_go))
    first.start()
    assert first_in.wait(5)  # eve's first run: she was not heavy, it started at once
    second = threading.Thread(target=run, args=(second_session, None))
    second.start()
    time.sleep(0.1)  # the second run now waits for her turn
    first_go.set()
    first.join()
    time.sleep(0.3)
    ended = time.monotonic()
    release.set()
    t.join()
    second.join()
    return entered, ended


def test_a_run_queued_behind_its_students_other_tab_waits_for_the_class_pause():
    """A burst of tabs is heavy at once: eve has used no CPU yet, but her second tab's run,
    queued behind her first tab's, starts only when the classmate's click ends."""
    entered, ann_ended = _two_runs("tab 1", "tab 2")
    assert len(entered) == 2 and entered[1] >= ann_ended
    assert page_activity.share("eve") < page_activity.HEAVY_SHARE  # heavy by queueing, not by CPU


def test_a_second_click_in_the_same_tab_is_not_a_burst():
    """Streamlit's fast reruns: a click during a run starts the tab's next run while the first
    is still ending. That run waits for the first (one turn per student), not for the class."""
    entered, ann_ended = _two_runs("tab 1", "tab 1")
    assert len(entered) == 2 and entered[1] < ann_ended
