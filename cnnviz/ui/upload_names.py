"""Uploaded file names Streamlit's widgets cannot read: a NUL byte, cleaned on arrival.

Streamlit's file_uploader refuses a file whose name holds ``"\\0"`` each time it reads the
widget's value (``StreamlitAPIException: Filename cannot contain null bytes``), in its own
code before the app's: the session that sent such a file got the generic error box on
every run until the file was removed, whichever uploader it went to (photo, checkpoint,
a folder on Train). A browser's file picker never sends one; a client speaking Streamlit's
protocol can. Each file's name is cleaned as the server stores it (every NUL becomes
``_``), so the file is read and refused or accepted like any other, and its name is shown
as text.
"""

from __future__ import annotations

from streamlit.runtime import Runtime
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

__all__ = ["clean", "install"]

_MARK = "_cnnviz_clean_names"


def clean(name: str) -> str:
    """``name`` with every NUL character replaced by ``_``."""
    return name.replace("\0", "_")


def install() -> bool:
    """Clean the names of files the running server's upload manager receives; True once on.

    Wraps the manager's ``add_file`` on the instance (the upload route and every session hold
    that object) and dispatches to its class's own at each call, so the caps of
    ``cnnviz/ui/upload_limits.py``, whose class it may take later, still apply. A no-op
    under AppTest (no runtime)."""
    if not Runtime.exists():
        return False
    mgr = Runtime.instance().uploaded_file_mgr
    if getattr(mgr, _MARK, False):
        return True
    if not callable(getattr(type(mgr), "add_file", None)):
        return False

    def add_file(session_id: str, file: UploadedFileRec) -> None:
        if "\0" in file.name:
            file = file._replace(name=clean(file.name))
        type(mgr).add_file(mgr, session_id, file)

    mgr.add_file = add_file
    setattr(mgr, _MARK, True)
    return True
