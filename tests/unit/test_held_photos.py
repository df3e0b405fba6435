"""held_photos (issue 23): the sidebar's photos live in one store by content, bounded by the
process cap of the upload caps, not as a copy in each session's state."""

from __future__ import annotations

from cnnviz.inputs.images import image_digest
from cnnviz.ui.held_photos import HeldPhotos

MB = 1 << 20


def photo(i: int, mb: int) -> bytes:
    return bytes([i % 256]) * (mb * MB)


def test_more_sessions_x_big_photos_than_the_cap_stay_within_it(monkeypatch):
    """Twelve sessions each holding a distinct 4 MB photo under a 10 MB process cap: at most
    10 MB held after every upload, the photo just added always kept, the oldest of the
    largest going first, and a dropped ticket reading as None (the page asks again)."""
    monkeypatch.setenv("CNNVIZ_UPLOAD_TOTAL_MB", "10")
    store = HeldPhotos()
    tickets = {}
    for s in range(12):
        tickets[s] = store.put(f"s{s}", photo(s, 4))
        assert store.bytes <= 10 * MB
        assert store.get(tickets[s]) == photo(s, 4)  # the one just added stays
    assert [s for s in range(12) if store.get(tickets[s]) is not None] == [10, 11]  # 2 x 4 MB fit
    assert store.bytes == 8 * MB
    big = store.put("s12", photo(12, 6))  # 6 + 8 > 10: the oldest 4 MB goes, 6 + 4 fit
    assert store.get(big) is not None and store.get(tickets[11]) is not None and store.get(tickets[10]) is None
    small = store.put("s13", photo(13, 1))  # 1 + 6 + 4 > 10: the largest (6 MB) goes, not the older 4 MB
    assert store.get(big) is None and store.get(tickets[11]) is not None and store.get(small) is not None
    assert store.bytes == 5 * MB


def test_the_same_photo_is_one_copy_and_goes_with_its_last_holder(monkeypatch):
    monkeypatch.setenv("CNNVIZ_UPLOAD_TOTAL_MB", "100")
    store = HeldPhotos()
    data = photo(1, 2)
    a = store.put("a", data)
    b = store.put("b", bytes(bytearray(data)))  # equal bytes, another object: the first copy is kept
    assert a == b and (a.digest, a.nbytes) == (image_digest(data), 2 * MB)
    assert store.get(b) is store.get(a) and store.bytes == 2 * MB
    store.release("a")  # a's session ended: b still holds it
    assert store.get(b) is not None
    c = store.put("b", photo(2, 3))  # b's new photo replaces its old one: nobody holds that any more
    assert store.get(a) is None and store.bytes == 3 * MB
    store.release("b")
    assert store.get(c) is None and store.bytes == 0


def test_a_shared_photo_goes_whole_when_it_is_the_largest(monkeypatch):
    """Dropping one holder of a photo others hold frees nothing: the content goes with all its
    tickets, so the cap holds."""
    monkeypatch.setenv("CNNVIZ_UPLOAD_TOTAL_MB", "5")
    store = HeldPhotos()
    shared = [store.put(h, photo(7, 3)) for h in ("a", "b", "c")]
    new = store.put("d", photo(8, 3))
    assert all(store.get(t) is None for t in shared) and store.get(new) is not None
    assert store.bytes == 3 * MB
    store.release("a")  # its ticket was dropped already: nothing else changes
    assert store.get(new) is not None
