"""Trainings in flight, marked on the shared folder, so that one a dead replica was running is
reported to its owner as interrupted, never silently lost.

A training writes a marker ``<trainings>/<owner key>/<id>.json`` when it starts to run: what
it trains, when, and where (this process's random instance id, its host and pid). A thread
renews the markers of this process (their modification time, the heartbeat) every
``HEARTBEAT_S``; a training's marker goes when it ends, however it ends. A marker of another
instance is left behind by a process that is gone when, on this host, its pid runs no more,
or, from any host (another pod), its heartbeat is older than ``STALE_S``: that training was
interrupted when its server stopped. :func:`interrupted` lists them for their owner (who
reconnected to another replica, or to the restarted one); :func:`dismiss` removes one once
shown. A marker of a live process elsewhere (its heartbeat fresh) is not listed.

The folder is ``$CNNVIZ_TRAININGS``, else ``trainings`` in ``$CNNVIZ_SHARED_DIR``, else in
the temp folder. The owner key is a digest of the student's token (:func:`shares.owner_key`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cnnviz.serving import shares
from cnnviz.serving.diskcache import write_atomic
from cnnviz.serving.shared_dir import store_path

__all__ = ["HEARTBEAT_S", "INSTANCE", "STALE_S", "Marker", "dismiss", "interrupted", "running", "trainings_dir"]

INSTANCE = secrets.token_hex(8)  # this process; a restart (same host, same pid in a container) is a new one
HOST = socket.gethostname()
HEARTBEAT_S = float(os.environ.get("CNNVIZ_REPLICA_HEARTBEAT", 10))
STALE_S = 3 * HEARTBEAT_S  # three missed beats: the process is gone (or frozen, which a class cannot tell apart)

_LIVE: set[Path] = set()  # this process's markers, renewed by the heartbeat
_LOCK = threading.Lock()
_BEAT: threading.Thread | None = None


@dataclass(frozen=True)
class Marker:
    """A training left behind: its file, ``what`` it trained (plain text), when it ``started``
    and when it was last known alive (``beat``), in seconds since the epoch."""

    path: Path
    what: str
    started: float
    beat: float


def trainings_dir() -> Path:
    """The folder of the markers (see the module docstring)."""
    return store_path("CNNVIZ_TRAININGS") or Path(tempfile.gettempdir()) / "cnnviz_trainings"


@contextlib.contextmanager
def running(owner: str | None, what: str) -> Iterator[Path]:
    """Mark a training of ``owner`` (their student key) while the block runs; yields the marker."""
    path = trainings_dir() / shares.owner_key(owner) / f"{INSTANCE}-{secrets.token_hex(6)}.json"
    meta = {"what": what, "started": time.time(), "instance": INSTANCE, "host": HOST, "pid": os.getpid()}
    write_atomic(path, json.dumps(meta).encode())
    with _LOCK:
        _LIVE.add(path)
        _start_heartbeat()
    try:
        yield path
    finally:
        with _LOCK:
            _LIVE.discard(path)
        path.unlink(missing_ok=True)


def interrupted(owner: str | None, *, now: float | None = None) -> list[Marker]:
    """``owner``'s trainings whose process is gone, oldest first (see the module docstring)."""
    now = time.time() if now is None else now
    folder = trainings_dir() / shares.owner_key(owner)
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            beat = path.stat().st_mtime
            meta = json.loads(path.read_bytes())
        except (OSError, ValueError):  # ended meanwhile; a marker is never half-written
            continue
        if meta.get("instance") != INSTANCE and _gone(meta, now - beat):
            out.append(Marker(path, str(meta.get("what", "a training")), float(meta.get("started", beat)), beat))
    return sorted(out, key=lambda m: m.started)


def dismiss(marker: Marker) -> None:
    """Remove a reported marker (its owner has been told)."""
    marker.path.unlink(missing_ok=True)


def _gone(meta: dict, silent_s: float) -> bool:
    if silent_s > STALE_S:
        return True
    if meta.get("host") != HOST:
        return False
    pid = meta.get("pid")
    if not isinstance(pid, int) or pid <= 0:  # nonsense: trust the beat
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the pid runs
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: trust the beat
        return False
    return False


def _start_heartbeat() -> None:
    global _BEAT
    if _BEAT is None:
        _BEAT = threading.Thread(target=_heartbeat, name="cnnviz-inflight-heartbeat", daemon=True)
        _BEAT.start()


def _heartbeat() -> None:
    while True:
        time.sleep(HEARTBEAT_S)
        with _LOCK:
            live = list(_LIVE)
        for path in live:
            with contextlib.suppress(OSError):  # ended between the copy and now
                os.utime(path)
