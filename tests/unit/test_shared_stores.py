"""The shared stores a class uses (uploaded checkpoints, photos kept for links): one reference
per student, content deleted only with its last reference, a share per student so that one
student's flood evicts only their own files, a cap for the store, expiry."""

from __future__ import annotations

import hashlib
import io
import shutil
import threading

import numpy as np
import pytest
from PIL import Image

from cnnviz.serving import shares, uploads
from cnnviz.serving.sharing import SharedImages


def test_plan_by_hand():
    items = [
        shares.Item("old", 100, {"ann": 10.0, "eve": 50.0}),  # ann's reference has expired (ttl 100, now 115)
        shares.Item("e1", 300, {"eve": 60.0}),
        shares.Item("e2", 300, {"eve": 70.0}),
        shares.Item("e3", 300, {"eve": 80.0}),  # eve just stored it
        shares.Item("b1", 200, {"bob": 20.0, "eve": 90.0}),
        shares.Item("a1", 150, {"ann": 40.0}),
    ]
    drops = shares.plan(items, now=115.0, ttl=100.0, cap=900, owner="eve", share=700, keep="e3")
    # 1. ann's expired reference; 2. eve holds 100+900+200 = 1200 > 700: her oldest go until
    # 700 (old, e1, e2: 1200 → 500); 3. the store holds e3+b1+a1 = 650 ≤ 900: nothing more.
    # "old" and e1, e2 lose their last holder; b1 stays, bob still holds it.
    assert drops == [("old", "ann"), ("old", "eve"), ("e1", "eve"), ("e2", "eve")]
    # the cap alone: the biggest holder's oldest reference goes first, never the one kept
    drops = shares.plan(items, now=115.0, ttl=1000.0, cap=500, owner="eve", share=10**6, keep="e3")
    assert drops[:3] == [("old", "eve"), ("e1", "eve"), ("e2", "eve")]
    assert ("e3", "eve") not in drops and ("a1", "ann") not in drops[:4]


def _bytes(i: int, size: int = 1000) -> bytes:
    return bytes([i % 251]) * (size - 4) + i.to_bytes(4, "big")


@pytest.fixture
def small_uploads(monkeypatch):
    for f in uploads.uploads_dir().iterdir():
        shutil.rmtree(f) if f.is_dir() else f.unlink()
    monkeypatch.setattr(uploads, "UPLOAD_DISK_BYTES", 20_000)
    monkeypatch.setattr(uploads, "UPLOAD_STUDENT_BYTES", 5_000)


def test_a_flood_of_checkpoints_evicts_only_the_flooders_own(small_uploads):
    ann = uploads.store(_bytes(0), "ann.pt", owner="ann")
    mine = [uploads.store(_bytes(i), f"eve{i}.pt", owner="eve") for i in range(1, 51)]
    digest = hashlib.sha256(_bytes(0)).hexdigest()
    assert uploads.find(digest, owner="tom") == ann  # the classmate's link still opens
    kept = [p for p in mine if p.exists()]
    assert kept == mine[-5:]  # eve keeps her newest 5 kB: her share
    assert uploads.held_by("eve") == (5_000, 5_000) and uploads.held_by("ann")[0] == 1_000


def test_the_store_cap_holds_and_takes_from_whoever_holds_most(small_uploads, monkeypatch):
    monkeypatch.setattr(uploads, "UPLOAD_DISK_BYTES", 8_000)
    ann = uploads.store(_bytes(0), "ann.pt", owner="ann")
    bob = [uploads.store(_bytes(i), f"bob{i}.pt", owner="bob") for i in range(1, 4)]
    eve = [uploads.store(_bytes(i), f"eve{i}.pt", owner="eve") for i in range(10, 15)]
    # 9 kB asked for in an 8 kB store: eve (5 kB) holds most, her oldest goes
    assert ann.exists() and all(p.exists() for p in bob)
    assert [p.exists() for p in eve] == [False, True, True, True, True]
    assert uploads.disk_usage() == (8_000, 8_000)


def test_a_refused_checkpoint_leaves_a_classmates_copy(small_uploads):
    ann = uploads.store(_bytes(7), "ann.pt", owner="ann")
    bob = uploads.store(_bytes(7), "mine.pt", owner="bob")  # the same bytes under another name
    uploads.discard(bob, owner="bob")  # refused for bob's model
    digest = hashlib.sha256(_bytes(7)).hexdigest()
    assert ann.exists() and uploads.find(digest) is not None
    assert uploads.held_by("bob")[0] == 0 and uploads.held_by("ann")[0] == 1_000
    uploads.discard(ann, owner="ann")  # the last holder: now it goes
    assert not ann.parent.exists() and uploads.find(digest) is None


def test_concurrent_stores_and_discards_never_lose_a_held_copy(small_uploads):
    data = _bytes(99)
    errors: list[str] = []

    def student(name: str) -> None:
        for _ in range(40):
            p = uploads.store(data, f"{name}.pt", owner=name)
            if not p.exists():
                errors.append(f"{name}: stored but missing")
            uploads.discard(p, owner=name)
        if not uploads.store(data, f"{name}.pt", owner=name).exists():
            errors.append(f"{name}: final copy missing")

    threads = [threading.Thread(target=student, args=(f"s{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    digest = hashlib.sha256(data).hexdigest()
    refs = shares.read_refs(uploads.uploads_dir() / digest / ".refs")
    assert refs is not None and len(refs) == 6  # every student still holds it


def _photo(seed: int) -> bytes:
    rgb = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_a_flood_of_photos_evicts_only_the_flooders_own(tmp_path):
    store = SharedImages(tmp_path / "s")
    ann = store.put(_photo(0), owner="ann")
    size = (store.folder / f"{ann}.png").stat().st_size  # each noise photo is about as large
    store.max_total_bytes, store.max_student_bytes = 30 * size, int(4.5 * size)
    eve = [store.put(_photo(i), owner="eve") for i in range(1, 45)]  # 44 photos, as the report's
    assert store.get(ann) is not None  # the classmate's linked photo
    kept = [d for d in eve if store.get(d) is not None]
    assert kept == eve[-len(kept) :] and 1 <= len(kept) <= 4 and store.held_by("eve") <= 4.5 * size
    # the same photo kept by two students goes only when both references have gone
    bob = store.put(_photo(0), owner="bob")
    assert bob == ann and len(list((store.folder / f"{ann}.refs").iterdir())) == 2
