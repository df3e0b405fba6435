"""Bounds on the bytes Streamlit's upload manager holds, per session and for the process.

Streamlit's protocol lets any client ask for upload URLs and PUT files to them with no
file_uploader involved; each file then sits in memory in the runtime's
``MemoryUploadedFileManager`` until its session ends (measured before this module: 20 ×
45 MB → +900 MB, still held minutes after the tab closed). ``server.maxUploadSize`` bounds
one file, nothing bounded their number. Installed once per process by :func:`install`
(app.py calls it on every run; it is idempotent and cheap):

- per session, ``CNNVIZ_UPLOAD_SESSION_MB`` (default 5 × ``server.maxUploadSize``: a
  folder dataset at the Train page's 200 MB cap plus one more upload): past it, that
  session's oldest files are dropped first. A single-file uploader only reads its latest
  file, and a folder upload's files all arrive before the run that reads them.
- for the process, ``CNNVIZ_UPLOAD_TOTAL_MB`` (default 10 × ``server.maxUploadSize``):
  past it, the oldest files of the session holding the most are dropped first, so one
  student filling URLs loses their own files before a classmate's photo goes.

The file just added is never dropped: one upload within ``server.maxUploadSize`` always
lands. A dropped file reads as "no file" to a widget that still names it (Streamlit's
``get_files`` skips missing ids).
"""

from __future__ import annotations

import os

from streamlit import config
from streamlit.runtime import Runtime
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

__all__ = ["BoundedUploadedFileManager", "caps", "held_bytes", "install", "victims"]

# What the subclass reads of Streamlit 1.67's manager (tests/unit/test_upload_limits.py).
_INTERNALS = ("_lock", "file_storage", "_total_bytes")
Holdings = dict[str, list[tuple[str, int]]]  # session id -> [(file id, bytes)], oldest first


def caps() -> tuple[int, int]:
    """(per-session cap, process-wide cap) in bytes, from the environment or the defaults."""
    upload = int(config.get_option("server.maxUploadSize")) << 20

    def mb(name: str, default: int) -> int:
        env = os.environ.get(name, "").strip()
        return max(1, int(float(env))) << 20 if env else default

    return mb("CNNVIZ_UPLOAD_SESSION_MB", 5 * upload), mb("CNNVIZ_UPLOAD_TOTAL_MB", 10 * upload)


def victims(holdings: Holdings, new: tuple[str, str], session_cap: int, total_cap: int) -> list[tuple[str, str]]:
    """The files to drop, as (session id, file id), so that every session holds at most
    ``session_cap`` bytes and all together at most ``total_cap``; never ``new``, the file
    just added. Per session its oldest go first; over the total, the oldest of whichever
    session holds the most at that moment."""
    left = {sid: list(files) for sid, files in holdings.items()}
    out: list[tuple[str, str]] = []

    def droppable(sid: str) -> int | None:
        for i, (fid, _) in enumerate(left[sid]):
            if (sid, fid) != new:
                return i
        return None

    def drop(sid: str, i: int) -> None:
        fid, _ = left[sid].pop(i)
        out.append((sid, fid))

    for sid in left:
        while sum(n for _, n in left[sid]) > session_cap and (i := droppable(sid)) is not None:
            drop(sid, i)
    total = sum(n for files in left.values() for _, n in files)
    while total > total_cap:
        order = sorted(left, key=lambda s: sum(n for _, n in left[s]), reverse=True)
        sid = next((s for s in order if droppable(s) is not None), None)
        if sid is None:
            break  # only the new file is left
        i = droppable(sid)
        total -= left[sid][i][1]
        drop(sid, i)
    return out


class BoundedUploadedFileManager(MemoryUploadedFileManager):
    """Streamlit's in-memory upload manager with the caps above applied after each add.

    Installed by swapping the class of the runtime's own instance: the upload route and
    every session already hold a reference to that object, so it cannot be replaced."""

    def add_file(self, session_id, file) -> None:
        super().add_file(session_id, file)
        session_cap, total_cap = caps()
        with self._lock:
            if self._total_bytes <= min(session_cap, total_cap):
                return  # no session can be over either cap: O(1) for ordinary use (a 5000-file folder)
            holdings = {
                sid: [(fid, len(rec.data)) for fid, rec in files.items()] for sid, files in self.file_storage.items()
            }
        for sid, fid in victims(holdings, (session_id, file.file_id), session_cap, total_cap):
            self.remove_file(sid, fid)


def held_bytes() -> int | None:
    """Bytes of uploaded files the runtime holds now (None outside a running server)."""
    if not Runtime.exists():
        return None
    mgr = Runtime.instance().uploaded_file_mgr
    if not isinstance(mgr, MemoryUploadedFileManager):
        return None
    with mgr._lock:
        return sum(len(rec.data) for files in mgr.file_storage.values() for rec in files.values())


def install() -> bool:
    """Put the caps on the running server's upload manager; True once they are on.

    A no-op under AppTest (no runtime) or with another manager type."""
    if not Runtime.exists():
        return False
    mgr = Runtime.instance().uploaded_file_mgr
    if isinstance(mgr, BoundedUploadedFileManager):
        return True
    if type(mgr) is not MemoryUploadedFileManager or not all(hasattr(mgr, a) for a in _INTERNALS):
        return False  # another manager, or a Streamlit whose internals moved: leave it alone
    mgr.__class__ = BoundedUploadedFileManager
    return True
