"""Issue 24: the class watcher reruns exactly the follower sessions whose class moved (or
ended), once per move, and forgets closed tabs; the store's revisions read names only live
classes."""

from __future__ import annotations

from cnnviz.lessons.format import Lesson, Step, View
from cnnviz.lessons.store import ClassStore
from cnnviz.ui import compat
from cnnviz.ui.lesson_push import Watcher

TEACHER = "t" * 32
LESSON = Lesson(
    "Two steps",
    (
        Step(title="one", view=View("", {"image": "chelsea"})),
        Step(title="two", view=View("features", {})),
    ),
)


def _watcher(tmp_path, gone=()):
    asked: list[str] = []

    def rerun(sid: str, cs) -> bool:
        asked.append(sid)
        return sid not in gone

    store = ClassStore(tmp_path / "c.sqlite3")
    return store, Watcher(store, rerun, window=100, thread=False), asked


def test_revisions_of_live_classes_only(tmp_path):
    store = ClassStore(tmp_path / "c.sqlite3")
    a, b = store.open_class(LESSON, TEACHER), store.open_class(LESSON, TEACHER)
    assert store.revisions([a, b, "ZZZZZZ", "bad code"]) == {a: 0, b: 0}
    store.move(a, TEACHER, 1)
    store.reveal(b, TEACHER)  # no question: still a new revision (the followers redraw)
    store.end(b, TEACHER)
    assert store.revisions([a, b]) == {a: 1}
    assert store.revisions([]) == {}


def test_only_the_moved_class_s_followers_rerun_once_per_move(tmp_path):
    store, w, asked = _watcher(tmp_path)
    a, b = store.open_class(LESSON, TEACHER), store.open_class(LESSON, TEACHER)
    w.watch(a, "s1", 0)
    w.watch(a, "s2", 0)
    w.watch(b, "s3", 0)
    assert w.push() == 0 and asked == []  # nobody is behind
    store.move(a, TEACHER, 1)
    assert w.push() == 2 and sorted(asked) == ["s1", "s2"]
    assert w.push() == 0  # asked once: the rerun is on its way
    w.watch(a, "s1", 1)  # s1's rerun showed the move; s2's has not run yet
    assert w.push() == 0 and len(asked) == 2
    store.move(a, TEACHER, 0)
    assert w.push() == 2 and sorted(asked[2:]) == ["s1", "s2"]
    assert w.followers() == {a: 2, b: 1}


def test_a_move_to_another_step_sends_the_step_a_reveal_or_an_end_does_not(tmp_path):
    """A follower rerun for a new step gets the class's state (the watcher reruns it straight
    on that step's page); one whose step is unchanged (a reveal) or whose class ended gets
    None (a rerun of its own page)."""
    store = ClassStore(tmp_path / "c.sqlite3")
    got: list[tuple[str, object]] = []
    w = Watcher(store, lambda sid, cs: got.append((sid, cs)) or True, window=100, thread=False)
    a = store.open_class(LESSON, TEACHER)
    w.watch(a, "behind", 0, 0)
    w.watch(a, "ahead", 0, 1)  # showed step two already (a reload after the teacher's Next)
    store.move(a, TEACHER, 1)
    assert w.push() == 2
    moved = dict(got)
    assert moved["behind"].step == 1 and moved["behind"].code == a and moved["behind"].revision == 1
    assert moved["ahead"] is None
    got.clear()
    w.watch(a, "behind", 1, 1)
    w.forget("ahead")
    store.reveal(a, TEACHER)
    assert w.push() == 1 and got == [("behind", None)]
    got.clear()
    w.watch(a, "behind", 2, 1)
    store.end(a, TEACHER)
    assert w.push() == 1 and got == [("behind", None)]


def test_an_ended_class_reruns_its_followers_and_closed_tabs_are_forgotten(tmp_path):
    store, w, asked = _watcher(tmp_path, gone={"s2"})
    a = store.open_class(LESSON, TEACHER)
    w.watch(a, "s1", 0)
    w.watch(a, "s2", 0)
    store.end(a, TEACHER)
    assert w.push() == 2 and sorted(asked) == ["s1", "s2"]  # each run says the class ended
    assert w.followers() == {a: 1}  # s2's tab is closed: forgotten
    w.forget("s1")
    assert w.followers() == {}


def test_a_session_follows_one_class_at_a_time(tmp_path):
    store, w, _ = _watcher(tmp_path)
    a, b = store.open_class(LESSON, TEACHER), store.open_class(LESSON, TEACHER)
    w.watch(a, "s1", 0)
    w.watch(b, "s1", 0)  # joined another class
    assert w.followers() == {b: 1}
    store.move(a, TEACHER, 1)
    assert w.push() == 0


def test_rerun_session_outside_a_server_says_no():
    assert compat.session_id() is None
    assert compat.rerun_session("no-such-session") is False


def test_at_most_window_pushed_runs_in_flight_the_next_when_one_ends(tmp_path):
    """Thirty followers: two runs at a time, each next one asked as soon as a run ends (not at
    a fixed pace), and a run that never reports its end frees its place after ``hold``."""
    import threading
    import time

    store = ClassStore(tmp_path / "c.sqlite3")
    code = store.open_class(LESSON, TEACHER)
    asked: list[tuple[str, float]] = []
    w = Watcher(store, lambda sid, cs: asked.append((sid, time.monotonic())) or True, window=2, hold=5.0, thread=False)
    sids = [f"s{i:02d}" for i in range(30)]
    for sid in sids:
        w.watch(code, sid, 0)
    store.move(code, TEACHER, 1)

    def end_runs():  # each asked run ends 10 ms after it was asked, as a quick page run would
        done = 0
        while done < 28:
            with w._lock:
                oldest = sorted(w._in_flight.items(), key=lambda kv: kv[1])
            if oldest and time.monotonic() - oldest[0][1] >= 0.01:
                w.finished(oldest[0][0])
                done += 1
            time.sleep(0.001)

    ender = threading.Thread(target=end_runs)
    ender.start()
    t0 = time.monotonic()
    assert w.push() == 30
    took = time.monotonic() - t0
    ender.join()
    assert sorted(s for s, _ in asked) == sids
    assert len(w._in_flight) == 2  # the last two never ended
    # 28 ends at ~10 ms each, two at a time: about 0.14 s (a fixed 60 ms pace took 1.7 s)
    assert took < 1.0, took
    # never more than two asked and not ended: the third was asked only after the first ended
    assert asked[2][1] - asked[0][1] >= 0.009

    w2 = Watcher(store, lambda sid, cs: True, window=1, hold=0.2, thread=False)
    w2.watch(code, "a", 1)
    w2.watch(code, "b", 1)
    store.move(code, TEACHER, 0)
    t0 = time.monotonic()
    assert w2.push() == 2  # "a" never ends: "b" is asked once "a"'s place has been held 0.2 s
    assert 0.19 <= time.monotonic() - t0 < 1.0
