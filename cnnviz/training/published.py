"""Published datasets: Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package when it
is installed (gzipped IDX files, read and checked here), and torchvision's MNIST /
FashionMNIST / CIFAR-10 when they are on disk (or can be downloaded).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from cnnviz.errors import DatasetError
from cnnviz.i18n import N_, _
from cnnviz.training.imageset import ImageDataset, finish

TORCHVISION = {"mnist": "MNIST", "fashionmnist": "FashionMNIST", "cifar10": "CIFAR10"}


def data_root() -> Path:
    """Where torchvision datasets are looked for.

    Returns:
        ``$CNNVIZ_DATA``, default ~/.cache/cnnviz/data.
    """
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
FASHION_HOWTO = N_(
    "install Debian's package once (`sudo apt-get install dataset-fashion-mnist`, or `make datasets`), "
    "or let torchvision download it (`python -m cnnviz train --dataset fashionmnist --download`)"
)
MAX_IDX_BYTES = 64 << 20  # inflated: Fashion-MNIST's training images are 47 MB


def fashion_missing() -> str:
    """Why Fashion-MNIST cannot be used here and how to get it.

    Returns:
        One sentence in the reader's language.
    """
    return _("Fashion-MNIST is not on this machine: {howto}.").format(howto=_(FASHION_HOWTO))


def fashion_mnist_dir() -> Path:
    """Where Debian's Fashion-MNIST files are looked for.

    Returns:
        ``$CNNVIZ_FASHION_MNIST_DIR``, else Debian's folder.
    """
    return Path(os.environ.get("CNNVIZ_FASHION_MNIST_DIR", DEBIAN_FASHION_DIR))


def fashion_mnist_available() -> bool:
    """Whether Debian's Fashion-MNIST training files are here.

    Returns:
        True when both the images and the labels are.
    """
    d = fashion_mnist_dir()
    return all((d / f"train-{k}-idx{n}-ubyte.gz").is_file() for k, n in (("images", 3), ("labels", 1)))


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """A gzipped IDX file (MNIST's format): magic 0x0000 08 ``ndim``, then ``ndim``
    big-endian uint32 sizes, then the bytes. Checked: type, rank and length.

    Args:
        path: the file.
        ndim: the rank expected.

    Returns:
        A uint8 array of that rank.

    Raises:
        DatasetError: an unreadable, oversized or malformed file.
    """
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as e:
        raise DatasetError(
            _("{name} is not a readable gzip file ({error}).").format(name=path.name, error=e.__class__.__name__)
        ) from None
    head = 4 + 4 * ndim
    if len(data) > MAX_IDX_BYTES or len(data) < head or data[:4] != bytes((0, 0, 8, ndim)):
        raise DatasetError(_("{name} is not an IDX file of {ndim}-d bytes.").format(name=path.name, ndim=ndim))
    shape = tuple(int(v) for v in np.frombuffer(data[4:head], dtype=">u4"))
    if int(np.prod(shape)) != len(data) - head:
        raise DatasetError(
            _("{name} is truncated or damaged (its size does not match its header).").format(name=path.name)
        )
    return np.frombuffer(data, dtype=np.uint8, offset=head).reshape(shape)


def fashion_mnist(*, limit: int = 12000) -> ImageDataset:
    """Fashion-MNIST from Debian's package: 28×28 grey clothes, 10 classes, black background.

    Args:
        limit: how many of the 60,000 training images are used (about 1,200 a class by
            default, like the torchvision datasets: enough to learn, quick on 2 cores).

    Returns:
        The ImageDataset.

    Raises:
        DatasetError: the files are not here, or malformed.
    """
    d = fashion_mnist_dir()
    if not fashion_mnist_available():
        raise DatasetError(fashion_missing())
    x = read_idx(d / "train-images-idx3-ubyte.gz", 3)
    y = read_idx(d / "train-labels-idx1-ubyte.gz", 1)
    if x.shape[1:] != (28, 28) or len(x) != len(y) or (len(y) and y.max() >= len(FASHION_CLASSES)):
        raise DatasetError(_("The Fashion-MNIST files in {folder} do not match each other.").format(folder=d.name))
    x, y = x[:limit, None].copy(), y[:limit].astype(np.int64)
    return finish(ImageDataset("fashionmnist", list(FASHION_CLASSES), x, y))


def torchvision_dataset(key: str, *, download: bool = False, limit: int = 12000) -> ImageDataset:
    """MNIST / FashionMNIST / CIFAR-10 from disk (or downloaded once when ``download``).

    Args:
        key: a key of :data:`TORCHVISION`.
        download: fetch it when it is not on disk.
        limit: how many training images are used: enough to learn, quick on 2 cores.

    Returns:
        The ImageDataset.

    Raises:
        DatasetError: not on disk (and not downloaded), or the download failed.
    """
    import torchvision.datasets as tvd

    cls = getattr(tvd, TORCHVISION[key])
    try:
        ds = cls(str(data_root()), train=True, download=download)
    except RuntimeError:
        if key == "fashionmnist":
            raise DatasetError(fashion_missing()) from None
        raise DatasetError(
            _(
                "{dataset} is not on this machine; connect to the internet once and run "
                "`python -m cnnviz train --dataset {key} --download`, or use mnist5k, digits or shapes offline."
            ).format(dataset=TORCHVISION[key], key=key)
        ) from None
    except OSError:
        raise DatasetError(
            _("{dataset} could not be downloaded (no internet?); use mnist5k, digits or shapes.").format(
                dataset=TORCHVISION[key]
            )
        ) from None
    x = np.asarray(ds.data[:limit])
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)  # (N, C, H, W)
    y = np.asarray(ds.targets[:limit], dtype=np.int64)
    return finish(ImageDataset(key, [str(c) for c in ds.classes], np.ascontiguousarray(x, dtype=np.uint8), y))
