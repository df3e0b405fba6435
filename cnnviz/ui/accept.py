"""What a file uploader offers in the browser's file picker.

Streamlit checks an upload's *extension* on the server when ``type`` holds only extensions,
and a file sent past the picker with another extension then raises inside the widget on every
run of that session (measured: the generic error box until the tab is closed). A MIME type in
the list turns that server check off; the picker still offers the same files, and what a file
*is* is decided by our own readers (images by content, checkpoints as data, zips entry by entry),
each with its own clear message.
"""

from __future__ import annotations

IMAGES = ["jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "image/*"]
CHECKPOINTS = ["safetensors", "pt", "pth", "bin", "application/octet-stream"]
ZIPS = ["zip", "application/zip"]
