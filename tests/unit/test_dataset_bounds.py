"""Issue 10: a dataset's class count and names are capped, and every chart and preview of
it is bounded whatever the class count."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz.errors import DatasetError
from cnnviz.training import class_folders, imageset
from cnnviz.ui.train_results import confusion_chart
from testing.catalogue import encode

PNG = encode(Image.new("L", (8, 8), 128), "PNG")


def _files(classes: list[str], per_class: int = 3) -> list[tuple[str, bytes]]:
    return [(f"{c}/{i}.png", PNG) for c in classes for i in range(per_class)]


def test_too_many_classes_are_refused_before_decoding(monkeypatch):
    decoded = []
    monkeypatch.setattr(class_folders, "decode_image", lambda *a, **k: decoded.append(1))
    with pytest.raises(DatasetError, match=r"1666 class folders; at most 100"):
        class_folders.from_files(_files([f"c{i}" for i in range(1666)], per_class=1))
    assert decoded == []


def test_long_class_names_are_refused():
    with pytest.raises(DatasetError, match=r"20000 characters long .* at most 40"):
        class_folders.from_files(_files(["a", "b" * 20_000]))


def test_largest_allowed_dataset_previews_in_bounded_rows():
    ds = class_folders.from_files(_files([f"class_{i:03d}" for i in range(100)]), size=16)
    assert len(ds.classes) == 100
    grid = imageset.preview(ds, per_class=8)
    # tiles of 16 px with 2 px between them
    assert grid.shape[:2] == (24 * 16 + 23 * 2, 8 * 16 + 7 * 2) and imageset.PREVIEW_CLASSES == 24


@pytest.mark.parametrize("k", [10, 100, 300])
def test_confusion_chart_is_bounded_and_counts_right(k):
    rng = np.random.default_rng(0)
    confusion = np.zeros((k, k), np.int64)
    confusion[np.arange(k), np.arange(k)] = 5
    confusion[rng.integers(0, k, 50), rng.integers(0, k, 50)] += 1
    chart = confusion_chart(confusion, ["x" * 40 + str(i) for i in range(k)])
    spec = chart.to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert len(rows) == np.count_nonzero(confusion)  # only the cells that hold images
    assert sum(r["images"] for r in rows) == confusion.sum()
    assert len(chart.to_json()) < 200_000
