"""Live classes and lesson drafts, in one SQLite file every app process shares.

A class is a lesson being taught: its code, the current step, the followers' heartbeats
and the answers to its questions. Behind the nginx recipe the teacher and each student may
land on different app processes, so nothing lives in one process's memory: every call
opens its own connection (safe from any thread, and from a forked process; an idle one per
process keeps the WAL between calls: ``db.Holder``), the file is in
WAL mode (readers never wait for the writer) with a busy timeout, and every change runs in
one ``BEGIN IMMEDIATE`` transaction. The file is ``$CNNVIZ_CLASSES``, by default beside the
other shared stores in the temp folder; it survives an app restart.

Owner tokens are kept only as digests (``codes``). Only the token that opened a class
moves, reveals or ends it. Every flood is bounded with a sentence: students per class,
answers per step, classes per teacher, drafts (``drafts``), and wrong codes per browser
(``join``).
"""

from __future__ import annotations

import contextlib
import hmac
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cnnviz.i18n import _
from cnnviz.lessons.answers import checked_answer
from cnnviz.lessons.codes import CODE_RE, digest, new_code, normalize_code
from cnnviz.lessons.db import BUSY_S, Holder, connect, create, default_path
from cnnviz.lessons.drafts import Drafts, sweep_drafts
from cnnviz.lessons.format import Lesson, LessonError, dump_lesson, lesson_problems, parse_lesson

__all__ = ["ClassGone", "ClassState", "ClassStore", "NotTeacher", "default_path", "normalize_code"]

MAX_WRONG_CODES, WRONG_CODE_WINDOW_S = 10, 60.0  # per browser, in ``join`` (with ``codes``: no guessing)
MAX_FOLLOWERS = 300  # distinct students who may join one class (a class is ~30)
MAX_CLASSES_PER_TEACHER = 5
MAX_CLASSES = 500  # live classes on the server


class ClassGone(LessonError):
    """An unknown or expired class code."""


class NotTeacher(LessonError):
    """A browser other than the teacher's tried to move, reveal or end a class."""


@dataclass(frozen=True)
class ClassState:
    """A class as every follower sees it.

    Attributes:
        code: the class's code (e.g. "K7F3QX").
        lesson: the lesson being taught.
        step: the current step's index in ``lesson.steps``.
        revision: grows on every move and reveal (followers compare it).
        revealed: whether the current question's answer is shown.
        expires_at: Unix time (each move or reveal of the teacher extends it by the TTL).
    """

    code: str
    lesson: Lesson
    step: int
    revision: int
    revealed: bool
    expires_at: float


