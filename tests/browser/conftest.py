"""A real app server and a real Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.browser import LAUNCH_ARGS, chromium, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def app_url(_isolated_user_models):
    proc, url = start_server({"CNNVIZ_USER_MODELS": str(_isolated_user_models)})
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def lan_url(_isolated_user_models):
    """A server of the module's own listening on every interface, as `make run` starts it: a
    share or class QR code then names this machine's LAN address, which is opened for real."""
    proc, url = start_server({"CNNVIZ_USER_MODELS": str(_isolated_user_models)}, address="0.0.0.0")
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    exe = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    ctx.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
