"""Issue 23: a client that keeps no cookies is not a new student each time, on a real server.

- Protocol clients without cookies (bench.load_client, ``cookieless``: scripts), each
  starting a feature visualisation, share one student's lane (their address): one of their
  jobs runs at a time, and a classmate who keeps their cookie starts at once beside them.
  Before, each cookieless connection was a new student and took a slot.
- Real Chromium carries the cookie on its very first websocket (the page's reply set it),
  and two browsers behind one address (a classroom's NAT) stay two students: their feature
  visualisations run side by side.
"""

from __future__ import annotations

import secrets
import time
from contextlib import ExitStack

import pytest
from streamlit.proto.Common_pb2 import StringArray

from bench.load_client import AppSession
from cnnviz.serving.owner_cookie import COOKIE
from testing.browser import open_app, start_server, stop_server, wait_idle

SCRIPTS, STEPS = 4, "512"
HEARTBEAT_S = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory, _isolated_user_models):
    env = {
        "CNNVIZ_USER_MODELS": str(_isolated_user_models),
        "CNNVIZ_DISK_CACHE": str(tmp_path_factory.mktemp("featvis_cache")),  # nothing visualised yet
        "CNNVIZ_MAX_JOBS": "2",
        "CNNVIZ_JOB_HEARTBEAT": str(HEARTBEAT_S),
    }
    proc, url = start_server(env)
    yield url
    stop_server(proc)


def channel_page(s: AppSession, channel: int) -> None:
    s.open("model=efficientnet_lite0&weights=pretrained")
    s.switch_page("Channel")
    s.set_widget("ch_channel", int_value=channel)
    s.set_widget("ch_steps", string_array_value=StringArray(data=[STEPS]))


def running(s: AppSession) -> bool:
    """One poll, as the page's timer does; whether this tab's job is running now."""
    run = s.poll()
    view = run.view if run is not None else s.rerun().view
    return any(k == "progress" and "steps" in text for k, text in view)


def test_cookieless_scripts_share_one_lane_and_a_classmate_runs_beside_them(server):
    """Both slots free; the scripts' first job takes one. Were each script a student of its
    own, their jobs would take both slots and the classmate would wait behind them (main
    before this issue); as one student's lane they run one at a time and the classmate's job
    starts at once in the other slot. (Its time against its lone time: bench load's hostile.)"""
    with ExitStack() as stack:
        scripts = [stack.enter_context(AppSession(server, timeout=300, cookieless=True)) for _ in range(SCRIPTS)]
        for k, s in enumerate(scripts):
            channel_page(s, 20 + k)
            s.click("ch_featvis_start")
        most = 0
        for _ in range(3):
            most = max(most, sum(running(s) for s in scripts))
            time.sleep(1.0)
        assert most == 1  # one lane: the scripts' jobs wait for each other
        with AppSession(server, timeout=300, owner=secrets.token_hex(16)) as mate:
            channel_page(mate, 110)
            mate.click("ch_featvis_start")
            deadline = time.monotonic() + 60
            while not running(mate):
                assert time.monotonic() < deadline, "the classmate's job waited behind the scripts"
                time.sleep(0.5)
        assert sum(running(s) for s in scripts) == 1  # the scripts' lane still holds its one slot


def _token_set_by(response) -> str | None:
    for line in (response.all_headers().get("set-cookie") or "").split("\n"):
        if line.startswith(f"{COOKIE}="):
            return line.split(";")[0].split("=", 1)[1]
    return None


def test_a_browsers_first_websocket_carries_the_cookie_and_nat_browsers_stay_apart(server, browser):
    url = server
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        pages, tokens = [], []
        for ctx in contexts:
            page = ctx.new_page()
            page.set_default_timeout(180_000)
            documents = []
            page.on("response", lambda r, d=documents: d.append(r) if r.request.resource_type == "document" else None)
            open_app(page, url)
            set_by_page = _token_set_by(documents[0])
            assert set_by_page is not None  # the first visit's page itself set it
            # the websocket's reply sets the token the handshake carried, or a fresh one if it
            # carried none: the same value means the first websocket had the page's cookie
            held = next(c["value"] for c in ctx.cookies() if c["name"] == COOKIE)
            assert held == set_by_page
            pages.append(page)
            tokens.append(held)
        assert tokens[0] != tokens[1]  # one address (this machine, as behind a NAT), two students
        for k, page in enumerate(pages):
            page.goto(
                f"{url}/channel?model=efficientnet_lite0&weights=pretrained&layer=blocks.3.expand.act&channel={30 + k}"
            )
            page.get_by_role("button", name="Visualise").wait_for()
            wait_idle(page)
            page.get_by_role("slider", name="Steps").focus()
            page.keyboard.press("End")  # 512 steps: both still run when the second starts
            wait_idle(page)
        for page in pages:
            page.get_by_role("button", name="Visualise").click()
        for page in pages:  # side by side: the second did not wait for the first to end
            page.get_by_text("of 512 steps", exact=False).first.wait_for()
        assert pages[0].get_by_text("mean activation", exact=False).count() == 0
        for page in pages:
            page.get_by_role("button", name="Stop").click()
    finally:
        for ctx in contexts:
            ctx.close()
