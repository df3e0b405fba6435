"""One page run at a time per student (cnnviz.ui.fair_runs): a student's tabs take turns,
classmates run side by side, a nested run of the same student does not deadlock."""

from __future__ import annotations

import threading
import time

from cnnviz.ui import fair_runs


def _runs(owners: list[str], hold: float = 0.2) -> list[tuple[str, float, float]]:
    """Each owner's run holds its turn for ``hold`` s; (owner, start, end) of each."""
    spans, lock = [], threading.Lock()

    def run(owner: str) -> None:
        with fair_runs.student_turn(owner):
            t = time.monotonic()
            time.sleep(hold)
            with lock:
                spans.append((owner, t, time.monotonic()))

    threads = [threading.Thread(target=run, args=(o,)) for o in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return spans


def overlap(a: tuple[str, float, float], b: tuple[str, float, float]) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def test_a_students_tabs_take_turns_while_classmates_run_side_by_side():
    spans = _runs(["eve"] * 4 + ["ann", "bob"])
    eve = sorted(s for s in spans if s[0] == "eve")
    assert not any(overlap(a, b) for i, a in enumerate(eve) for b in eve[i + 1 :])  # one at a time
    ann, bob = (next(s for s in spans if s[0] == o) for o in ("ann", "bob"))
    assert overlap(ann, bob) and overlap(ann, eve[0])  # the class never waited for eve's turn
    assert fair_runs._GATES == {}  # nothing kept once nobody runs


def test_a_nested_run_of_the_same_student_takes_the_same_turn():
    done = threading.Event()

    def nested() -> None:
        with fair_runs.student_turn("ann"), fair_runs.student_turn("ann"):
            done.set()

    t = threading.Thread(target=nested, daemon=True)
    t.start()
    assert done.wait(5)
    t.join(5)
    assert fair_runs._GATES == {}
