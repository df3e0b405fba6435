"""How unlike its training images is an input? A simple, honest measure for small models.

A digits model fed a colour photo still answers "8 — 98 %": softmax always sums to 1 over
the classes the model knows. To say so with a number, each picture is summed up by a few
pixel statistics (brightness, contrast, how much is dark or bright background, how busy its
edges are, how colourful it is), those of a sample of the training images give a typical
range, and an input's distance from the training average is compared with the training
images' own distances: "farther than 99.9 % of its training images".

It is a look at pixels, not at what the picture shows: a new handwritten digit scores as
familiar, a photo of a face does not. It needs the training set, so it covers models whose
dataset can be rebuilt offline (MNIST-5k, the 8×8 digits, shapes, Fashion-MNIST).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from cnnviz.errors import DatasetError
from cnnviz.training import datasets, published

FEATURES = ("brightness", "contrast", "dark share", "bright share", "edges", "colour")
REFERENCE_SAMPLE = 2000  # training images summed up per reference (the seed fixes which)
UNUSUAL = 0.01  # an input farther than 99 % of the training images is out of the model's world


def pixel_features(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) pixels in 0..1 → (N, 6) statistics, in the order of :data:`FEATURES`."""
    x = np.asarray(x, dtype=np.float32)
    grey = x.mean(axis=1)  # (N, H, W)
    edges = np.abs(np.diff(grey, axis=1)).mean(axis=(1, 2)) + np.abs(np.diff(grey, axis=2)).mean(axis=(1, 2))
    colour = x.std(axis=1).mean(axis=(1, 2))  # 0 for a grey picture
    return np.stack(
        [
            grey.mean(axis=(1, 2)),
            grey.std(axis=(1, 2)),
            (grey < 0.15).mean(axis=(1, 2)),
            (grey > 0.85).mean(axis=(1, 2)),
            edges,
            colour,
        ],
        axis=1,
    )


@dataclass(frozen=True)
class Reference:
    """What a model's training images look like in :func:`pixel_features` terms."""

    dataset: str
    mean: np.ndarray  # (F,)
    std: np.ndarray  # (F,), at least 1e-3: a constant feature must not divide by zero
    distances: np.ndarray  # (N,) sorted distances of the sampled training images themselves

    def distance(self, feats: np.ndarray) -> np.ndarray:
        """(N, F) features → (N,) root-mean-square z-score against the training images."""
        z = (np.asarray(feats, dtype=np.float64) - self.mean) / self.std
        return np.sqrt((z**2).mean(axis=-1))


def reference(x: np.ndarray, dataset: str, *, sample: int = REFERENCE_SAMPLE, seed: int = 0) -> Reference:
    """The reference of training images ``x`` (N, C, H, W) uint8 (a seeded sample of ``sample``)."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(x), size=min(sample, len(x)), replace=False)
    feats = pixel_features(x[np.sort(pick)].astype(np.float32) / 255.0).astype(np.float64)
    mean, std = feats.mean(axis=0), np.maximum(feats.std(axis=0), 1e-3)
    ref = Reference(dataset, mean, std, np.zeros(0))
    return Reference(dataset, mean, std, np.sort(ref.distance(feats)))


@dataclass(frozen=True)
class Familiarity:
    """One input against a :class:`Reference`."""

    dataset: str
    distance: float  # RMS z-score of the input's statistics
    share_farther: float  # training images at least this far from their average, 0..1
    features: dict[str, float]  # the input's statistics
    typical: dict[str, float]  # the training average of each

    @property
    def unusual(self) -> bool:
        return self.share_farther < UNUSUAL


def familiarity(ref: Reference, pixels: np.ndarray) -> Familiarity:
    """How an input's ``pixels`` (C, H, W) in 0..1 (as the model sees them, before
    normalisation) compare with the training images of ``ref``."""
    feats = pixel_features(np.asarray(pixels)[None])[0]
    d = float(ref.distance(feats[None])[0])
    farther = 1.0 - np.searchsorted(ref.distances, d, side="left") / len(ref.distances)
    return Familiarity(
        ref.dataset,
        d,
        float(farther),
        {k: float(v) for k, v in zip(FEATURES, feats, strict=True)},
        {k: float(v) for k, v in zip(FEATURES, ref.mean, strict=True)},
    )


OFFLINE = ("mnist5k", "digits", "shapes", "fashionmnist")  # datasets that can be rebuilt with no network
_REFS: dict[tuple[str, int], Reference | None] = {}
_LOCK = threading.Lock()


def reference_for(dataset: str, size: int) -> Reference | None:
    """The reference of a built-in dataset at the model's input size (cached per process),
    or None when the dataset cannot be rebuilt here (a user's own folders, a download)."""
    key = (dataset, size)
    with _LOCK:
        if key not in _REFS:
            ds = None
            offline = dataset in OFFLINE and (dataset != "fashionmnist" or published.fashion_mnist_available())
            if offline:
                try:
                    ds = datasets.load(dataset, size=size)
                except DatasetError:
                    ds = None
            _REFS[key] = None if ds is None or ds.size != size else reference(ds.x[ds.train_idx], dataset)
        return _REFS[key]
