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
from collections.abc import Callable

from streamlit import config

from cnnviz.ui import compat

__all__ = ["caps", "held_bytes", "install", "policy", "victims"]

Holdings = compat.Holdings


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


def policy(total: int, holdings: Callable[[], Holdings], new: tuple[str, str]) -> list[tuple[str, str]]:
    """What the upload manager drops after each file it receives (``compat.UploadPolicy``):
    nothing while no session can be over either cap (O(1) for ordinary use, a 5000-file
    folder), else :func:`victims` of the caps."""
    session_cap, total_cap = caps()
    if total <= min(session_cap, total_cap):
        return []
    return victims(holdings(), new, session_cap, total_cap)


def held_bytes() -> int | None:
    """Bytes of uploaded files the runtime holds now (None outside a running server)."""
    return compat.uploads_held_bytes()


def install() -> bool:
    """Put the caps on the running server's upload manager; True once they are on.

    A no-op under AppTest (no runtime) or with another manager type."""
    return compat.police_uploads(policy=policy)
