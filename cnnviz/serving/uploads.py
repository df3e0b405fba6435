"""Uploaded checkpoints on disk: kept once per content under the student's file name, held by
one reference per student (:mod:`cnnviz.serving.shares`), expired after a while, bounded per student
and in total.

Layout: ``<uploads dir>/<sha256>/<file name>`` (the same bytes under another name: a hard link
to the one copy), so that messages name the student's file while the path stays unique per
content and name; the references
are ``<uploads dir>/<sha256>/.refs/<owner key>``. Storing or opening a checkpoint (a link
names it by digest) holds a reference for that student; the app refusing it for the chosen
model drops only that student's reference (:func:`discard`), and the content goes when the
last reference does. ``owner`` is the browser's owner token (None: the command line).
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
from cnnviz.i18n import _
from cnnviz.serving import shares
from cnnviz.serving.shared_dir import store_path
from cnnviz.serving.shares import DIGEST_RE

__all__ = [
    "UPLOAD_DISK_BYTES",
    "UPLOAD_STUDENT_BYTES",
    "UPLOAD_TTL_S",
    "discard",
    "disk_usage",
    "find",
    "held_by",
    "store",
    "sweep",
    "uploads_dir",
]

# Teacher's knobs (environment): how long an uploaded checkpoint is kept after its last use,
# how much disk all uploads may use, and how much of it one student's uploads may hold.
UPLOAD_TTL_S = float(os.environ.get("CNNVIZ_UPLOAD_TTL_H", 6)) * 3600
UPLOAD_DISK_BYTES = int(os.environ.get("CNNVIZ_UPLOAD_DISK_MB", 2048)) << 20
UPLOAD_STUDENT_BYTES = int(os.environ.get("CNNVIZ_UPLOAD_STUDENT_MB", UPLOAD_DISK_BYTES >> 22)) << 20
REFS = ".refs"

_SAFE = re.compile(r"[^\w.,'()+ -]+")


def uploads_dir() -> Path:
    """The private folder of uploads (``$CNNVIZ_UPLOADS``, else ``uploads`` in
    ``$CNNVIZ_SHARED_DIR``, else in the temp folder)."""
    folder = store_path("CNNVIZ_UPLOADS") or Path(tempfile.gettempdir()) / "cnnviz_uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _safe_name(name: str) -> str:
    """A base name without path parts or odd characters, keeping the suffix the loader needs."""
    base = _SAFE.sub("_", Path(str(name).replace("\\", "/")).name).strip(" .")[:80] or "checkpoint"
    if not base.lower().endswith((".safetensors", ".pt", ".pth", ".bin", ".onnx")):
        base += ".pt"
    return base


def _files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))


def store(data: bytes, name: str, owner: str | None = None) -> Path:
    """Write ``data`` as ``<digest>/<name>`` (once per content), hold ``owner``'s reference to
    it, then make the student's share and the disk budget hold (their own oldest go first).

    Returns:
        The stored file's path. Raises CheckpointError for a file larger than a student's share.
    """
    limit = min(UPLOAD_DISK_BYTES, UPLOAD_STUDENT_BYTES)
    if len(data) > limit:
        raise CheckpointError(
            _("This file is larger than the {limit} MB this server keeps for one student.").format(limit=limit >> 20)
        )
    root = uploads_dir()
    digest = hashlib.sha256(data).hexdigest()
    folder = root / digest
    path = folder / _safe_name(name)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".", suffix=".tmp")  # written outside the lock
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        with shares.locked(root):
            folder.mkdir(mode=0o700, exist_ok=True)
            if not path.exists():
                same = _files(folder)  # these bytes under another student's name: one copy on disk
                os.link(same[0], path) if same else os.replace(tmp, path)  # never half a file
            shares.add_ref(folder / REFS, shares.owner_key(owner))
            _sweep(owner, digest, time.time())
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def find(digest: str, *, owner: str | None = None, now: float | None = None) -> Path | None:
    """The stored checkpoint whose content has SHA-256 ``digest`` (lower-case hex), or None when
    it is not here or has expired (then it is removed). Opening it holds (or refreshes)
    ``owner``'s reference, so it stays while they use it.

    A link names an upload this way (``weights=upload:<digest>``): the digest is checked before
    it becomes part of a path.
    """
    if not DIGEST_RE.fullmatch(str(digest)):
        return None
    root = uploads_dir()
    folder = root / digest
    now = time.time() if now is None else now
    with shares.locked(root):
        item = _item(folder)
        if item is None:
            return None
        if all(now - t > UPLOAD_TTL_S for t in item.refs.values()):
            _apply([(digest, k) for k in item.refs] or [(digest, shares.ANYONE)])
            return None
        files = _files(folder)
        if not files:
            return None
        if owner is not None:
            shares.add_ref(folder / REFS, shares.owner_key(owner))
    return files[0]


def discard(path: str | Path, owner: str | None = None) -> None:
    """Drop ``owner``'s reference to a refused upload; the content goes once nobody refers to
    it (a classmate's copy, or one a link opened, stays). Paths elsewhere are left alone."""
    path = Path(path)
    root = uploads_dir()
    folder = path.parent.resolve()
    if folder.parent == root.resolve():
        with shares.locked(root):
            _apply([(folder.name, shares.owner_key(owner))])


def _item(folder: Path) -> shares.Item | None:
    """The stored content in ``folder`` (size, references), or None when there is none."""
    try:
        size = sum({(st := f.stat()).st_ino: st.st_size for f in _files(folder)}.values())  # names of one copy
        refs = shares.read_refs(folder / REFS)
        if refs is None:  # stored before references existed: held by nobody in particular
            refs = {shares.ANYONE: folder.stat().st_mtime}
    except OSError:  # not here, or removed by another process meanwhile
        return None
    return shares.Item(folder.name, size, refs)


def _items() -> list[shares.Item]:
    """Every stored content; under the lock (it deletes content left without references)."""
    out = []
    for folder in uploads_dir().iterdir():
        item = _item(folder) if folder.is_dir() else None
        if item is None:
            continue
        if not item.refs:  # its last holder went, the process stopped before deleting it
            shutil.rmtree(folder, ignore_errors=True)
            continue
        out.append(item)
    return out


def _apply(drops: list[tuple[str, str]]) -> int:
    """Drop these references; delete content nobody refers to any more. Bytes freed."""
    freed = 0
    for name, key in drops:
        folder = uploads_dir() / name
        if shares.drop_ref(folder / REFS, key):
            item = _item(folder)
            freed += item.size if item else 0
            shutil.rmtree(folder, ignore_errors=True)
    return freed


def _sweep(owner: str | None, keep: str | None, now: float) -> int:
    drops = shares.plan(
        _items(),
        now=now,
        ttl=UPLOAD_TTL_S,
        cap=UPLOAD_DISK_BYTES,
        owner=None if owner is None else shares.owner_key(owner),
        share=UPLOAD_STUDENT_BYTES,
        keep=keep,
    )
    return _apply(drops)


def sweep(*, now: float | None = None) -> int:
    """Drop expired references, then the oldest of whoever holds most until the disk budget
    holds (:func:`cnnviz.serving.shares.plan`); a store does this for its student's share too.

    Returns the number of bytes freed.
    """
    with shares.locked(uploads_dir()):
        return _sweep(None, None, time.time() if now is None else now)


def disk_usage() -> tuple[int, int]:
    """(bytes used by uploads now, the budget)."""
    with shares.locked(uploads_dir()):
        return sum(it.size for it in _items()), UPLOAD_DISK_BYTES


def held_by(owner: str | None) -> tuple[int, int]:
    """(bytes of the uploads ``owner`` holds a reference to, their share)."""
    key = shares.owner_key(owner)
    with shares.locked(uploads_dir()):
        return sum(it.size for it in _items() if key in it.refs), UPLOAD_STUDENT_BYTES
