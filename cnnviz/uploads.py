"""Uploaded checkpoints on disk: kept by content digest, under the student's file name,
deleted at once when refused, expired after a while, and bounded in total size.

Layout: ``<uploads dir>/<sha256>/<file name>``, so that messages name the student's file
while the path (the cache key of the loaded model) stays unique per content.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from cnnviz.errors import CheckpointError
from cnnviz.links import DIGEST_RE

__all__ = ["UPLOAD_DISK_BYTES", "UPLOAD_TTL_S", "discard", "disk_usage", "find", "store", "sweep", "uploads_dir"]

# Teacher's knobs (environment): how long an uploaded checkpoint is kept, and how much
# disk all uploads together may use before the oldest go.
UPLOAD_TTL_S = float(os.environ.get("CNNVIZ_UPLOAD_TTL_H", 6)) * 3600
UPLOAD_DISK_BYTES = int(os.environ.get("CNNVIZ_UPLOAD_DISK_MB", 2048)) << 20

_SAFE = re.compile(r"[^\w.,'()+ -]+")


def uploads_dir() -> Path:
    """The private folder of uploads (``$CNNVIZ_UPLOADS``, default in the temp folder)."""
    folder = Path(os.environ.get("CNNVIZ_UPLOADS") or Path(tempfile.gettempdir()) / "cnnviz_uploads")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _safe_name(name: str) -> str:
    """A base name without path parts or odd characters, keeping the suffix the loader needs."""
    base = _SAFE.sub("_", Path(str(name).replace("\\", "/")).name).strip(" .")[:80] or "checkpoint"
    if not base.lower().endswith((".safetensors", ".pt", ".pth", ".bin")):
        base += ".pt"
    return base


def store(data: bytes, name: str) -> Path:
    """Write ``data`` as ``<digest>/<name>`` (once per content) and return its path."""
    if len(data) > UPLOAD_DISK_BYTES:
        raise CheckpointError(
            f"This file is larger than the {UPLOAD_DISK_BYTES >> 20} MB this server keeps for uploads."
        )
    sweep(incoming=len(data))
    folder = uploads_dir() / hashlib.sha256(data).hexdigest()
    path = folder / _safe_name(name)
    if not path.exists():
        folder.mkdir(mode=0o700, exist_ok=True)
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        tmp.replace(path)  # a concurrent reader never sees half a file
    os.utime(folder)  # last use: expiry counts from here
    return path


def find(digest: str, *, now: float | None = None) -> Path | None:
    """The stored checkpoint whose content has SHA-256 ``digest`` (lower-case hex), or None when
    it is not here or has expired (then it is removed). Opening it counts as a use for expiry.

    A link names an upload this way (``weights=upload:<digest>``): the digest is checked before
    it becomes part of a path.
    """
    if not DIGEST_RE.fullmatch(str(digest)):
        return None
    folder = uploads_dir() / digest
    now = time.time() if now is None else now
    try:
        if now - folder.stat().st_mtime > UPLOAD_TTL_S:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        files = sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))
    except OSError:  # not here (never, expired, evicted or removed meanwhile)
        return None
    if not files:
        return None
    os.utime(folder)
    return files[0]


def discard(path: str | Path) -> None:
    """Delete a refused upload (its digest folder) at once; paths elsewhere are left alone."""
    path = Path(path)
    root = uploads_dir().resolve()
    folder = path.parent.resolve()
    if folder.parent == root:
        shutil.rmtree(folder, ignore_errors=True)


def _entries() -> list[tuple[float, int, Path]]:
    """(last use, bytes, folder) of every stored upload."""
    out = []
    for folder in uploads_dir().iterdir():
        try:
            size = sum(f.stat().st_size for f in folder.iterdir()) if folder.is_dir() else folder.stat().st_size
            out.append((folder.stat().st_mtime, size, folder))
        except OSError:  # removed by another process meanwhile
            continue
    return out


def sweep(*, incoming: int = 0, now: float | None = None) -> int:
    """Remove expired uploads, then the oldest until ``incoming`` more bytes fit the budget.

    Returns the number of bytes freed.
    """
    now = time.time() if now is None else now
    freed = 0
    entries = sorted(_entries())
    total = sum(size for _, size, _ in entries)
    for mtime, size, folder in entries:
        if now - mtime > UPLOAD_TTL_S or total + incoming > UPLOAD_DISK_BYTES:
            shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink(missing_ok=True)
            total -= size
            freed += size
    return freed


def disk_usage() -> tuple[int, int]:
    """(bytes used by uploads now, the budget)."""
    return sum(size for _, size, _ in _entries()), UPLOAD_DISK_BYTES
