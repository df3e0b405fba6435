"""render.to_png keeps recent pictures by content: equal pixels give the encoder's own bytes
without encoding again, different pixels (or shapes, or levels) never share an entry, and
the cache stays within its byte budget."""

from __future__ import annotations

import io
from collections import OrderedDict

import numpy as np
import pytest
from PIL import Image

from cnnviz import render


@pytest.fixture(autouse=True)
def _empty_cache(monkeypatch):
    monkeypatch.setattr(render, "_pngs", OrderedDict())
    monkeypatch.setattr(render, "_pngs_size", 0)


def _pil_png(arr: np.ndarray, level: int = 1) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


def test_equal_pixels_are_encoded_once_and_decode_to_themselves(monkeypatch):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    b = a.copy()
    b[10, 10, 0] ^= 1
    # one pixel, the shape, the channel count or the level changes the picture: never a stale one
    others = [(b, 1), (a.reshape(80, 64, 3), 1), (a[..., 0].copy(), 1), (a, 6)]
    expected = [_pil_png(a)] + [_pil_png(o, level) for o, level in others]
    saves = []
    real_save = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", lambda self, *a, **k: (saves.append(1), real_save(self, *a, **k))[1])
    first = render.to_png(a)
    again = render.to_png(a.copy())  # another array, the same pixels
    assert len(saves) == 1 and first == again == expected[0]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(again))), a)
    assert [render.to_png(o, level) for o, level in others] == expected[1:]
    assert len(saves) == 5


def test_the_cache_stays_within_its_budget(monkeypatch):
    monkeypatch.setattr(render, "_PNG_CACHE_BYTES", 200_000)
    rng = np.random.default_rng(1)
    pics = [rng.integers(0, 256, (100, 100, 3), dtype=np.uint8) for _ in range(12)]  # ~30 kB PNG each
    for p in pics:
        render.to_png(p)
    assert render._pngs_size <= 200_000
    assert render._pngs_size == sum(len(v) for v in render._pngs.values())
    assert render.to_png(pics[-1]) == _pil_png(pics[-1]) and render.to_png(pics[0]) == _pil_png(pics[0])
