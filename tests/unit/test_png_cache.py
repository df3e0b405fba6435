"""render.to_png keeps recent pictures by content: equal pixels give the encoder's own bytes
without encoding again, different pixels (or shapes, or levels) never share an entry, and
the cache stays within its byte budget."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz import render
from cnnviz.kept import KeptBytes


@pytest.fixture(autouse=True)
def _empty_cache(monkeypatch):
    monkeypatch.setattr(render, "_encoded", KeptBytes(32 << 20))


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
    monkeypatch.setattr(render, "_encoded", KeptBytes(200_000))
    rng = np.random.default_rng(1)
    pics = [rng.integers(0, 256, (100, 100, 3), dtype=np.uint8) for _ in range(12)]  # ~30 kB PNG each
    for p in pics:
        render.to_png(p)
    kept = render._encoded
    assert 0 < kept.size <= 200_000 and kept.size == sum(len(v) for v in kept._items.values())
    assert len(kept._items) < len(pics)  # the oldest went
    assert render.to_png(pics[-1]) == _pil_png(pics[-1]) and render.to_png(pics[0]) == _pil_png(pics[0])


def test_photo_bytes_are_encoded_once_and_never_share_a_png_s_entry(monkeypatch):
    rng = np.random.default_rng(2)
    photo = Image.fromarray(rng.integers(0, 256, (200, 300, 3), dtype=np.uint8))
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=88)
    png = _pil_png(np.asarray(photo))
    saves = []
    real_save = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", lambda self, *a, **k: (saves.append(1), real_save(self, *a, **k))[1])
    assert render.photo_bytes(photo) == render.photo_bytes(photo.copy()) == buf.getvalue()
    assert len(saves) == 1
    assert render.to_png(photo) == png  # the same pixels as a PNG: its own entry
    assert render.photo_bytes(photo, quality=50) != buf.getvalue() and len(saves) == 3


def test_an_overlay_is_blended_once_and_follows_its_map_and_opacity(monkeypatch):
    rng = np.random.default_rng(3)
    photo = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    heat = rng.random((7, 7)).astype(np.float32)
    d = render.display(heat, cmap="viridis")
    blends = []
    real = render.overlay
    monkeypatch.setattr(render, "overlay", lambda *a, **k: (blends.append(1), real(*a, **k))[1])
    first = render.overlay_png(photo, d, alpha=0.5)
    assert render.overlay_png(photo.copy(), render.display(heat.copy(), cmap="viridis"), alpha=0.5) == first
    assert len(blends) == 1
    assert first == render.to_png(real(photo, d.heat, alpha=0.5, cmap="viridis", vmin=d.vmin, vmax=d.vmax))
    other = heat.copy()
    other[3, 3] += 0.5
    assert render.overlay_png(photo, render.display(other, cmap="viridis"), alpha=0.5) != first
    assert render.overlay_png(photo, d, alpha=0.25) != first
    assert len(blends) == 3
