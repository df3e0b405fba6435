"""The classroom recipe end to end: serve/serve_lan.sh (nginx + TLS + 2 app processes with
sticky sessions) on loopback, a real Chromium uploading a photo through it and holding the
owner cookie Secure, HttpOnly and SameSite=Strict."""

from __future__ import annotations

import re
import ssl
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest

from testing.browser import LAUNCH_ARGS, chromium, no_exception, route_log, serve_lan, upload_photo, wait_idle

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"


def _get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:
        return r.status, r.read()


@pytest.fixture(scope="module")
def lan(tmp_path_factory, _isolated_user_models):
    """(https base url, run folder) of serve_lan.sh with 2 app processes; stopped at the end."""
    run = tmp_path_factory.mktemp("serve")
    with serve_lan(run, {"CNNVIZ_USER_MODELS": str(_isolated_user_models)}) as url:
        yield url, run


def test_tls_and_sticky_hashing(lan):
    url, run = lan
    status, body = _get(url + "/_stcore/health")
    assert (status, body.strip()) == (200, b"ok")
    cert = (run / "cert.pem").read_text()
    assert "BEGIN CERTIFICATE" in cert  # made by openssl at launch
    # Fresh visitors (no cookie) are spread over both processes ...
    for _ in range(20):
        _get(url + "/")
    ups = {e["up"] for e in route_log(run) if e["path"] == "/"}
    assert len(ups) == 2, f"20 new visitors all went to {ups}"


def test_upload_and_media_through_nginx(lan, browser):
    url, run = lan
    from cnnviz.inputs.gallery import sample_bytes

    photo = run / "my_cat.png"
    photo.write_bytes(sample_bytes("chelsea"))
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, ignore_https_errors=True)
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    sockets, frames, bad = [], [], []
    page.on("websocket", lambda ws: (sockets.append(ws), ws.on("framereceived", lambda f: frames.append(len(f)))))
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(url)
        wait_idle(page)
        page.get_by_text("forward pass").wait_for()
        upload_photo(page, photo)
        main = page.inner_text("main")
        assert re.search(r"tabby|tiger cat|Egyptian cat", main), main
        # both pictures (the photo, the model's 224×224 view) came through /media and decoded
        imgs = page.locator('main [data-testid="stImage"] img')
        assert imgs.count() >= 2
        widths = [imgs.nth(i).evaluate("e => e.complete ? e.naturalWidth : 0") for i in range(imgs.count())]
        assert all(w > 0 for w in widths), widths
        no_exception(page)
        assert not bad, bad
        # the websocket went through nginx over TLS, stayed open and carried the results
        streams = [ws for ws in sockets if ws.url == url.replace("https", "wss") + "/_stcore/stream"]
        assert len(streams) == 1 and not streams[0].is_closed(), [ws.url for ws in sockets]
        assert len(frames) > 10
        cookies = {c["name"]: c["value"] for c in ctx.cookies()}
        # The owner cookie (cnnviz/serving/owner_cookie.py) as the browser holds it behind TLS:
        # Secure from nginx's X-Forwarded-Proto, HttpOnly, SameSite=Strict.
        owner = next(c for c in ctx.cookies() if c["name"] == "cnnviz_owner")
        assert (owner["secure"], owner["httpOnly"], owner["sameSite"]) == (True, True, "Strict"), owner
        assert "cnnviz_owner" not in page.evaluate("document.cookie")
    except Exception:
        print("HTTP errors:", bad, "\naccess log:\n" + (run / "access.log").read_text()[-3000:])
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "test_upload_and_media_through_nginx.png"), full_page=True)
        raise
    finally:
        ctx.close()

    # Sticky: every request of this browser (page, websocket, upload, media) hit one process.
    # (nginx logs the websocket when it closes, just after ctx.close())
    for _ in range(40):
        log = [e for e in route_log(run) if e["route"] == cookies["cnnviz_route"]]
        if any(e["path"] == "/_stcore/stream" for e in log):
            break
        time.sleep(0.25)
    by_kind = defaultdict(set)
    for e in log:
        by_kind[e["path"].split("/")[1] or "index"].add(e["up"])
    assert {"_stcore", "media"} <= set(by_kind), dict(by_kind)
    assert len({e["up"] for e in log}) == 1, dict(by_kind)
    assert any(e["path"] == "/_stcore/stream" and e["status"] == "101" for e in log)
    assert any(
        e["method"] == "PUT" and e["path"].startswith("/_stcore/upload_file/") and e["status"] == "204" for e in log
    )


def test_protocol_client_through_nginx(lan):
    """Two sessions over wss each get their own upload's prediction (the load bench's path)."""
    url, run = lan
    from bench.load_client import AppSession
    from cnnviz.inputs.gallery import sample_bytes

    results = {}
    try:
        for name in ("chelsea", "coffee"):
            with AppSession(url) as s:
                s.open()
                s.choose("image_source", "Upload")
                r = s.upload("image_upload", f"{name}.jpg", sample_bytes(name))
                assert not r.errors, r.errors
                assert all(s.fetch(m)[:2] in (b"\xff\xd8", b"\x89P") for m in r.media)
                results[name] = r.text()
                if s.reconnects:  # a closed handshake, tried again as the frontend does
                    print(f"{name}: {s.reconnects} websocket handshake(s) closed unanswered")
    except Exception:
        for log in ("error.log", "access.log", "launcher.log"):
            if (run / log).exists():
                print(f"--- {log}:\n" + (run / log).read_text(errors="replace")[-3000:])
        raise
    assert re.search(r"tabby|tiger cat|Egyptian cat", results["chelsea"]), results["chelsea"]
    assert re.search(r"espresso|cup|coffee mug", results["coffee"]), results["coffee"]


def test_live_camera_through_nginx(lan, browser):
    """The Live page's frames (POST /api/live/frame) go over the recipe's TLS, on the page's
    sticky route, and come back answered: the camera needs this secure origin off localhost."""
    url, run = lan
    cam = browser.browser_type.launch(
        executable_path=chromium(),
        headless=True,
        args=[*LAUNCH_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
    )
    try:
        ctx = cam.new_context(viewport={"width": 1280, "height": 720}, ignore_https_errors=True, permissions=["camera"])
        page = ctx.new_page()
        page.set_default_timeout(90_000)
        page.goto(url + "/live")
        wait_idle(page)
        assert page.evaluate("window.isSecureContext")
        page.locator("ol.top li").first.wait_for()
        no_exception(page)
        route = next(c["value"] for c in ctx.cookies() if c["name"] == "cnnviz_route")
        ctx.close()
    finally:
        cam.close()
    log = [e for e in route_log(run) if e["route"] == route]
    frames = [e for e in log if e["path"] == "/api/live/frame"]
    # 200 each, but the one in flight when the tab closed (nginx's 499: the client went away)
    assert sum(e["status"] == "200" for e in frames) >= len(frames) - 1 >= 0 and frames, frames[:3]
    assert all(e["status"] in ("200", "499") and e["method"] == "POST" for e in frames), frames
    assert len({e["up"] for e in log}) == 1  # the frames reached the process that holds the page's stream
