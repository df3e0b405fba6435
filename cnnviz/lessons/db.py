"""The class store's SQLite file: where it is, its tables, and one transaction per call.

Each call takes a connection of its own process (from a small pool: a connection is never
shared by two threads at once, and never crosses a fork). The file is in WAL mode, so
readers (every follower's poll) never wait for the writer, and a writer waits ``busy_s``
for another process's transaction before giving up with a sentence.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from cnnviz.i18n import _
from cnnviz.lessons.lesson import LessonError
from cnnviz.serving.shared_dir import store_path

BUSY_S = 10.0  # a writer waits this long for another process's transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS classes (code TEXT PRIMARY KEY, teacher TEXT NOT NULL, lesson BLOB NOT NULL,
    step INTEGER NOT NULL, revision INTEGER NOT NULL, revealed INTEGER NOT NULL,
    opened_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS classes_teacher ON classes (teacher);
CREATE TABLE IF NOT EXISTS followers (code TEXT, student TEXT, seen_at REAL NOT NULL,
    PRIMARY KEY (code, student)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answers (code TEXT, step INTEGER, student TEXT, value TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (code, step, student)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS drafts (owner TEXT PRIMARY KEY, lesson BLOB NOT NULL, saved_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS wrong_codes (client TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS wrong_codes_client ON wrong_codes (client, at);
"""


def default_path() -> Path:
    """``$CNNVIZ_CLASSES``, else ``classes.sqlite3`` in ``$CNNVIZ_SHARED_DIR``, else in a
    private folder of the temp folder (where ``cnnviz.serving.uploads`` and ``cnnviz.serving.sharing`` keep theirs)."""
    env = store_path("CNNVIZ_CLASSES")
    if env:
        return env
    folder = Path(tempfile.gettempdir()) / "cnnviz_classes"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / "classes.sqlite3"


def create(path: Path) -> None:
    """Make the file (mode 0600, WAL, the tables) if it is not there yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # private from the start: no window with a wider mode
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    with connect(path) as con:
        con.execute("PRAGMA journal_mode=WAL")  # kept in the file: every later connection uses it
        con.executescript(SCHEMA)


class Holder:
    """One idle connection a process keeps open to the file, so that a call's own connection
    is never the last one: SQLite checkpoints the WAL into the database (with an fsync) and
    deletes it whenever its last connection closes, which made every write ~30 ms.

    A process forked from one that held it opens its own: a connection must not cross a fork,
    and the inherited one is kept (never closed there: closing it would drop the child's
    POSIX locks on the file).
    """

    def __init__(self, path: Path):
        self.path = path
        self._held: dict[int, sqlite3.Connection] = {}
        self.hold()

    def hold(self) -> None:
        """Make sure this process holds its idle connection."""
        pid = os.getpid()
        if pid not in self._held:
            with contextlib.suppress(sqlite3.Error):
                con = sqlite3.connect(self.path, check_same_thread=False)
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file and its WAL index
                self._held[pid] = con


_POOL_MAX = 8  # idle connections kept per (file, process): a page run's reads reuse one
_pool: dict[tuple[str, float, int], list[sqlite3.Connection]] = {}
_pool_lock = threading.Lock()


def _open(path: Path, busy_s: float) -> sqlite3.Connection:
    """A pooled idle connection of this process to ``path``, else a new one. Opening one costs
    more than the follower's poll it serves (the file, its WAL index, the pragma)."""
    key = (str(path), busy_s, os.getpid())
    with _pool_lock:
        idle = _pool.get(key)
        if idle:
            return idle.pop()
    try:
        con = sqlite3.connect(path, timeout=busy_s, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a crash of the app, not of the OS
    except sqlite3.Error:
        raise LessonError(_("The class store cannot be opened on this server; ask its administrator.")) from None
    return con


def _give_back(path: Path, busy_s: float, con: sqlite3.Connection) -> None:
    with _pool_lock:
        idle = _pool.setdefault((str(path), busy_s, os.getpid()), [])
        if len(idle) < _POOL_MAX:
            idle.append(con)
            return
    con.close()


@contextlib.contextmanager
def connect(path: Path, write: bool = False, busy_s: float = BUSY_S) -> Iterator[sqlite3.Connection]:
    """A connection for one call, used by one thread at a time (taken from this process's pool
    and given back after); ``write``: inside ``BEGIN IMMEDIATE`` … ``COMMIT``.

    An exception inside rolls back. SQLite's own errors (a lock held past ``busy_s``, an
    unreadable file) become a LessonError of one sentence.
    """
    con = _open(path, busy_s)
    healthy = False
    try:
        if write:
            con.execute("BEGIN IMMEDIATE")  # take the write lock first: no deadlock upgrading a read
        yield con
        if write:
            con.execute("COMMIT")
        healthy = True
    except sqlite3.Error:
        raise LessonError(_("The class store is busy; try again in a moment.")) from None
    finally:
        try:
            if con.in_transaction:
                con.execute("ROLLBACK")
        except sqlite3.Error:
            healthy = False
        if healthy:
            _give_back(path, busy_s, con)
        else:
            con.close()
