"""Reading a file the user named, safely: regular files only, size checked before reading.

A FIFO, a device or a socket would block forever or never end (``zip:/dev/zero``); they
are refused from their ``stat`` before a byte is read.
"""

from __future__ import annotations

import stat
from pathlib import Path

from cnnviz.errors import CnnvizError
from cnnviz.i18n import _


def read_regular_file(path: str | Path, *, limit: int, error: type[CnnvizError] = CnnvizError) -> bytes:
    """The bytes of ``path``, or ``error`` with one sentence if it is not a regular file
    of at most ``limit`` bytes (or cannot be read)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as e:
        raise error(
            _("Cannot read {name}: {why}.").format(name=p.name or path, why=e.strerror or _("no such file"))
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise error(_("{name} is not a regular file, so it was not read.").format(name=p.name or path))
    if st.st_size > limit:
        raise error(
            _("{name} is {mb} MB; at most {limit} MB are allowed.").format(
                name=p.name, mb=st.st_size >> 20, limit=limit >> 20
            )
        )
    try:
        with p.open("rb") as f:
            return f.read(limit + 1)[:limit]  # a file that grew meanwhile is cut, not read on
    except OSError as e:
        raise error(_("Cannot read {name}: {why}.").format(name=p.name, why=e.strerror or _("read error"))) from None
