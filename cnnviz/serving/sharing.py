"""Uploaded photos kept on the server by content, so a link can name them (``upload:<sha256>``).

What is kept: the decoded pixels of the photo as a PNG (no EXIF or other metadata), named by
the SHA-256 of those PNG bytes, in one folder (``$CNNVIZ_SHARED_IMAGES``, default
``<system temp>/cnnviz_shared_images``). Each student who kept a photo holds a reference to
it (``<digest>.refs/<owner key>``, :mod:`cnnviz.serving.shares`) dated by when they last kept it; a
reference older than ``ttl_seconds`` (``$CNNVIZ_SHARE_HOURS``, default 24 h) is dropped, and a
photo goes with its last reference. Each file is at most ``max_file_bytes``; past
``max_student_bytes`` a student's own oldest photos go, past ``max_total_bytes`` the oldest
of whoever holds most, so one student's uploads never push out a classmate's linked photo.
``CNNVIZ_SHARE_UPLOADS=0`` turns it off. Several server processes on one machine share the
folder: writes go to a temporary name and are renamed into place. No streamlit here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from cnnviz.errors import ImageError
from cnnviz.inputs.images import decode_image
from cnnviz.render import to_png
from cnnviz.serving import shares
from cnnviz.serving.shared_dir import store_path
from cnnviz.serving.shares import DIGEST_RE

__all__ = ["SharedImages", "default_store", "sha256_hex"]


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of some bytes.

    Args:
        data: the bytes.

    Returns:
        64 lower-case hex digits.
    """
    return hashlib.sha256(bytes(data)).hexdigest()


@dataclass
class SharedImages:
    """A content-addressed folder of PNGs with a size cap, a share per student, a total cap
    and an expiry."""

    folder: Path
    ttl_seconds: float = 24 * 3600
    max_file_bytes: int = 16 * 2**20
    max_total_bytes: int = 512 * 2**20
    max_student_bytes: int = 64 * 2**20
    enabled: bool = True

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    def _path(self, digest: str) -> Path:
        if not DIGEST_RE.fullmatch(digest):  # never a path built from unchecked text
            raise ValueError("not a SHA-256 hex digest")
        return self.folder / f"{digest}.png"

    def _refs(self, digest: str) -> Path:
        return self.folder / f"{digest}.refs"

    def put(self, data: bytes | Image.Image, *, name: str = "", owner: str | None = None) -> str | None:
        """Keep a photo for a student.

        Args:
            data: bytes in any format decode_image reads, or the image they decoded to.
            name: the file's name, for messages.
            owner: the browser's owner token, or None.

        Returns:
            The kept PNG's digest; None when sharing is off or the PNG is larger than
            ``max_file_bytes``.

        Raises:
            ImageError: bytes that are not a readable image.
        """
        if not self.enabled:
            return None
        img = data if isinstance(data, Image.Image) else decode_image(data, name=name)
        # compress level 1: a fraction of level 6's time, paid on each upload, for a file
        # about a quarter larger
        png = to_png(img, compress_level=1)
        if len(png) > min(self.max_file_bytes, self.max_student_bytes):
            return None
        digest = sha256_hex(png)
        path = self._path(digest)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(png)
            with shares.locked(self.folder):
                if not path.exists():
                    os.replace(tmp, path)
                shares.add_ref(self._refs(digest), shares.owner_key(owner))  # kept again: new for expiry
                self._prune(keep=digest, owner=owner)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return digest

    def get(self, digest: str) -> bytes | None:
        """The PNG bytes of a kept photo, checked against their name; they must decode as an
        image.

        Args:
            digest: the photo's SHA-256, lower-case hex.

        Returns:
            The bytes, or None (unknown, expired, malformed digest, or sharing off).
        """
        if not self.enabled or not DIGEST_RE.fullmatch(digest or ""):
            return None
        path = self._path(digest)
        if not path.exists():
            return None
        with shares.locked(self.folder):
            item = self._item(path)
            if item is None:
                return None
            if all(time.time() - t > self.ttl_seconds for t in item.refs.values()):
                self._apply([(digest, k) for k in item.refs] or [(digest, shares.ANYONE)])
                return None
        try:
            if path.stat().st_size > self.max_file_bytes:
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

    def _item(self, path: Path) -> shares.Item | None:
        """The photo at ``path`` (size, references), or None when it is not here."""
        try:
            size = path.stat().st_size
            refs = shares.read_refs(self._refs(path.stem))
            if refs is None:  # kept before references existed: held by nobody in particular
                refs = {shares.ANYONE: path.stat().st_mtime}
        except OSError:
            return None
        return shares.Item(path.stem, size, refs)

    def _apply(self, drops: list[tuple[str, str]]) -> None:
        """Drop these references; delete the photos nobody refers to any more."""
        for digest, key in drops:
            if shares.drop_ref(self._refs(digest), key):
                self._path(digest).unlink(missing_ok=True)

    def _prune(self, keep: str, owner: str | None) -> None:
        """Expired references, then ``owner``'s oldest beyond their share, then the oldest of
        whoever holds most beyond the total (``keep``: the photo just kept)."""
        items = [it for p in self.folder.glob("*.png") if (it := self._item(p)) is not None]
        for it in [it for it in items if not it.refs]:  # its last holder went, the process stopped
            self._apply([(it.name, shares.ANYONE)])
        items = [it for it in items if it.refs]
        drops = shares.plan(
            items,
            now=time.time(),
            ttl=self.ttl_seconds,
            cap=self.max_total_bytes,
            owner=shares.owner_key(owner),
            share=self.max_student_bytes,
            keep=keep,
        )
        self._apply(drops)

    def held_by(self, owner: str | None) -> int:
        """Bytes of the photos an owner holds a reference to.

        Args:
            owner: the owner token, or None.

        Returns:
            The byte count.
        """
        key = shares.owner_key(owner)
        with shares.locked(self.folder):
            return sum(it.size for p in self.folder.glob("*.png") if (it := self._item(p)) and key in it.refs)


def default_store() -> SharedImages:
    """The store configured by the environment (see the module docstring and README).

    Returns:
        A SharedImages.
    """
    folder = str(store_path("CNNVIZ_SHARED_IMAGES") or Path(tempfile.gettempdir()) / "cnnviz_shared_images")
    try:
        hours = float(os.environ.get("CNNVIZ_SHARE_HOURS", "24"))
    except ValueError:
        hours = 24.0
    try:
        total_mb = float(os.environ.get("CNNVIZ_SHARE_MAX_MB", "512"))
    except ValueError:
        total_mb = 512.0
    try:
        student_mb = float(os.environ.get("CNNVIZ_SHARE_STUDENT_MB", total_mb / 8))
    except ValueError:
        student_mb = total_mb / 8
    return SharedImages(
        Path(folder),
        ttl_seconds=max(hours, 0.0) * 3600,
        max_total_bytes=int(max(total_mb, 1.0) * 2**20),
        max_student_bytes=int(max(student_mb, 1.0) * 2**20),
        enabled=os.environ.get("CNNVIZ_SHARE_UPLOADS", "1").strip() != "0",
    )
