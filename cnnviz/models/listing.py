"""The saved models in a folder (:func:`scan`), listed once while the folder is unchanged.

Every page run lists the models several times (the picker, each check of who may open
which). Listing reads the folder and stats each sidecar and its weights, and checking a
sidecar builds its network on the meta device: so each version of a sidecar is read once, and
a folder's listing is kept while its mtime holds. No streamlit here.
"""

from __future__ import annotations

import functools
import os
import stat
import time
from pathlib import Path

from cnnviz.errors import CheckpointError
from cnnviz.models.usermodels import UserModel, paths, read

__all__ = ["LISTED_FOR_S", "scan"]


@functools.lru_cache(maxsize=4096)
def _read_version(sidecar: str, size: int, mtime_ns: int, inode: int) -> UserModel | CheckpointError:
    """:func:`read` once per version of a sidecar: (size, mtime, inode) make a rewritten or
    renamed-into-place file a new entry. Checking a sidecar builds its network on the meta
    device, and every script run lists the models (the picker, the check of who may open
    which): without the cache each run would check every sidecar again."""
    try:
        return read(sidecar)
    except CheckpointError as e:
        return e


# folder -> ((device, inode, mtime), when listed (monotonic), trusted, the models listed)
_LISTED: dict[str, tuple[tuple[int, int, int], float, bool, tuple[UserModel, ...]]] = {}
LISTED_FOR_S = 2.0  # a sidecar rewritten in place (not by a rename) shows within this
_RECENT_NS = 100_000_000  # a folder changed this recently may change again within its mtime's tick


def scan(directory: Path) -> list[UserModel]:
    """Every readable model in a directory; files that are not ours are skipped.

    Every page run lists the models several times (the picker, each check of who may open
    which), and listing reads the folder and stats each sidecar and its weights: about a
    hundred file-system calls per run, each one a turn given up on the interpreter's lock
    while the class's other runs wait for it. So a listing is kept while the folder's mtime
    stays the same (a save, a delete or a copy into the folder renames or creates a file, and
    changes it), for at most :data:`LISTED_FOR_S`. A folder whose mtime was under 0.1 s old
    when listed is listed again: a second change within the same clock tick would keep its
    mtime.

    Args:
        directory: the folder to list.

    Returns:
        The UserModels, by name; [] for a missing folder.
    """
    try:
        st = os.stat(directory)
    except OSError:
        return []
    if not stat.S_ISDIR(st.st_mode):
        return []
    key, now = (st.st_dev, st.st_ino, st.st_mtime_ns), time.monotonic()
    kept = _LISTED.get(str(directory))
    if kept is not None and kept[0] == key and kept[2] and now - kept[1] < LISTED_FOR_S:
        return list(kept[3])
    trusted = time.time_ns() - st.st_mtime_ns > _RECENT_NS
    found = []
    for meta_path in sorted(directory.glob("*.json")):
        try:
            # Weights first: they are not part of the version, and a sidecar copied in before
            # its weights must not be remembered as broken.
            if not paths(meta_path)[0].is_file():
                continue
            mst = meta_path.stat()
        except OSError:  # removed meanwhile
            continue
        got = _read_version(str(meta_path), mst.st_size, mst.st_mtime_ns, mst.st_ino)
        if isinstance(got, UserModel):
            found.append(got)
    _LISTED[str(directory)] = (key, now, trusted, tuple(found))
    return found
