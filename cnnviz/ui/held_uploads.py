"""The Train page's uploaded folder or zip, kept between runs in one process-wide store that
is bounded like Streamlit's upload manager, instead of a copy in each session's state.

The Train page reads its dataset again when the student changes the image size, so an
upload's bytes must outlive the uploader (Streamlit drops its files when the page changes).
Copied into session state, they escaped the upload caps of :mod:`cnnviz.ui.upload_limits`:
ten sessions each sending 4 × 48 MB folders added 1.3 GB (issue 23). Here

- a session holds one upload (its latest), and session state holds only a :class:`Held`
  ticket naming it;
- once taken, the upload is let go by the uploader's widget value and by Streamlit's
  manager, which each held every file (an upload cut by the caps is let go whole): one
  holder;
- the caps of ``upload_limits.caps()`` apply: per session, and for the process, where the
  session holding most loses its upload first (never the one just added);
- a session that ends gives its upload back (:mod:`cnnviz.ui.session_end`).

A dropped upload reads as None: the page asks for it again.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import streamlit as st

from cnnviz.i18n import N_, _
from cnnviz.training import class_folders
from cnnviz.ui import compat
from cnnviz.ui.upload_limits import caps, victims

__all__ = ["CUT", "STORE", "Held", "HeldUploads", "let_go", "take"]

CUT = N_(
    "Part of your upload was let go as it arrived, because the server's memory for uploads was full; "
    "please upload it again."
)

Payload = bytes | list[tuple[str, bytes]]  # a zip's bytes, or a folder's (relative name, bytes)


@dataclass(frozen=True)
class Held:
    """A session's ticket for its upload: ``holder`` (the session id), ``digest`` (SHA-1 of the
    names and bytes: the dataset's cache key), ``kind`` ("folder" or "zip"), ``nbytes``."""

    holder: str
    digest: str
    kind: str
    nbytes: int


def _measure(payload: Payload) -> tuple[str, int]:
    """(SHA-1 hex digest, bytes) of a zip's bytes or of a folder's names and bytes, in one pass
    with no joined copy (a 200 MB folder was joined into one more 200 MB on every run)."""
    h = hashlib.sha1(usedforsecurity=False)
    if isinstance(payload, bytes):
        h.update(payload)
        return h.hexdigest(), len(payload)
    n = 0
    for name, data in payload:
        h.update(name.encode())
        h.update(data)
        n += len(data)
    return h.hexdigest(), n


class HeldUploads:
    """Uploads by holder, at most one each, bounded by :func:`upload_limits.caps`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[Held, Payload]] = {}  # holder -> its upload

    def put(self, holder: str, kind: str, payload: Payload) -> Held:
        """Keep ``payload`` as ``holder``'s upload (replacing its previous one); returns its
        ticket. Other holders' uploads may be dropped to stay within the process cap."""
        digest, nbytes = _measure(payload)
        held = Held(holder, digest, kind, nbytes)
        session_cap, total_cap = caps()
        with self._lock:
            self._items[holder] = (held, payload)
            holdings = {h: [(t.digest, t.nbytes)] for h, (t, _) in self._items.items()}
            for h, _ in victims(holdings, (holder, digest), session_cap, total_cap):
                del self._items[h]
        return held

    def get(self, held: Held | None) -> Payload | None:
        """The upload ``held`` names, or None when it was dropped or replaced."""
        if held is None:
            return None
        with self._lock:
            got = self._items.get(held.holder)
        return got[1] if got is not None and got[0] == held else None

    def release(self, holder: str) -> None:
        """Forget ``holder``'s upload (its session ended)."""
        with self._lock:
            self._items.pop(holder, None)

    @property
    def bytes(self) -> int:
        """Bytes of every upload held now."""
        with self._lock:
            return sum(t.nbytes for t, _ in self._items.values())


STORE = HeldUploads()


def take(widget_key: str, kind: str) -> tuple[Held | None, str | None] | None:
    """The upload now in the uploader ``widget_key`` (a folder's list, or one zip), from its
    on_change callback: kept in :data:`STORE` as this session's, and let go everywhere else
    (the widget's value and Streamlit's manager each held every file). Returns (its ticket,
    None), (None, why it was not kept), (None, None) when the uploader was emptied, or None
    when nothing is new (the files were taken, or dropped by the caps, before this run)."""
    value = st.session_state.get(widget_key)
    files = [f for f in (value if isinstance(value, list) else [value]) if f is not None]
    real = [f for f in files if not compat.is_dropped_file(f)]
    if files and not real:
        return None  # no del: the widget's value is placeholders now, and stays equal (no callback)
    holder = compat.session_id() or ""
    held, why = None, None
    if len(real) < len(files):
        why = _(CUT)  # translated here, in the script thread: the page shows it as it is
    elif kind == "folder" and sum(f.size for f in files) > class_folders.MAX_TOTAL_BYTES:
        why = _(class_folders.TOO_MUCH)  # the reader refuses it: not kept
    elif files:
        payload = [(f.name, f.getvalue()) for f in files] if kind == "folder" else files[0].getvalue()
        held = STORE.put(holder, kind, payload)
    let_go(widget_key, real)
    return held, why


def let_go(widget_key: str, files: list) -> None:
    """Drop the uploader ``widget_key``'s value and Streamlit's copies of ``files`` (its
    UploadedFile objects, not placeholders), once their bytes were taken: each held every byte."""
    del st.session_state[widget_key]
    sid = compat.session_id()
    if sid is not None:
        compat.drop_uploads(sid, [f.file_id for f in files])
