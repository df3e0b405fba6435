"""What a file uploader offers in the browser's file picker.

Streamlit checks an upload's *extension* on the server when ``type`` holds only extensions,
and a file sent past the picker with another extension then raises inside the widget on every
run of that session (measured: the generic error box until the tab is closed). A MIME type in
the list turns that server check off; the picker still offers the same files, and what a file
*is* is decided by our own readers (images by content, checkpoints as data, zips entry by entry),
each with its own clear message.
"""

from __future__ import annotations

from cnnviz.ui import compat

IMAGES = ["jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "image/*"]
CHECKPOINTS = ["safetensors", "pt", "pth", "bin", "onnx", "application/octet-stream"]
ZIPS = ["zip", "application/zip"]


def gone(value) -> bool:
    """True when an uploader's session-state value names a file the server no longer holds.

    Streamlit then puts a ``DeletedFile`` placeholder (alone, or in a folder's list) where
    the file was: cnnviz/ui/upload_limits.py dropped it, or a client deleted it over the
    protocol. The widget's own return value leaves placeholders out, but on_change
    callbacks read session state and get them. Callbacks then keep what they read when the
    file arrived (measured: ``DeletedFile.getvalue`` broke that session's run).
    """
    items = value if isinstance(value, list) else [value]
    return any(compat.is_dropped_file(v) for v in items)
