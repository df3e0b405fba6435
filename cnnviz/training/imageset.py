"""One dataset to train on (:class:`ImageDataset`): uint8 images (N, C, S, S), labels, class
names and a fixed, stratified train/validation split; ``finish`` checks a new dataset is
trainable and splits it, ``preview`` draws a grid of its images. Every reader
(``cnnviz.training.datasets``, ``class_folders``, ``published``) ends in ``finish``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz.errors import DatasetError
from cnnviz.i18n import _, ngettext
from cnnviz.render import tile

MIN_PER_CLASS = 3  # at least 2 to learn from and 1 to check on
VAL_FRACTION = 0.2
SPLIT_SEED = 0  # the split never depends on the training seed: results stay comparable


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
        """Images per class in each split.

        Returns:
            Class name -> (train images, validation images).
        """
        tr = np.bincount(self.y[self.train_idx], minlength=len(self.classes))
        va = np.bincount(self.y[self.val_idx], minlength=len(self.classes))
        return {c: (int(tr[i]), int(va[i])) for i, c in enumerate(self.classes)}

    def preprocess(self) -> dict:
        """The checkpoint's ``preprocess`` block: mean/std per channel of the training images.

        Returns:
            A dict for :meth:`Preprocess.from_dict`.
        """
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
        """One sentence on the data (the Train page's caption).

        Returns:
            The sentence, in the reader's language.
        """
        n_tr, n_va = len(self.train_idx), len(self.val_idx)
        nums = {"n": len(self.y), "size": self.size, "classes": len(self.classes), "train": n_tr, "val": n_va}
        if self.channels == 1:
            text = _("{n} images of {size}×{size} (grey), {classes} classes: {train} to train on, {val} to validate on")
        else:
            text = _(
                "{n} images of {size}×{size} (colour), {classes} classes: {train} to train on, {val} to validate on"
            )
        text = text.format(**nums)
        if not self.skipped:
            return text + "."
        skipped = ngettext(
            "{summary}; {n} file skipped (not usable images).",
            "{summary}; {n} files skipped (not usable images).",
            self.skipped,
        )
        return skipped.format(summary=text, n=self.skipped)


def split(y: np.ndarray, val_fraction: float = VAL_FRACTION, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: a fraction of every class (at least one image) is held out.

    Args:
        y: (N,) labels.
        val_fraction: the share held out for validation.
        seed: the shuffle's seed.

    Returns:
        (train indices, validation indices), int arrays.
    """
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = max(1, round(val_fraction * len(idx)))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def finish(ds: ImageDataset) -> ImageDataset:
    """Check a dataset is trainable, then split it.

    Args:
        ds: the dataset, without its split.

    Returns:
        The dataset with ``train_idx`` and ``val_idx``.

    Raises:
        DatasetError: no usable images, fewer than 2 classes, or a class with too few
            images.
    """
    counts = np.bincount(ds.y, minlength=len(ds.classes)) if len(ds.y) else np.zeros(len(ds.classes), int)
    present = [c for c, n in zip(ds.classes, counts, strict=True) if n > 0]
    if not present:
        if ds.skipped:
            raise DatasetError(
                ngettext(
                    "No usable images were found ({n} file was not a readable image); "
                    "put pictures in one folder per class.",
                    "No usable images were found ({n} files were not readable images); "
                    "put pictures in one folder per class.",
                    ds.skipped,
                ).format(n=ds.skipped)
            )
        raise DatasetError(_("No usable images were found; put pictures in one folder per class."))
    if len(present) < 2:
        raise DatasetError(
            _("Only one class ({name}) has images; a classifier needs at least two class folders.").format(
                name=repr(present[0])
            )
        )
    empty = [c for c, n in zip(ds.classes, counts, strict=True) if n == 0]
    if empty:
        raise DatasetError(
            _("The class folder {name} has no usable images; add some or remove the folder.").format(
                name=repr(empty[0])
            )
        )
    small = [(c, int(n)) for c, n in zip(ds.classes, counts, strict=True) if n < MIN_PER_CLASS]
    if small:
        c, n = small[0]
        raise DatasetError(
            ngettext(
                "Class {name} has only {n} image; every class needs at least {least} "
                "(some to learn from and one to check on).",
                "Class {name} has only {n} images; every class needs at least {least} "
                "(some to learn from and one to check on).",
                n,
            ).format(name=repr(c), n=n, least=MIN_PER_CLASS)
        )
    ds.train_idx, ds.val_idx = split(ds.y)
    return ds


PREVIEW_CLASSES = 24  # rows of a preview at most, whatever the class count


def preview(
    ds: ImageDataset, per_class: int = 8, *, indices: np.ndarray | None = None, max_classes: int = PREVIEW_CLASSES
) -> np.ndarray:
    """A grid of training images: one row per class, some images each (gaps white).

    Args:
        ds: the dataset.
        per_class: images per row.
        indices: the images to choose from; None for the training split.
        max_classes: the most rows (the first classes).

    Returns:
        (H, W, 3) uint8.
    """
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
