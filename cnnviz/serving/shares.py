"""Who holds what in a shared store on disk: one reference per student beside the content,
a share per student, and a cap for the store.

The two stores a class shares, uploaded checkpoints (:mod:`cnnviz.serving.uploads`) and photos kept
for links (:mod:`cnnviz.serving.sharing`), keep each content once, named by its digest. Each student
who stored (or, for checkpoints, opened) a content holds a **reference** to it: an empty file
``<refs folder>/<owner key>`` whose modification time is that student's last use. The owner
key is a digest of the browser's owner token, never the token. Content goes only when its
last reference goes, so deleting "my" upload, or the app refusing it for my model, never
takes a classmate's copy.

What goes, in order (:func:`plan`):

1. references older than the store's expiry;
2. the student who just stored something, while their references hold more than their
   share: their own oldest references (never the one just made);
3. while the store holds more than its cap: the oldest reference of the student who holds
   the most bytes.

Content several students refer to counts in full for each of them: a classmate's copy of
your file never lowers your share, and nobody can push a file onto a classmate's share by
also uploading it. A flood of uploads therefore evicts only the flooder's own files.

Several app processes (and their threads) share a store's folder: every change to it —
adding or dropping a reference, deleting content, renaming a finished write into place —
happens under :func:`locked`, an exclusive ``flock`` on the store's lock file, so a reference
added at the same moment as a classmate's last one is dropped never finds its content gone.
The slow part of a store, writing the bytes, happens before, into a temporary file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ANYONE", "DIGEST_RE", "Item", "add_ref", "drop_ref", "locked", "owner_key", "plan", "read_refs"]

ANYONE = "anyone"  # the holder of content stored without an owner (the command line, old stores)

DIGEST_RE = re.compile(r"[0-9a-f]{64}")  # SHA-256, lower-case hex: the name of shared content


def owner_key(owner: str | None) -> str:
    """The file name of ``owner``'s references: a digest of the token, or :data:`ANYONE`."""
    if not owner:
        return ANYONE
    return hashlib.sha256(f"cnnviz-store:{owner}".encode()).hexdigest()[:32]


@dataclass
class Item:
    """One stored content: its ``name`` (digest), ``size`` in bytes, and ``refs``: owner key →
    that owner's last use (seconds since the epoch)."""

    name: str
    size: int
    refs: dict[str, float] = field(default_factory=dict)


def plan(
    items: list[Item],
    *,
    now: float,
    ttl: float,
    cap: int,
    owner: str | None = None,
    share: int | None = None,
    keep: str | None = None,
) -> list[tuple[str, str]]:
    """The references to drop, in order, as (item name, owner key); see the module docstring.

    Args:
        items: everything in the store.
        now, ttl: the time and the expiry (seconds after a reference's last use).
        cap: bytes the store may hold (each content counted once).
        owner, share: the owner key that just stored ``keep`` and their share in bytes.
        keep: the item just stored; its reference by ``owner`` is never dropped.

    Returns:
        (item name, owner key) pairs. An item whose references all go is to be deleted.
    """
    size = {it.name: it.size for it in items}
    refs = {(it.name, o): t for it in items for o, t in it.refs.items()}
    drop: list[tuple[str, str]] = []

    def remove(ref: tuple[str, str]) -> None:
        drop.append(ref)
        del refs[ref]

    def held(o: str) -> int:
        return sum(size[n] for n, oo in refs if oo == o)

    for ref, t in list(refs.items()):
        if now - t > ttl:
            remove(ref)
    if owner is not None and share is not None:
        for _, n in sorted((t, n) for (n, o), t in refs.items() if o == owner and n != keep):
            if held(owner) <= share:
                break
            remove((n, owner))
    while sum(size[n] for n in {n for n, _ in refs}) > cap:
        movable = [(t, n, o) for (n, o), t in refs.items() if (n, o) != (keep, owner)]
        if not movable:
            break
        biggest = max({o for _, _, o in movable}, key=lambda o: (held(o), o))
        _, n, o = min(m for m in movable if m[2] == biggest)
        remove((n, o))
    return drop


# ---------------------------------------------------------------- references on disk
@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the store in ``folder`` alone (every process and thread) while the block runs."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as f:  # a new open file description: flock excludes threads too
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def add_ref(refs_dir: Path, key: str) -> None:
    """Hold (or refresh: last use is now) ``key``'s reference in ``refs_dir``."""
    refs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (refs_dir / key).touch(mode=0o600)


def read_refs(refs_dir: Path) -> dict[str, float] | None:
    """Owner key → last use of each reference in ``refs_dir``; None when the folder is missing."""
    try:
        entries = list(os.scandir(refs_dir))
    except (FileNotFoundError, NotADirectoryError):
        return None
    out = {}
    for e in entries:
        try:
            out[e.name] = e.stat().st_mtime
        except OSError:  # dropped by another process meanwhile
            continue
    return out


def drop_ref(refs_dir: Path, key: str) -> bool:
    """Drop ``key``'s reference; True when no reference is left (the folder is then removed
    and the caller deletes the content), False while others hold one. Call it under
    :func:`locked`."""
    (refs_dir / key).unlink(missing_ok=True)
    try:
        refs_dir.rmdir()
    except FileNotFoundError:
        return True
    except OSError:  # not empty: someone else still refers to it
        return False
    return True
