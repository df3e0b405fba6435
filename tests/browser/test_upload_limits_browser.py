"""Upload URLs filled without any widget, over Streamlit's own protocol, on a server of its
own: what the server holds stays within the caps (cnnviz/ui/upload_limits.py), and a
photo put into the Predict uploader afterwards gives exactly a fresh session's result.

Measured before the caps: 20 × 45 MB PUTs held +900 MB until the session ended."""

from __future__ import annotations

import re
import time

import pytest

from bench.bench_load import photo
from bench.load_client import AppSession
from testing.browser import start_server, stop_server

MB = 1 << 20
FILE = 45 * MB  # under server.maxUploadSize (50 MB); above glibc's largest mmap threshold
SESSION_CAP, TOTAL_CAP = 100 * MB, 150 * MB  # two 45 MB files per session, three in all
METRICS_TTL_S = 5.2  # streamlit/web/server/starlette: _METRICS_EXPENSIVE_STATS_TTL_SECONDS + margin
PUTS = 8  # per flooding session: 360 MB each, 720 MB in all without the caps


def _held(url: str) -> int:
    """Bytes Streamlit's upload manager holds, from its own metrics endpoint (which serves
    a result up to 5 s old: wait that out first)."""
    time.sleep(METRICS_TTL_S)
    with AppSession(url) as s:
        text = s.http.get(url + "/_stcore/metrics", timeout=30).text
    m = re.search(r'cache_type="UploadedFileManager"[^}]*}\s+(\d+)', text)
    return int(m.group(1)) if m else 0


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) << 10


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory):
    proc, url = start_server(
        {
            "CNNVIZ_UPLOAD_SESSION_MB": str(SESSION_CAP // MB),
            "CNNVIZ_UPLOAD_TOTAL_MB": str(TOTAL_CAP // MB),
            "CNNVIZ_USER_MODELS": str(tmp_path_factory.mktemp("models")),
            "CNNVIZ_UPLOADS": str(tmp_path_factory.mktemp("uploads")),
        }
    )
    yield proc, url
    stop_server(proc)


def test_urls_filled_without_a_widget_stay_bounded(capped_server):
    proc, url = capped_server
    name, data = photo(7)
    with AppSession(url) as ref:
        ref.open()
        ref.choose("image_source", "Upload")
        alone = ref.upload("image_upload", name, data, "image/png")
    assert not alone.errors and alone.media, alone.errors
    # The photo left Streamlit's upload manager once the app took it into its own bounded
    # store (cnnviz/ui/held_photos.py): the manager holds nothing for it.
    ref_photo = _held(url)
    assert ref_photo == 0
    base = _rss(proc.pid)  # models loaded, one photo predicted

    with AppSession(url) as a, AppSession(url) as b:
        a.open()
        b.open()
        b.choose("image_source", "Upload")
        peak = 0
        for i in range(PUTS):
            a.put_file(f"a{i}.bin", bytes([i]) * FILE, "application/octet-stream")
            peak = max(peak, _rss(proc.pid))
        assert _held(url) - ref_photo == 2 * FILE  # session a's newest two
        for i in range(PUTS):
            b.put_file(f"b{i}.bin", bytes([100 + i]) * FILE, "application/octet-stream")
            peak = max(peak, _rss(proc.pid))
        assert _held(url) <= TOTAL_CAP
        grown = peak - base
        print(f"held after 2 × {PUTS} PUTs: {_held(url) / MB:.0f} MB; server RSS +{grown / MB:.0f} MB at peak")
        # 720 MB were PUT; the caps keep at most 150 MB. Allow a PUT in flight (its body,
        # the parsed file) and the allocator's slack: far below an uncapped server's.
        assert grown < TOTAL_CAP + 2 * FILE + 150 * MB, f"server RSS grew {grown / MB:.0f} MB"

        # A photo in the widget of the flooded session: exactly a fresh session's result.
        run = b.upload("image_upload", name, data, "image/png")
        assert not run.errors, run.errors
        assert run.view == alone.view
        # Three more PUTs push that photo itself out of session b (the oldest go first):
        # the widget then names a file the server no longer has; the page runs on.
        for i in range(3):
            b.put_file(f"b-more{i}.bin", bytes([200 + i]) * FILE, "application/octet-stream")
        assert _held(url) <= TOTAL_CAP
        again = b.rerun()
        assert not again.errors, again.errors