class ClassStore(Drafts):
    """The classes and drafts in one SQLite file; safe from many threads and processes.

    Args:
        path: the database file (None: ``default_path()``); made with mode 0600.
        ttl_s: a class ends this long after its teacher's last move, reveal or opening.
        clock: the time source (tests move it to expire classes).
    """

    def __init__(self, path: Path | None = None, *, ttl_s: float = 4 * 3600, clock: Callable[[], float] = time.time):
        self.path = Path(path) if path is not None else default_path()
        self.ttl_s, self.clock = float(ttl_s), clock
        create(self.path)
        self._holder = Holder(self.path)
        self._lessons: OrderedDict[tuple[str, float], Lesson] = OrderedDict()  # parsed once per class
        self._lock = threading.Lock()

    def _db(self, write: bool = False) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        self._holder.hold()
        return connect(self.path, write, BUSY_S)

    # -- the teacher's side ------------------------------------------------------------

    def open_class(self, lesson: Lesson, teacher: str) -> str:
        """Start a class on ``lesson`` at its first step.

        Args:
            lesson: the lesson to teach.
            teacher: the teacher's owner token (kept only as a digest); only it may move,
                reveal or end the class.

        Returns:
            The class's code (e.g. "K7F3QX").

        Raises:
            LessonError: the lesson is not valid, the teacher already has
                ``MAX_CLASSES_PER_TEACHER`` classes open, or the server ``MAX_CLASSES``.
        """
        data = dump_lesson(lesson)
        problems = lesson_problems(data)
        if problems:
            raise LessonError(problems[0], tuple(problems))
        who, now = digest(teacher), self.clock()
        self.sweep()
        with self._db(write=True) as con:
            (mine,) = con.execute(
                "SELECT count(*) FROM classes WHERE teacher=? AND expires_at>?", (who, now)
            ).fetchone()
            if mine >= MAX_CLASSES_PER_TEACHER:
                raise LessonError(
                    _("You already have {n} classes open; end one before you start another.").format(n=mine)
                )
            (live,) = con.execute("SELECT count(*) FROM classes WHERE expires_at>?", (now,)).fetchone()
            if live >= MAX_CLASSES:
                raise LessonError(_("This server already runs {n} classes; end one or try again later.").format(n=live))
            while True:
                code = new_code()
                if con.execute("SELECT 1 FROM classes WHERE code=?", (code,)).fetchone() is None:
                    break
            con.execute("INSERT INTO classes VALUES (?, ?, ?, 0, 0, 0, ?, ?)", (code, who, data, now, now + self.ttl_s))
        return code

    def _row(self, con: sqlite3.Connection, code: str) -> tuple:
        code = normalize_code(code)
        row = None
        if CODE_RE.fullmatch(code):
            row = con.execute(
                "SELECT code, step, revision, revealed, expires_at, opened_at, teacher FROM classes "
                "WHERE code=? AND expires_at>?",
                (code, self.clock()),
            ).fetchone()
        if row is None:
            if CODE_RE.fullmatch(code):
                raise ClassGone(
                    _("There is no class with the code {code} now: it has ended, or the code is mistyped.").format(
                        code=code
                    )
                )
            raise ClassGone(_("There is no class with the code now: it has ended, or the code is mistyped."))
        return row

    def _state(self, con: sqlite3.Connection, row: tuple) -> ClassState:
        code, step, revision, revealed, expires_at, opened_at, _teacher = row
        key = (code, opened_at)
        with self._lock:
            lesson = self._lessons.get(key)
        if lesson is None:  # a lesson never changes in a class: polls skip its JSON after the first
            (data,) = con.execute("SELECT lesson FROM classes WHERE code=?", (code,)).fetchone()
            lesson = parse_lesson(data)
            with self._lock:
                self._lessons[key] = lesson
                while len(self._lessons) > 64:
                    self._lessons.popitem(last=False)
        return ClassState(code, lesson, step, revision, bool(revealed), expires_at)

    def _teacher_row(self, con: sqlite3.Connection, code: str, teacher: str) -> tuple:
        row = self._row(con, code)
        if not hmac.compare_digest(row[6], digest(teacher)):
            raise NotTeacher(_("Only the browser that started this class can move it, reveal answers or end it."))
        return row

    def state(self, code: str) -> ClassState:
        """The class now.

        Args:
            code: the class's code, as typed (normalised here).

        Returns:
            Its :class:`ClassState`.

        Raises:
            ClassGone: an unknown or expired code (one sentence).
        """
        with self._db() as con:
            return self._state(con, self._row(con, code))

    def revisions(self, codes: list[str]) -> dict[str, int]:
        """code -> revision of the live classes among ``codes``, an ended or expired one left out.

        One small read, which a process's watcher makes a few times a second.

        Args:
            codes: stored codes (``normalize_code``), at most a few hundred.

        Returns:
            {code: revision} for those still running.
        """
        codes = [c for c in codes if CODE_RE.fullmatch(c)][:MAX_CLASSES]
        if not codes:
            return {}
        marks = ",".join("?" * len(codes))
        with self._db() as con:
            rows = con.execute(
                f"SELECT code, revision FROM classes WHERE code IN ({marks}) AND expires_at>?",  # marks only: no input
                (*codes, self.clock()),
            ).fetchall()
        return dict(rows)

    def is_teacher(self, code: str, token: str) -> bool:
        """Whether ``token`` opened the class ``code``.

        Args:
            code: the class's code.
            token: a browser's owner token.

        Returns:
            True for the teacher's token; False for any other, or for an unknown code.
        """
        try:
            with self._db() as con:
                self._teacher_row(con, code, token)
        except LessonError:
            return False
        return True

    def _change(self, code: str, teacher: str, step: int | None, revealed: bool | None) -> ClassState:
        with self._db(write=True) as con:
            row = self._teacher_row(con, code, teacher)
            cur_step, cur_revealed = row[1], bool(row[3])
            new_step = cur_step if step is None else step
            new_revealed = (False if new_step != cur_step else cur_revealed) if revealed is None else revealed
            bump = int((new_step, new_revealed) != (cur_step, cur_revealed))
            con.execute(
                "UPDATE classes SET step=?, revealed=?, revision=revision+?, expires_at=? WHERE code=?",
                (new_step, int(new_revealed), bump, self.clock() + self.ttl_s, row[0]),
            )
            return self._state(con, self._row(con, row[0]))

    def move(self, code: str, teacher: str, step: int) -> ClassState:
        """Take the class to ``step``; the answer is hidden again on a new step.

        Args:
            code: the class's code.
            teacher: the owner token that opened the class.
            step: the step's index in the lesson (0-based).

        Returns:
            The class's new :class:`ClassState`.

        Raises:
            ClassGone: an unknown or expired code.
            NotTeacher: ``teacher`` is not the token that opened the class.
            LessonError: a step the lesson lacks.
        """
        n = len(self.state(code).lesson.steps)
        if not isinstance(step, int) or not 0 <= step < n:
            raise LessonError(_("This lesson has steps 1 to {n}; the class cannot move to another.").format(n=n))
        return self._change(code, teacher, step, None)

    def reveal(self, code: str, teacher: str, shown: bool = True) -> ClassState:
        """Show (or hide again) the model's own answer to the current step's question.

        Args:
            code: the class's code.
            teacher: the owner token that opened the class.
            shown: True to show the answer, False to hide it again.

        Returns:
            The class's new :class:`ClassState`.

        Raises:
            ClassGone: an unknown or expired code.
            NotTeacher: ``teacher`` is not the token that opened the class.
        """
        return self._change(code, teacher, None, bool(shown))

    def end(self, code: str, teacher: str) -> None:
        """End the class: its code, followers and answers are gone.

        Args:
            code: the class's code.
            teacher: the owner token that opened the class.

        Raises:
            ClassGone: an unknown or expired code.
            NotTeacher: ``teacher`` is not the token that opened the class.
        """
        with self._db(write=True) as con:
            _drop(con, [self._teacher_row(con, code, teacher)[0]])

    def classes_of(self, teacher: str) -> list[ClassState]:
        """The live classes ``teacher`` opened (a reloaded teacher finds theirs).

        Args:
            teacher: the teacher's owner token.

        Returns:
            Their classes' :class:`ClassState`, newest first.
        """
        with self._db() as con:
            rows = con.execute(
                "SELECT code, step, revision, revealed, expires_at, opened_at, teacher FROM classes "
                "WHERE teacher=? AND expires_at>? ORDER BY opened_at DESC",
                (digest(teacher), self.clock()),
            ).fetchall()
            return [self._state(con, r) for r in rows]

    # -- the students' side ------------------------------------------------------------

    def join(self, code: str, student: str) -> ClassState:
        """A code typed or opened by link: the class, with ``student`` following it.

        Call this (not ``state``) for a code a person gives: each wrong code is counted
        against the browser.

        Args:
            code: the code as given.
            student: the student's owner token.

        Returns:
            The class's :class:`ClassState`.

        Raises:
            LessonError: the browser gave ``MAX_WRONG_CODES`` wrong codes in the last minute
                (refused for a minute), or the class already has ``MAX_FOLLOWERS`` students.
            ClassGone: an unknown or expired code.
        """
        who, now = digest(student), self.clock()
        with self._db(write=True) as con:
            (wrong,) = con.execute(
                "SELECT count(*) FROM wrong_codes WHERE client=? AND at>?", (who, now - WRONG_CODE_WINDOW_S)
            ).fetchone()
            if wrong >= MAX_WRONG_CODES:
                raise LessonError(_("Too many wrong class codes from this browser; wait a minute, then try again."))
            try:
                self._row(con, code)
            except ClassGone:
                con.execute("INSERT INTO wrong_codes VALUES (?, ?)", (who, now))
                con.execute("COMMIT")  # the wrong try counts even though ClassGone is raised
                raise
        self.follow(code, student)
        return self.state(code)

    def follow(self, code: str, student: str) -> None:
        """A follower's heartbeat (call it from their poll).

        Args:
            code: the class's code.
            student: the student's owner token.

        Raises:
            ClassGone: the class ended.
            LessonError: ``MAX_FOLLOWERS`` students have already joined it.
        """
        who, now = digest(student), self.clock()
        with self._db(write=True) as con:
            code = self._row(con, code)[0]
            if con.execute("UPDATE followers SET seen_at=? WHERE code=? AND student=?", (now, code, who)).rowcount:
                return
            (n,) = con.execute("SELECT count(*) FROM followers WHERE code=?", (code,)).fetchone()
            if n >= MAX_FOLLOWERS:
                raise LessonError(_("This class already has {n} students, as many as it can take.").format(n=n))
            con.execute("INSERT INTO followers VALUES (?, ?, ?)", (code, who, now))

    def followers(self, code: str, within_s: float = 15) -> int:
        """How many students follow the class now.

        Args:
            code: the class's code.
            within_s: how recent a heartbeat counts, in seconds.

        Returns:
            The students whose heartbeat came in the last ``within_s`` seconds.

        Raises:
            ClassGone: an unknown or expired code.
        """
        with self._db() as con:
            code = self._row(con, code)[0]
            (n,) = con.execute(
                "SELECT count(*) FROM followers WHERE code=? AND seen_at>?", (code, self.clock() - within_s)
            ).fetchone()
        return n

    def answer(self, code: str, student: str, step: int, value: str) -> bool:
        """Record ``student``'s answer to the question of ``step``.

        Args:
            code: the class's code.
            student: the student's owner token.
            step: the current step (its answer not yet revealed).
            value: one of the options ("choice", "pick_image") or "x,y" in 0..1 ("click").

        Returns:
            True when recorded; False if they already answered it (their first answer stays).

        Raises:
            ClassGone: an unknown or expired code.
            LessonError: a closed question, a value the question does not take, or
                ``MAX_FOLLOWERS`` answers already.
        """
        who = digest(student)
        with self._db(write=True) as con:
            row = self._row(con, code)
            st = self._state(con, row)
            q = st.lesson.steps[step].question if isinstance(step, int) and 0 <= step < len(st.lesson.steps) else None
            if q is None or step != st.step or st.revealed:
                raise LessonError(_("This question is closed: the class has moved on or its answer is shown."))
            value = checked_answer(q.kind, q.options, value)
            (n,) = con.execute("SELECT count(*) FROM answers WHERE code=? AND step=?", (st.code, step)).fetchone()
            if n >= MAX_FOLLOWERS:
                raise LessonError(_("This question already has {n} answers, as many as it can take.").format(n=n))
            cur = con.execute(
                "INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?)", (st.code, step, who, value, self.clock())
            )
            return cur.rowcount == 1

    def tally(self, code: str, step: int) -> dict[str, int]:
        """The answers to ``step``'s question, counted.

        Args:
            code: the class's code.
            step: the step's index in the lesson.

        Returns:
            Answer value -> count; for "choice" and "pick_image" every option, in order (0s too).

        Raises:
            ClassGone: an unknown or expired code.
        """
        st = self.state(code)
        q = st.lesson.steps[step].question if 0 <= step < len(st.lesson.steps) else None
        out = {o: 0 for o in q.options} if q is not None else {}
        for v in self.answers(code, step):
            out[v] = out.get(v, 0) + 1
        return out

    def answers(self, code: str, step: int) -> list[str]:
        """The raw answers to ``step``'s question.

        Args:
            code: the class's code.
            step: the step's index in the lesson.

        Returns:
            The stored values, first given first.

        Raises:
            ClassGone: an unknown or expired code.
        """
        with self._db() as con:
            code = self._row(con, code)[0]
            rows = con.execute("SELECT value FROM answers WHERE code=? AND step=? ORDER BY at", (code, step))
            return [v for (v,) in rows]

    # -- housekeeping ------------------------------------------------------------------

    def sweep(self) -> int:
        """Drop expired classes (with their followers and answers), old drafts and old wrong codes.

        Returns:
            How many classes were dropped.
        """
        now = self.clock()
        with self._db(write=True) as con:
            codes = [c for (c,) in con.execute("SELECT code FROM classes WHERE expires_at<=?", (now,))]
            _drop(con, codes)
            sweep_drafts(con, now)
            con.execute("DELETE FROM wrong_codes WHERE at<?", (now - WRONG_CODE_WINDOW_S,))
        return len(codes)


def _drop(con: sqlite3.Connection, codes: list[str]) -> None:
    for code in codes:
        for table in ("classes", "followers", "answers"):
            con.execute(f"DELETE FROM {table} WHERE code=?", (code,))  # a fixed table name, never input
