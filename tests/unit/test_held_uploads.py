"""held_uploads (issue 23): the Train page's uploads live in one store bounded by the upload
caps, not copied into each session beyond them."""

from __future__ import annotations

import hashlib

from cnnviz.ui.held_uploads import HeldUploads

MB = 1 << 20


def folder(tag: str, n: int, mb: int) -> list[tuple[str, bytes]]:
    return [(f"data/{tag}/{i}.png", bytes([i]) * (mb * MB)) for i in range(n)]


def test_ten_sessions_sending_folders_stay_within_the_process_cap(monkeypatch):
    """The issue's flood, scaled down: ten sessions each sending four folders of 4 × 1 MB,
    with a 10 MB cap for the process: at most 10 MB held, the newest upload always kept,
    and a session's earlier folders replaced by its latest."""
    monkeypatch.setenv("CNNVIZ_UPLOAD_SESSION_MB", "8")
    monkeypatch.setenv("CNNVIZ_UPLOAD_TOTAL_MB", "10")
    store = HeldUploads()
    tickets = {}
    for s in range(10):
        for k in range(4):
            tickets[s] = store.put(f"s{s}", "folder", folder(f"{s}-{k}", 4, 1))
            assert store.bytes <= 10 * MB
            assert store.get(tickets[s]) is not None  # the one just added stays
    kept = [s for s in range(10) if store.get(tickets[s]) is not None]
    assert kept[-1] == 9 and len(kept) == 2  # 2 × 4 MB fit in 10 MB
    assert store.get(tickets[0]) is None  # dropped: the page asks for it again


def test_a_ticket_names_its_holder_content_and_kind():
    store = HeldUploads()
    files = folder("cat", 2, 1)
    held = store.put("a", "folder", files)
    h = hashlib.sha1(usedforsecurity=False)
    for name, data in files:
        h.update(name.encode())
        h.update(data)
    assert (held.holder, held.digest, held.kind, held.nbytes) == ("a", h.hexdigest(), "folder", 2 * MB)
    assert store.get(held) is files
    newer = store.put("a", "zip", b"PK" * 10)  # a session keeps its latest upload only
    assert store.get(held) is None and store.get(newer) == b"PK" * 10
    assert store.bytes == 20
    store.release("a")  # the session ended
    assert store.get(newer) is None and store.bytes == 0
