"""Issue 24: the class store. Answers from several processes and threads at once are each
counted once, a second answer is refused, only the teacher moves the class, classes expire,
everything survives a new store on the same file (an app restart), floods are bounded."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnviz.lessons import drafts
from cnnviz.lessons import store as cs
from cnnviz.lessons.codes import CODE_ALPHABET
from cnnviz.lessons.format import Lesson, LessonError, Question, Step, View
from cnnviz.lessons.store import ClassGone, ClassStore, NotTeacher
from testing.catalogue import BAD_CLASS_CODES

ROOT = Path(__file__).resolve().parents[2]
TEACHER = "t" * 32


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def lesson() -> Lesson:
    return Lesson(
        "Test lesson",
        (
            Step(
                title="Which class?",
                view=View("", {"image": "chelsea"}),
                question=Question("choice", "Which?", ("tabby", "tiger cat", "lynx")),
            ),
            Step(
                title="Grad-CAM", view=View("gradcam", {"layer": "blocks.6"}), question=Question("click", "Click it.")
            ),
            Step(title="No question", view=View("model")),
        ),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> ClassStore:
    return ClassStore(tmp_path / "classes.sqlite3", ttl_s=100, clock=clock)


# Another process: each student answers twice, from four threads at once, all processes
# starting at the same moment. A script of its own (not a multiprocessing target): a spawned
# worker must import this test module, which failed inside the whole suite and left the
# pool starting workers forever.
_ANSWER_MANY = """
import json, sys, threading, time
from pathlib import Path
from cnnviz.lessons.store import ClassStore
path, code, start, students = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
s = ClassStore(Path(path))
out, lock = [], threading.Lock()
def run(chunk):
    for st in chunk:
        first = s.answer(code, st, 0, "tabby" if int(st.rsplit("-", 1)[1]) % 2 else "lynx")
        again = s.answer(code, st, 0, "tiger cat")
        with lock:
            out.append((st, first, again))
while time.time() < start:
    time.sleep(0.001)
