"""A fresh server's first frame in real Chromium (cnnviz/ui/first_frame.py): the page a first
visitor gets while the server still imports torch, then the page itself, with no reload.

The server is started cold, as `make run` starts it, with one change that only makes the
window wide enough to look at: a ``sitecustomize`` of the test's own makes importing captum
(which the warm start imports and the first frame does not) take 6 s longer.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from axe_playwright_python.sync_playwright import Axe

from cnnviz.i18n import _, use
from cnnviz.ui import first_frame, menu
from testing.browser import _free_port, spawn, stop_server, wait_healthy, wait_warm

SLOW_CAPTUM = """
import sys, time

class _Slow:
    def find_spec(self, name, path=None, target=None):
        if name == "captum":
            sys.meta_path.remove(self)
            time.sleep(6)
        return None

sys.meta_path.insert(0, _Slow())
"""


def _ready(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/api/ready", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_a_cold_server_draws_the_first_frame_then_the_page_itself(browser, tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SLOW_CAPTUM)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = spawn(
        [sys.executable, "-m", "streamlit", "run", "asgi.py", "--server.port", str(port), "--server.headless", "true"],
        {"PYTHONPATH": path},
    )
    try:
        assert wait_healthy(proc, url, 90)
        home = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        link = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        home.goto(url)
        link.goto(f"{url}/features?layer=blocks.3.expand.act&image=chelsea&lang=de")

        # Predict's own view: its heading, the photo with its alt text, and what is coming
        home.locator("main h1", has_text=menu.HOME_TITLE).wait_for(timeout=60_000)
        photo = home.locator('main [data-testid="stImage"] img')
        photo.wait_for()
        assert photo.evaluate("i => i.complete && i.naturalWidth > 0")
        assert photo.get_attribute("alt") == "Your photo “Grace Hopper”, 512×600 pixels."
        assert home.get_by_text(first_frame.LOADING).is_visible()
        assert home.locator('[data-testid="stTopNavSection"]').count() >= 5  # the app's own menu
        assert _ready(url) == 503  # still importing: this is the first frame, not the page
        violations = Axe().run(home).response["violations"]
        assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []

        # a link's page, in the link's language, on a phone: its name, no photo
        with use("de"):
            link.locator("main h1", has_text=_("Feature maps")).wait_for(timeout=30_000)
            assert link.get_by_text(_(first_frame.LOADING)).is_visible()
        assert link.locator('main [data-testid="stImage"]').count() == 0

        # the page itself once the imports are done, by itself (no reload, the link's view kept)
        assert wait_warm(proc, url, 90)
        home.locator("main h2").first.wait_for(timeout=60_000)  # the model's answer
        home.get_by_text(first_frame.LOADING).wait_for(state="detached")
        assert home.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').count() >= 1
        link.locator('[data-testid="stSlider"], [data-testid="stSelectbox"]').first.wait_for(timeout=60_000)
        with use("de"):
            link.get_by_text(_(first_frame.LOADING)).wait_for(state="detached")
        assert "layer=blocks.3.expand.act" in link.url and "image=chelsea" in link.url
    finally:
        stop_server(proc)
