"""Issue 10 in real Chromium: the owner cookie is set once and kept across reloads (so a
student's private models stay theirs), and a refused checkpoint upload leaves no file."""

from __future__ import annotations

import os
from pathlib import Path

from testing.browser import no_exception, open_app, wait_idle


def _owner(page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == "cnnviz_owner"), None)


def test_owner_cookie_is_set_once_and_kept_across_reloads(page, app_url):
    open_app(page, app_url)
    page.get_by_text("forward pass").first.wait_for()
    first = _owner(page)  # set by the websocket's handshake, before the page ran (HttpOnly: not in document.cookie)
    assert first and len(first) == 32
    page.reload()
    page.get_by_text("forward pass").first.wait_for()
    wait_idle(page)
    assert _owner(page) == first  # the reloaded session read it back instead of minting another
    no_exception(page)


def test_a_refused_checkpoint_upload_is_deleted_at_once(page, app_url, tmp_path):
    uploads = Path(os.environ["CNNVIZ_UPLOADS"])
    before = {p for p in uploads.iterdir() if p.is_dir()} if uploads.is_dir() else set()
    bad = tmp_path / "homework.pt"
    bad.write_bytes(b"\x80\x02h\x05.")  # a 5-byte malformed pickle
    open_app(page, app_url)
    page.get_by_text("forward pass").first.wait_for()
    page.locator('[data-testid="stSidebar"]').get_by_text("My file", exact=True).click()
    wait_idle(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]').set_input_files(bad)
    page.get_by_text("'homework.pt' is damaged").first.wait_for(timeout=60_000)
    no_exception(page)
    after = {p for p in uploads.iterdir() if p.is_dir()} if uploads.is_dir() else set()
    assert after == before, "the refused upload is still on disk"
