"""The user's own class folders (a folder upload, a zip, a folder on disk for the CLI), read
with caps on every size. User images go through the very ``Preprocess.crop`` the zoo uses at
prediction time, so what the model is trained on is what it is later fed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from cnnviz.errors import DatasetError, ImageError
from cnnviz.i18n import N_, _
from cnnviz.inputs.images import decode_image
from cnnviz.models.preprocess import Preprocess
from cnnviz.serving import memguard
from cnnviz.training.imageset import ImageDataset, finish

# Caps on what a user's upload may make us read (a class of 30 shares one server).
MAX_FILES = 5000  # image files per dataset
MAX_FILE_BYTES = 10 << 20  # one image file
MAX_TOTAL_BYTES = 200 << 20  # everything read from one upload
MAX_RATIO = 100  # uncompressed / compressed size of a zip entry: above this it is a bomb
MAX_CLASSES = 100  # class folders per upload: every chart and preview stays small
MAX_CLASS_CHARS = 40  # a class folder's name (shown on every chart)
# The catalogue's id, shown translated as _(TOO_MUCH) (held_uploads does too); its number is
# MAX_TOTAL_BYTES in MB (a test holds them together).
TOO_MUCH = N_("The upload holds more than 200 MB of files; use fewer or smaller images.")
_ONE_DECODE = 16 << 20  # one image decoded at max_side 512 (RGBA, 16-bit...) and its crops


def too_much() -> str:
    """Why an upload over ``MAX_TOTAL_BYTES`` is refused, in the reader's language."""
    return _(TOO_MUCH)


def _safe_parts(name: str) -> tuple[str, ...] | None:
    """The path's parts, or None when it is absolute or climbs out (``..``)."""
    name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = PurePosixPath(name).parts
    if any(p == ".." for p in parts):
        return None
    return tuple(p for p in parts if p not in ("", "."))


def _ignored(parts: tuple[str, ...]) -> bool:
    # Operating-system clutter, not the user's images: not even counted as skipped.
    return any(p.startswith(".") or p == "__MACOSX" or p == "Thumbs.db" for p in parts)


def from_files(
    files: list[tuple[str, bytes]], *, name: str = "your images", size: int = 32, channels: int = 3
) -> ImageDataset:
    """A dataset from (relative path, bytes) pairs, one folder per class.

    Paths look like ``dataset/cat/cat_0.png`` (a folder upload) or ``cat/cat_0.png`` (a
    zip): a folder that holds everything is dropped, then the first part is the class.
    Order does not matter (classes and files are sorted). Files that are not readable
    images are skipped and counted; any size and colour mode is accepted.
    """
    # What it allocates: each image at size² (kept, then stacked: twice) and one decode at a time.
    with memguard.reserve(2 * len(files) * size * size * channels + _ONE_DECODE, "reading this dataset"):
        return _from_files(files, name, size, channels)


def _from_files(files: list[tuple[str, bytes]], name: str, size: int, channels: int) -> ImageDataset:
    entries = []
    for fname, data in files:
        parts = _safe_parts(fname)
        if parts is None:
            raise DatasetError(
                _("The upload contains an unsafe path ({path}); it was refused.").format(path=repr(fname[:60]))
            )
        if parts and not _ignored(parts):
            entries.append((parts, data))
    # Drop a top folder shared by every file (the uploaded folder itself, or a zip's root).
    while entries and all(len(p) >= 3 for p, _ in entries) and len({p[0] for p, _ in entries}) == 1:
        entries = [(p[1:], d) for p, d in entries]
    if len(entries) > MAX_FILES:
        raise DatasetError(
            _("The upload has {n} files; at most {most} are allowed.").format(n=len(entries), most=MAX_FILES)
        )
    in_classes = sorted((p, d) for p, d in entries if len(p) >= 2)
    skipped = len(entries) - len(in_classes)  # loose files outside any class folder
    classes = sorted({p[0] for p, _ in in_classes})
    if len(classes) > MAX_CLASSES:
        raise DatasetError(
            _("The upload has {n} class folders; at most {most} are allowed.").format(n=len(classes), most=MAX_CLASSES)
        )
    long = next((c for c in classes if len(c) > MAX_CLASS_CHARS), None)
    if long is not None:
        raise DatasetError(
            _("A class folder's name is {n} characters long ({name}...); use at most {most}.").format(
                n=len(long), name=repr(long[:20]), most=MAX_CLASS_CHARS
            )
        )
    spec = Preprocess(size=size, resize=size, mean=(0.0,) * channels, std=(1.0,) * channels, channels=channels)
    xs, ys, total = [], [], 0
    for parts, data in in_classes:
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise DatasetError(too_much())
        try:
            img = decode_image(data, name=parts[-1], max_side=512)
        except ImageError:
            skipped += 1
            continue
        arr = np.asarray(spec.crop(img), dtype=np.uint8)
        xs.append(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1))
        ys.append(classes.index(parts[0]))
    x = np.stack(xs) if xs else np.zeros((0, channels, size, size), np.uint8)
    return finish(ImageDataset(name, classes, x, np.array(ys, dtype=np.int64), skipped=skipped))


def read_zip(data: bytes, **kwargs) -> ImageDataset:
    """A dataset from a zip of class folders, read in memory with caps on every size.

    Refuses entries with absolute or ``..`` paths, more than MAX_FILES files, more than
    MAX_TOTAL_BYTES unpacked, and entries that expand more than MAX_RATIO times.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DatasetError(_("This file is not a readable zip archive.")) from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_FILES:
            raise DatasetError(
                _("The zip has {n} files; at most {most} are allowed.").format(n=len(infos), most=MAX_FILES)
            )
        files, total = [], 0
        for info in infos:
            if _safe_parts(info.filename) is None:
                raise DatasetError(
                    _("The zip contains an unsafe path ({path}); it was refused.").format(path=repr(info.filename[:60]))
                )
            if _ignored(_safe_parts(info.filename)):
                continue
            if info.file_size > MAX_FILE_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 4096:
                raise DatasetError(
                    _("The zip entry {name} expands far too much; the zip was refused.").format(
                        name=repr(PurePosixPath(info.filename).name)
                    )
                )
            try:
                # Read no more than the cap, whatever the header claims.
                with zf.open(info) as f:
                    blob = f.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
                raise DatasetError(
                    _("The zip entry {name} is damaged or encrypted.").format(name=repr(info.filename[:60]))
                ) from None
            total += len(blob)
            if len(blob) > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                raise DatasetError(
                    _("The zip unpacks to more data than this server accepts; use fewer or smaller images.")
                )
            files.append((info.filename, blob))
    return from_files(files, **kwargs)


def read_folder(path: str | Path, **kwargs) -> ImageDataset:
    """A dataset from a folder on disk with one sub-folder per class (for the CLI)."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(_("{path} is not a folder.").format(path=path))
    files, total = [], 0
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            if len(files) >= MAX_FILES:
                raise DatasetError(_("The folder has more than {most} files.").format(most=MAX_FILES))
            total += p.stat().st_size
            if total > MAX_TOTAL_BYTES:
                raise DatasetError(_("The folder holds more than {mb} MB of files.").format(mb=MAX_TOTAL_BYTES >> 20))
            files.append(("root/" + p.relative_to(root).as_posix(), p.read_bytes()))
    return from_files(files, name=root.name or "folder", **kwargs)
