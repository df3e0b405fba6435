"""Uploaded photos kept on the server by content, so a link can name them (``upload:<sha256>``).

What is kept: the decoded pixels of the photo as a PNG (no EXIF or other metadata), named by
the SHA-256 of those PNG bytes, in one folder (``$CNNVIZ_SHARED_IMAGES``, default
``<system temp>/cnnviz_shared_images``). Each file is at most ``max_file_bytes``; past
``max_total_bytes`` the oldest files are deleted; a file older than ``ttl_seconds``
(``$CNNVIZ_SHARE_HOURS``, default 24 h) is gone. ``CNNVIZ_SHARE_UPLOADS=0`` turns it off.
Several server processes on one machine share the folder: writes go to a temporary name
and are renamed into place. No streamlit here.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from cnnviz.errors import ImageError
from cnnviz.images import decode_image
from cnnviz.links import DIGEST_RE
from cnnviz.render import to_png

__all__ = ["SharedImages", "default_store", "sha256_hex"]


def sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(bytes(data)).hexdigest()


@dataclass
class SharedImages:
    """A content-addressed folder of PNGs with a size cap, a total cap and an expiry."""

    folder: Path
    ttl_seconds: float = 24 * 3600
    max_file_bytes: int = 16 * 2**20
    max_total_bytes: int = 512 * 2**20
    enabled: bool = True

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self._lock = threading.Lock()

    def _path(self, digest: str) -> Path:
        if not DIGEST_RE.fullmatch(digest):  # never a path built from unchecked text
            raise ValueError("not a SHA-256 hex digest")
        return self.folder / f"{digest}.png"

    def put(self, data: bytes | Image.Image, *, name: str = "") -> str | None:
        """Keep the photo in ``data`` (bytes in any format decode_image reads, or the image
        they decoded to); its digest.

        Returns None when sharing is off or the PNG is larger than ``max_file_bytes``.
        Raises ImageError for bytes that are not a readable image.
        """
        if not self.enabled:
            return None
        img = data if isinstance(data, Image.Image) else decode_image(data, name=name)
        # compress level 1: a fifth of level 6's time (a 600×400 photo: ~15 ms, not ~70),
        # paid on each upload, for a file about a quarter larger
        png = to_png(img, compress_level=1)
        if len(png) > self.max_file_bytes:
            return None
        digest = sha256_hex(png)
        path = self._path(digest)
        with self._lock:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if path.exists():
                os.utime(path)  # shared again: it counts as new for expiry and eviction
            else:
                fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
                with os.fdopen(fd, "wb") as f:
                    f.write(png)
                os.replace(tmp, path)
            self._prune(keep=path)
        return digest

    def get(self, digest: str) -> bytes | None:
        """The PNG bytes of a kept photo, or None (unknown, expired, malformed digest or off).

        The bytes are checked against their name and must decode as an image.
        """
        if not self.enabled or not DIGEST_RE.fullmatch(digest or ""):
            return None
        path = self._path(digest)
        try:
            st = path.stat()
            if time.time() - st.st_mtime > self.ttl_seconds:
                path.unlink(missing_ok=True)
                return None
            if st.st_size > self.max_file_bytes:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        if sha256_hex(data) != digest:  # damaged or replaced on disk
            return None
        try:
            decode_image(data, name="shared photo")
        except ImageError:
            return None
        return data

    def _prune(self, keep: Path) -> None:
        """Delete expired files, then the oldest until the total fits (``keep`` last)."""
        now = time.time()
        files = []
        for p in self.folder.glob("*.png"):
            try:
                st = p.stat()
            except OSError:
                continue
            if now - st.st_mtime > self.ttl_seconds:
                p.unlink(missing_ok=True)
            else:
                files.append((p != keep, st.st_mtime, st.st_size, p))
        total = sum(f[2] for f in files)
        # oldest first; the file just written goes last
        for _, _, size, p in sorted(files, key=lambda f: (not f[0], f[1])):
            if total <= self.max_total_bytes:
                break
            p.unlink(missing_ok=True)
            total -= size


def default_store() -> SharedImages:
    """The store configured by the environment (see the module docstring and README)."""
    folder = os.environ.get("CNNVIZ_SHARED_IMAGES") or str(Path(tempfile.gettempdir()) / "cnnviz_shared_images")
    try:
        hours = float(os.environ.get("CNNVIZ_SHARE_HOURS", "24"))
    except ValueError:
        hours = 24.0
    try:
        total_mb = float(os.environ.get("CNNVIZ_SHARE_MAX_MB", "512"))
    except ValueError:
        total_mb = 512.0
    return SharedImages(
        Path(folder),
        ttl_seconds=max(hours, 0.0) * 3600,
        max_total_bytes=int(max(total_mb, 1.0) * 2**20),
        enabled=os.environ.get("CNNVIZ_SHARE_UPLOADS", "1").strip() != "0",
    )
