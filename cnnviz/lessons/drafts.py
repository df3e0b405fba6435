"""Lessons being built: one draft per owner, in the class store's SQLite file.

A teacher builds a lesson over many page runs and possibly several app processes, so the
draft lives in the shared file, not in a session. Drafts are bounded (``MAX_DRAFTS``, the
oldest dropped first) and forgotten ``DRAFT_TTL_S`` after their last save.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

from cnnviz.lessons.codes import digest
from cnnviz.lessons.format import Lesson, LessonError, dump_lesson, lesson_problems, parse_lesson

MAX_DRAFTS, DRAFT_TTL_S = 5000, 30 * 86400


class Drafts:
    """The drafts part of ``cnnviz.lessons.store.ClassStore`` (a mixin: it uses the store's
    ``_db`` connections and ``clock``)."""

    _db: Callable[..., contextlib.AbstractContextManager[sqlite3.Connection]]
    clock: Callable[[], float]

    def save_draft(self, owner: str, lesson: Lesson) -> None:
        """Keep ``owner``'s lesson being built (one per owner: the last one saved; a lesson
        with no steps deletes it). LessonError (its first problem) for a lesson that is not
        valid: a draft is kept only if it can be loaded back."""
        who = digest(owner)
        if not lesson.steps:
            with self._db(write=True) as con:
                con.execute("DELETE FROM drafts WHERE owner=?", (who,))
            return
        data = dump_lesson(lesson)
        problems = lesson_problems(data)
        if problems:
            raise LessonError(problems[0], tuple(problems))
        with self._db(write=True) as con:
            con.execute("INSERT OR REPLACE INTO drafts VALUES (?, ?, ?)", (who, data, self.clock()))
            con.execute(
                "DELETE FROM drafts WHERE owner IN (SELECT owner FROM drafts ORDER BY saved_at DESC LIMIT -1 OFFSET ?)",
                (MAX_DRAFTS,),
            )

    def load_draft(self, owner: str) -> Lesson | None:
        """``owner``'s last saved draft, or None (none saved, or no longer a valid lesson)."""
        with self._db() as con:
            row = con.execute("SELECT lesson FROM drafts WHERE owner=?", (digest(owner),)).fetchone()
        if row is None:
            return None
        try:
            return parse_lesson(row[0])
        except LessonError:
            return None


def sweep_drafts(con: sqlite3.Connection, now: float) -> None:
    """Drop the drafts not saved in the last DRAFT_TTL_S seconds (inside the caller's transaction)."""
    con.execute("DELETE FROM drafts WHERE saved_at<?", (now - DRAFT_TTL_S,))
