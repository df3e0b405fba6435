"""Several students at once on the shared test server, over Streamlit's websocket protocol:
each session's pages are exactly those it gets alone, with no error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bench.bench_load import walk
from bench.load_client import AppSession

N = 6  # a different gallery photo each (bench.bench_load.PHOTOS)
FIRST = 100  # photo variants of their own: no other test has them cached


def _diff(a, b) -> str:
    return "; ".join(
        f"{step}: {[x for x in a.views[step] if x not in b.views.get(step, [])]}"
        for step in a.views
        if a.views[step] != b.views.get(step)
    )


def test_sessions_at_once_get_their_lone_results(app_url):
    with AppSession(app_url) as s:
        s.open()
        pages = [p for p in ("Feature maps",) if p in s.pages]
    alone = [walk(app_url, FIRST + i, pages) for i in range(N)]
    assert not [e for w in alone for e in w.errors]
    # different photos, different pages: the comparison below can tell sessions apart
    assert len({repr(w.views["upload"]) for w in alone}) == N

    # The same pixels in new bytes: new digests, so nothing is cached and the sessions below
    # compute at the same time rather than replay (the shared caches cannot be cleared).
    with ThreadPoolExecutor(N) as pool:
        together = list(pool.map(lambda i: walk(app_url, FIRST + i, pages, variant="together"), range(N)))

    assert not [e for w in together for e in w.errors]
    for i, (a, b) in enumerate(zip(alone, together, strict=True)):
        assert a.views == b.views, f"session {i}: {_diff(a, b)}"
