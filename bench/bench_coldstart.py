"""Cold start, as the first student of the day sees it (issue 27, item 4).

From the server's start (the process spawned as ``make run`` spawns it) to the first page
usable in Chromium: the app's own menu, the page's title and its first picture painted (on a
fresh server, the first frame: cnnviz/ui/first_frame.py); and, reported beside it, to
Predict's answer drawn.
A bare Streamlit app started and opened the same way, in the same run, is the floor: what
Streamlit itself costs on this machine now. Then every page of the menu, opened by a first
visitor and again by a second one (each a fresh browser context) on the warm server: the
first may be at most 1.5x slower than the second.

Environment: ``CNNVIZ_COLD_RUNS`` (3) cold starts, median reported;
``CNNVIZ_TARGET_COLD_START_S`` (3.0) seconds; ``CNNVIZ_TARGET_FIRST_VISIT`` (1.5).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Row, target
from testing.browser import LAUNCH_ARGS, READY, _free_port, spawn, stop_server, wait_healthy, wait_idle
from testing.helpers import nav_pages

ROOT = Path(__file__).resolve().parents[1]

RUNS = max(1, int(os.environ.get("CNNVIZ_COLD_RUNS", "3")))
BARE_APP = 'import numpy as np\nimport streamlit as st\n\nst.title("Hello")\nst.image(np.full((64, 64), 0.5))\n'


def _spawn(script: Path) -> tuple[subprocess.Popen, str, float]:
    """Start ``streamlit run script`` as `make run` does; (process, url, perf_counter at spawn)."""
    port = _free_port()
    t0 = time.perf_counter()
    proc = spawn(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
        + ["--server.headless", "true", "--server.address", "127.0.0.1"]
    )
    url = f"http://127.0.0.1:{port}"
    # polled often: the wait for the port is part of what is measured
    if not wait_healthy(proc, url, 120, poll=0.05):
        stop_server(proc)
        raise RuntimeError("streamlit did not come up")
    return proc, url, t0


def _usable(page, url: str, heading: str | None = None) -> None:
    """Open ``url`` and wait for its first page to be usable: title, a picture painted, idle."""
    page.goto(url)
    h1 = page.locator("main h1") if heading is None else page.locator("main h1", has_text=heading)
    h1.first.wait_for(timeout=120_000)
    # a picture painted, in the page or in a component's shadow root (cnnviz.ui.clickable)
    page.wait_for_function(
        """() => {
          const imgs = [...document.querySelectorAll('main img')];
          for (const host of document.querySelectorAll('main *')) if (host.shadowRoot)
            imgs.push(...host.shadowRoot.querySelectorAll('img'));
          return imgs.some(i => i.complete && i.naturalWidth > 0);
        }""",
        timeout=120_000,
        polling="raf",
    )


def _cold(browser, script: Path, heading: str | None, app_menu: bool) -> tuple[float, float]:
    """(seconds to the first page usable, to the page complete): for the app, complete is
    Predict's answer drawn (its heading, ``st.header``), which a fresh server's first frame
    (cnnviz/ui/first_frame.py) draws only once torch is imported; the bare app has no more."""
    proc, url, t0 = _spawn(script)
    try:
        ctx = browser.new_context(viewport={"width": 1280, "height": 720})
        page = ctx.new_page()
        _usable(page, url, heading)
        if app_menu:  # the app's own menu, not Streamlit's list of pages/ files
            page.locator('[data-testid="stTopNavSection"]').first.wait_for(timeout=120_000)
        usable = time.perf_counter() - t0
        if app_menu:
            page.locator("main h2").first.wait_for(timeout=120_000)
        complete = time.perf_counter() - t0
        ctx.close()
        return usable, complete
    finally:
        stop_server(proc)


def _visit(browser, url: str) -> float:
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    t = time.perf_counter()
    page.goto(url)
    page.locator("main h1").first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    took = time.perf_counter() - t
    ctx.close()
    return took


def run() -> list[Row]:
    from playwright.sync_api import sync_playwright

    bare = Path(tempfile.mkdtemp()) / "bare_app.py"
    bare.write_text(BARE_APP)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=LAUNCH_ARGS)
        ours, floor, complete = [], [], []
        for _ in range(RUNS):  # interleaved: a noisy minute hits both
            floor.append(_cold(browser, bare, "Hello", app_menu=False)[0])
            usable, done = _cold(browser, ROOT / "asgi.py", None, app_menu=True)
            ours.append(usable)
            complete.append(done)
        proc, url, _t0 = _spawn(ROOT / "asgi.py")
        try:
            wait_healthy(proc, url, 120, path=READY)  # the imports done: no first frame
            _visit(browser, url)  # the server is warm: its first page was served
            ratios = {}
            for path, title in nav_pages(url=True):
                first = _visit(browser, f"{url}/{path}")
                second = _visit(browser, f"{url}/{path}")
                ratios[title] = first / second
        finally:
            stop_server(proc)
        browser.close()
    shutil.rmtree(bare.parent, ignore_errors=True)
    cold, base = statistics.median(ours), statistics.median(floor)
    cold_target = target("cold_start_s", 3.0)
    worst = max(ratios, key=ratios.get)
    first_target = target("first_visit", 1.5)
    return [
        Row(
            "cold start: server start to first page usable (s)",
            f"{cold:.2f} s [{min(ours):.2f}–{max(ours):.2f}]",
            f"bare Streamlit {base:.2f} s",
            cold / base,
            f"≤ {cold_target:g} s",
            cold <= cold_target,
        ),
        Row(
            "cold start: server start to Predict's answer drawn (s)",
            f"{statistics.median(complete):.2f} s [{min(complete):.2f}–{max(complete):.2f}]",
            f"bare Streamlit {base:.2f} s",
            statistics.median(complete) / base,
            "report",
            True,
        ),
        Row(
            "first visitor / second, worst page",
            f"{worst} {ratios[worst]:.2f}x",
            f"median page {statistics.median(ratios.values()):.2f}x",
            ratios[worst],
            f"≤ {first_target:g}",
            ratios[worst] <= first_target,
        ),
    ]
