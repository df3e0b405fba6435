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

from cnnviz.ui import compat

__all__ = ["clean", "install"]


def clean(name: str) -> str:
    """``name`` with every NUL character replaced by ``_``."""
    return name.replace("\0", "_")


def install() -> bool:
    """Clean the names of files the running server's upload manager receives; True once on
    (a no-op under AppTest: no runtime)."""
    return compat.police_uploads(clean_name=clean)
