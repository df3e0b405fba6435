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

    def rerun(sid: str) -> bool:
        asked.append(sid)
        return sid not in gone

    store = ClassStore(tmp_path / "c.sqlite3")
    return store, Watcher(store, rerun, spread=0.0), asked


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
