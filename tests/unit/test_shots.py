"""Camera classes: shots kept small, names checked, limits, and the dataset they make."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.training import class_folders, shots


def _photo(colour, size=(640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def test_a_shot_is_kept_small():
    small = Image.open(io.BytesIO(shots.shrink_shot(_photo((200, 10, 10), (3840, 2160)))))
    assert small.format == "JPEG" and max(small.size) == shots.SHOT_SIDE and small.size[0] > small.size[1]


def test_names_and_limits():
    assert shots.class_name("  thumbs   up ") == "thumbs up"
    for bad in ("", "   ", "a/b", "..", "x" * 41):
        with pytest.raises(CnnvizError):
            shots.class_name(bad)
    s = {}
    for i in range(shots.MAX_CLASSES):
        s = shots.add_shot(s, f"c{i}", _photo((i, i, i)))
    with pytest.raises(CnnvizError, match="At most"):
        shots.add_shot(s, "one more", _photo((0, 0, 0)))
    with pytest.raises(CnnvizError):
        shots.add_shot({}, "bad", b"not an image")


def test_shots_become_a_trainable_dataset():
    s = {}
    assert "'red' still needs more" in shots.missing(shots.add_shot(s, "red", _photo((220, 0, 0))))
    for _ in range(4):
        s = shots.add_shot(s, "red", _photo((220, 20, 20)))
    assert "second class" in shots.missing(s)
    for _ in range(2):
        s = shots.add_shot(s, "blue", _photo((20, 20, 220)))
    assert "'blue' still needs more" in shots.missing(s)
    s = shots.add_shot(s, "blue", _photo((20, 20, 220)))
    assert shots.missing(s) is None
    ds = class_folders.from_files(shots.as_files(s), size=32, channels=3)
    assert ds.classes == ["blue", "red"] and len(ds.y) == 7
    # the pixels are the photos' colours (JPEG: within a few levels)
    red = ds.x[ds.y == 1].mean(axis=(0, 2, 3))
    np.testing.assert_allclose(red, [220, 20, 20], atol=6)
