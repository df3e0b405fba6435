"""The sidebar's photo (an upload, a camera shot, a photo opened by link), kept once per
content in one process-wide store bounded like Streamlit's upload manager, instead of a copy
in each session's state.

Before, each session kept its photo's bytes in session state and the uploader's widget value
kept them again, up to ``server.maxUploadSize`` (50 MB) each: a hundred idle sessions each
holding a big photo could fill the server's memory (issue 23). Here

- session state holds only a :class:`Photo` ticket (the content's digest); two sessions with
  the same photo share one copy;
- once taken, the uploader's widget value and Streamlit's upload manager let the bytes go
  (:func:`cnnviz.ui.held_uploads.let_go`);
- a session holds one photo (its latest), and the process cap of ``upload_limits.caps()``
  applies: past it, the largest photo goes first (its holders hold most), never the one just
  added, so one photo within ``server.maxUploadSize`` always lands, as in the upload manager;
- a session that ends gives its photo back (:mod:`cnnviz.ui.session_end`).

A dropped photo reads as None: the page asks for it again, unless it is also in the shared
store on disk (opened by link, or shared since: ``image=upload:<sha256>``), which then gives
it back (:func:`cnnviz.ui.loaders.current_image_bytes`). Gallery samples and drawings stay
plain bytes in session state: the gallery's are one cached copy per process, a drawing is at
most a 224×224 PNG.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import streamlit as st

from cnnviz.i18n import N_, Message
from cnnviz.inputs.images import image_digest
from cnnviz.lessons.links import UPLOAD_PREFIX
from cnnviz.serving.sharing import default_store
from cnnviz.ui import compat, state
from cnnviz.ui.held_uploads import let_go
from cnnviz.ui.upload_limits import caps

__all__ = ["DROPPED", "STORE", "HeldPhotos", "Photo", "current", "dropped", "holder", "keep", "take"]

# A Message: the page that shows it (st.warning) gets it in the reader's language.
DROPPED = Message(
    N_(
        "Your photo was let go to make room for your classmates' photos in this server's memory; please upload it "
        "again."
    )
)


@dataclass(frozen=True)
class Photo:
    """A session's ticket for its photo: ``digest`` (SHA-1 of the bytes, as
    :func:`cnnviz.inputs.images.image_digest`: the key of every decoded-image cache) and ``nbytes``."""

    digest: str
    nbytes: int


class HeldPhotos:
    """Photos by content digest, each session holding at most one, bounded by
    :func:`upload_limits.caps`: unique bytes count once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[bytes, int]] = {}  # digest -> (bytes, order added)
        self._holders: dict[str, str] = {}  # session id -> digest
        self._order = itertools.count()

    def put(self, holder: str, data: bytes) -> Photo:
        """Keep ``data`` as ``holder``'s photo (replacing its previous one); returns its ticket.
        Other photos may go to stay within the process cap."""
        photo = Photo(image_digest(data), len(data))
        total_cap = caps()[1]
        with self._lock:
            kept = self._data.get(photo.digest)
            self._data[photo.digest] = (kept[0] if kept else bytes(data), next(self._order))
            old = self._holders.get(holder)
            self._holders[holder] = photo.digest
            if old is not None and old != photo.digest:
                self._forget_unheld(old)
            total = sum(len(b) for b, _ in self._data.values())
            while total > total_cap:
                # the largest first (its holders hold most), the oldest among equals; never the new one
                others = [(len(b), -t, d) for d, (b, t) in self._data.items() if d != photo.digest]
                if not others:
                    break
                size, _, victim = max(others)
                self._drop(victim)
                total -= size
        return photo

    def get(self, photo: Photo | None) -> bytes | None:
        """The bytes ``photo`` names, or None when they were dropped."""
        if photo is None:
            return None
        with self._lock:
            got = self._data.get(photo.digest)
        return got[0] if got is not None else None

    def release(self, holder: str) -> None:
        """Forget ``holder``'s photo (its session ended); the bytes go with their last holder."""
        with self._lock:
            digest = self._holders.pop(holder, None)
            if digest is not None:
                self._forget_unheld(digest)

    @property
    def bytes(self) -> int:
        """Bytes of every photo held now (each content once)."""
        with self._lock:
            return sum(len(b) for b, _ in self._data.values())

    def _forget_unheld(self, digest: str) -> None:
        if digest not in self._holders.values():
            self._data.pop(digest, None)

    def _drop(self, digest: str) -> None:
        self._data.pop(digest, None)
        for h in [h for h, d in self._holders.items() if d == digest]:
            del self._holders[h]


STORE = HeldPhotos()


def holder() -> str:
    """This session's id ("" outside a script run)."""
    return compat.session_id() or ""


def take(widget_key: str) -> Photo | None:
    """The photo now in the uploader or camera ``widget_key``, from its on_change callback:
    kept in :data:`STORE` as this session's and let go by the widget and Streamlit's manager.
    Returns its ticket, or None when there is no new photo (the widget was emptied, or its
    file was dropped by the caps before this run)."""
    f = st.session_state.get(widget_key)
    if f is None or compat.is_dropped_file(f):
        return None
    photo = STORE.put(holder(), f.getvalue())
    let_go(widget_key, [f])
    return photo


def keep(data: bytes) -> Photo:
    """Keep ``data`` (a photo opened by link) as this session's photo; returns its ticket."""
    return STORE.put(holder(), data)


_PLAIN: dict[int, tuple[bytes, str]] = {}  # id -> (the bytes, their digest)
_PLAIN_MAX = 32
_PLAIN_LOCK = threading.Lock()


def _plain_digest(value: bytes) -> str:
    """The digest of plain bytes in session state, hashed once per object: a gallery sample
    is one object that every session holds, and each run of every page asks for its digest.
    The memo keeps the bytes it names alive, so an id is never another object's."""
    with _PLAIN_LOCK:
        hit = _PLAIN.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    digest = image_digest(value)
    with _PLAIN_LOCK:
        if len(_PLAIN) >= _PLAIN_MAX:
            _PLAIN.pop(next(iter(_PLAIN)))
        _PLAIN[id(value)] = (value, digest)
    return digest


def current() -> tuple[bytes, str] | None:
    """(bytes, SHA-1 digest) of the session's image, or None when it has none or its photo
    was dropped. Plain bytes (gallery, drawing) are read as they are; a dropped photo that
    is in the shared store on disk (its link's ``upload:<sha256>``) is kept again from there."""
    value = st.session_state.get(state.IMAGE_BYTES)
    if value is None:  # an empty upload is b"" and gets its own message when decoded
        return None
    if not isinstance(value, Photo):
        return value, _plain_digest(value)
    data = STORE.get(value)
    if data is None:
        ref = st.session_state.get(state.IMAGE_REF) or ""
        data = default_store().get(ref.removeprefix(UPLOAD_PREFIX)) if ref.startswith(UPLOAD_PREFIX) else None
        if data is None:
            return None
        value = st.session_state[state.IMAGE_BYTES] = keep(data)
    return data, value.digest


def dropped() -> bool:
    """True when the session's photo was let go and cannot be had again: the page asks for it."""
    return isinstance(st.session_state.get(state.IMAGE_BYTES), Photo) and current() is None