threads = [threading.Thread(target=run, args=(students[i::4],)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(out))
"""


def test_answers_from_several_processes_at_once_are_each_counted_once(tmp_path):
    path = tmp_path / "classes.sqlite3"
    s = ClassStore(path)
    code = s.open_class(lesson(), TEACHER)
    groups = [[f"student-{p}-{i}" for i in range(30)] for p in range(4)]
    start = time.time() + 5  # after the four interpreters have started
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ANSWER_MANY, str(path), code, str(start), *g],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for g in groups
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4
    rows = [tuple(r) for out in outs for r in json.loads(out)]
    assert sorted(st for st, _, _ in rows) == sorted(st for g in groups for st in g)
    assert all(first and not again for _, first, again in rows)  # the first counted, the second refused
    tally = s.tally(code, 0)
    assert sum(tally.values()) == 120 and tally["tiger cat"] == 0
    assert tally["tabby"] == tally["lynx"] == 60  # odd numbers said tabby
    assert len(s.answers(code, 0)) == 120


def test_a_second_answer_is_refused_and_the_first_stays(store):
    code = store.open_class(lesson(), TEACHER)
    assert store.answer(code, "ann", 0, "lynx") is True
    assert store.answer(code, "ann", 0, "tabby") is False
    assert store.tally(code, 0) == {"tabby": 0, "tiger cat": 0, "lynx": 1}
    assert store.answers(code, 0) == ["lynx"]


def test_answers_are_checked_against_the_question(store):
    code = store.open_class(lesson(), TEACHER)
    with pytest.raises(LessonError, match="not one of this question's options"):
        store.answer(code, "ann", 0, "dog")
    with pytest.raises(LessonError, match="closed"):
        store.answer(code, "ann", 1, "0.5,0.5")  # not the current step
    store.move(code, TEACHER, 1)
    for bad in ("1.5,0.2", "0.2", "nan,0.1", "0.1,0.2,0.3", "x" * 500):
        with pytest.raises(LessonError):
            store.answer(code, "ann", 1, bad)
    assert store.answer(code, "ann", 1, "0.25, 1") is True
    assert store.answers(code, 1) == ["0.250,1.000"]
    store.reveal(code, TEACHER)
    with pytest.raises(LessonError, match="closed"):
        store.answer(code, "bob", 1, "0.5,0.5")  # the answer is shown: the question is closed
    store.move(code, TEACHER, 2)
    with pytest.raises(LessonError, match="closed"):
        store.answer(code, "bob", 2, "x")  # a step without a question


def test_only_the_teacher_moves_reveals_and_ends(store):
    code = store.open_class(lesson(), TEACHER)
    assert store.is_teacher(code, TEACHER) and not store.is_teacher(code, "ann")
    store.join(code, "ann")
    for act in (
        lambda: store.move(code, "ann", 1),
        lambda: store.reveal(code, "ann"),
        lambda: store.end(code, "ann"),
    ):
        with pytest.raises(NotTeacher, match="Only the browser that started this class"):
            act()
    assert (store.state(code).step, store.state(code).revision, store.state(code).revealed) == (0, 0, False)


def test_moves_and_reveals_grow_the_revision(store):
    code = store.open_class(lesson(), TEACHER)
    s1 = store.reveal(code, TEACHER)
    assert (s1.step, s1.revision, s1.revealed) == (0, 1, True)
    s2 = store.move(code, TEACHER, 2)
    assert (s2.step, s2.revision, s2.revealed) == (2, 2, False)  # a new step starts unrevealed
    assert store.move(code, TEACHER, 2).revision == 2  # no change: followers need not reload
    with pytest.raises(LessonError, match="steps 1 to 3"):
        store.move(code, TEACHER, 3)
    with pytest.raises(LessonError, match="steps 1 to 3"):
        store.move(code, TEACHER, -1)


def test_classes_expire_and_sweep_drops_them(store, clock):
    code = store.open_class(lesson(), TEACHER)
    store.join(code, "ann")
    store.answer(code, "ann", 0, "lynx")
    clock.now += 60
    store.move(code, TEACHER, 1)  # the teacher's move extends the class by its TTL
    clock.now += 99
    assert store.state(code).step == 1
    clock.now += 2
    with pytest.raises(ClassGone, match=f"no class with the code {code} now"):
        store.state(code)
    assert store.classes_of(TEACHER) == []
    other = store.open_class(lesson(), TEACHER)  # opening sweeps the expired one
    with store._db() as con:
        assert con.execute("SELECT count(*) FROM followers").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM answers").fetchone() == (0,)
        assert con.execute("SELECT code FROM classes").fetchall() == [(other,)]
    clock.now += 101
    assert store.sweep() == 1
    assert store.sweep() == 0


def test_a_new_store_on_the_same_file_finds_everything(tmp_path, clock):
    first = ClassStore(tmp_path / "c.db", ttl_s=100, clock=clock)
    code = first.open_class(lesson(), TEACHER)
    first.join(code, "ann")
    first.answer(code, "ann", 0, "tabby")
    first.move(code, TEACHER, 1)
    first.save_draft(TEACHER, lesson())
    again = ClassStore(tmp_path / "c.db", ttl_s=100, clock=clock)  # an app restart
    st = again.state(code)
    assert (st.code, st.step, st.revision, st.lesson) == (code, 1, 1, lesson())
    assert [c.code for c in again.classes_of(TEACHER)] == [code]
    assert again.is_teacher(code, TEACHER)
    assert again.tally(code, 0)["tabby"] == 1 and again.followers(code) == 1
    assert again.load_draft(TEACHER) == lesson() and again.load_draft("ann") is None


def test_codes_are_short_readable_and_typed_loosely(store):
    codes = {store.open_class(lesson(), f"teacher-{i}") for i in range(40)}
    assert len(codes) == 40
    for code in codes:
        assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert not set("0O1IL") & set(CODE_ALPHABET) and len(CODE_ALPHABET) == 31
    code = codes.pop()
    assert store.state(f" {code[:3].lower()}-{code[3:]} ").code == code


@pytest.mark.parametrize("case", list(BAD_CLASS_CODES))
def test_bad_codes_get_one_sentence(store, case):
    raw = BAD_CLASS_CODES[case]
    with pytest.raises(ClassGone) as e:
        store.state(raw)
    msg = str(e.value)
    assert msg.startswith("There is no class with the code") and msg.endswith("mistyped.")
    assert "<" not in msg and "'" not in msg and "\x00" not in msg and len(msg) < 120


def test_wrong_codes_from_one_browser_are_slowed_down(store, clock):
    code = store.open_class(lesson(), TEACHER)
    for _ in range(cs.MAX_WRONG_CODES):
        with pytest.raises(ClassGone):
            store.join("ZZZZZZ", "guesser")
    with pytest.raises(LessonError, match="Too many wrong class codes"):
        store.join(code, "guesser")  # even the right one, for a minute
    assert store.join(code, "ann").code == code  # another browser is not affected
    clock.now += cs.WRONG_CODE_WINDOW_S + 1
    assert store.join(code, "guesser").code == code


def test_followers_count_recent_heartbeats_and_joins_are_bounded(store, clock, monkeypatch):
    monkeypatch.setattr(cs, "MAX_FOLLOWERS", 3)
    code = store.open_class(lesson(), TEACHER)
    for name in ("ann", "bob", "cy"):
        store.follow(code, name)
    with pytest.raises(LessonError, match="already has 3 students"):
        store.follow(code, "dee")
    clock.now += 10
    store.follow(code, "ann")  # a heartbeat of a student already in
    assert store.followers(code) == 3 and store.followers(code, within_s=5) == 1


def test_answers_per_question_are_bounded(store, monkeypatch):
    monkeypatch.setattr(cs, "MAX_FOLLOWERS", 2)
    code = store.open_class(lesson(), TEACHER)
    store.answer(code, "ann", 0, "lynx")
    store.answer(code, "bob", 0, "lynx")
    with pytest.raises(LessonError, match="already has 2 answers"):
        store.answer(code, "cy", 0, "lynx")


def test_classes_per_teacher_are_bounded(store):
    for _ in range(cs.MAX_CLASSES_PER_TEACHER):
        store.open_class(lesson(), TEACHER)
    with pytest.raises(LessonError, match="already have 5 classes open"):
        store.open_class(lesson(), TEACHER)
    code = store.classes_of(TEACHER)[0].code
    store.end(code, TEACHER)
    with pytest.raises(ClassGone):
        store.state(code)
    store.open_class(lesson(), TEACHER)  # one ended: room for one more


def test_drafts_one_per_owner_and_bounded(store, clock, monkeypatch):
    monkeypatch.setattr(drafts, "MAX_DRAFTS", 3)
    short = Lesson("Short", lesson().steps[:1])
    store.save_draft("ann", lesson())
    store.save_draft("ann", short)
    assert store.load_draft("ann") == short  # the last one saved
    for owner in ("bob", "cy", "dee"):
        clock.now += 1
        store.save_draft(owner, lesson())
    assert store.load_draft("ann") is None  # the oldest of four went
    assert all(store.load_draft(o) == lesson() for o in ("bob", "cy", "dee"))
    store.save_draft("bob", Lesson("Empty", ()))
    assert store.load_draft("bob") is None
    with pytest.raises(LessonError, match="at most 120"):
        store.save_draft("cy", Lesson("t" * 121, lesson().steps))


def test_the_file_is_private_and_holds_no_token(tmp_path):
    path = tmp_path / "c.db"
    s = ClassStore(path)
    code = s.open_class(lesson(), "teacher-secret-token")
    s.join(code, "student-secret-token")
    s.answer(code, "student-secret-token", 0, "lynx")
    s.save_draft("owner-secret-token", lesson())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"secret-token" not in raw


def test_the_default_file_follows_cnnviz_classes(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_CLASSES", str(tmp_path / "where" / "classes.db"))
    assert cs.default_path() == tmp_path / "where" / "classes.db"
    s = ClassStore()
    assert s.path.is_file()
    monkeypatch.delenv("CNNVIZ_CLASSES")
    assert cs.default_path().parent.name == "cnnviz_classes"
    assert stat.S_IMODE(os.stat(cs.default_path().parent).st_mode) == 0o700


def test_a_locked_store_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(cs, "BUSY_S", 0.05)
    path = tmp_path / "c.db"
    s = ClassStore(path)
    code = s.open_class(lesson(), TEACHER)
    import sqlite3

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    try:
        assert s.state(code).step == 0  # WAL: readers do not wait for the writer
        with pytest.raises(LessonError, match="busy"):
            s.move(code, TEACHER, 1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert s.move(code, TEACHER, 1).step == 1


def test_the_wal_outlives_each_calls_connection(tmp_path):
    """Each call's connection closes; the store's idle one keeps the WAL, so a write is not
    followed by a checkpoint with an fsync and the WAL's deletion (~30 ms a write before)."""
    s = ClassStore(tmp_path / "c.db")
    code = s.open_class(lesson(), TEACHER)
    s.follow(code, "ann")
    assert (tmp_path / "c.db-wal").is_file() and (tmp_path / "c.db-wal").stat().st_size > 0
