"""Issue 31: nothing a user relies on is kept in one process.

Three app processes, each with its own temp folder and only ``CNNVIZ_SHARED_DIR`` in common,
behind serve/'s nginx config with sticky cookies (testing/replica_cluster.py), as the
replicas of deploy/ are behind their ingress. Students are Streamlit protocol sessions
(bench.load_client: one session is one browser tab; ``owner`` is its owner cookie, ``route``
nginx's); the restart notice is also checked in real Chromium.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file, save
from streamlit.proto.Common_pb2 import DoubleArray
from websockets.exceptions import ConnectionClosed

from bench.load_client import AppSession, ProtocolError
from cnnviz.lessons.links import PRIVATE_LINK
from cnnviz.models.zoo import SHIPPED_DIR
from cnnviz.ui import state
from cnnviz.ui.replica import RESTARTED
from cnnviz.ui.train_widgets import SOURCES
from testing.browser import no_exception, route_log, wait_idle
from testing.replica_cluster import cluster

ANN, BOB, CAT = (uuid.uuid4().hex for _ in range(3))  # three browsers' owner tokens
# every picture the app serves, in the page and in its components' shadow roots
PICTURES = """
const roots = (d) => [d, ...[...d.querySelectorAll("*")].filter(e => e.shadowRoot).flatMap(e => roots(e.shadowRoot))];
const pics = roots(document).flatMap(r => [...r.querySelectorAll('img[src*="/media/"]')]);
"""
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def c(tmp_path_factory):
    with cluster(tmp_path_factory.mktemp("replicas"), 3) as c:
        yield c


def tab(c, i: int, owner: str, **kw) -> AppSession:
    """A browser tab of ``owner`` that nginx sends to process ``i``."""
    s = AppSession(c.url, timeout=180, owner=owner, **kw)
    s.http.cookies.set("cnnviz_route", c.routes[i])
    return s


def checkpoint(i: int) -> bytes:
    """The shipped digits model's weights, one weight nudged: a valid checkpoint of its own."""
    sd = {k: v.clone() for k, v in load_file(str(SHIPPED_DIR / "tinyvgg_mnist.safetensors")).items()}
    sd["features.0.conv.weight"][0, 0, 0, 0] += i * 1e-3
    return save(sd)


def photo(i: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(i).integers(0, 256, (120, 150, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def start_training(s: AppSession, epochs: int, dataset: str = "digits") -> None:
    s.switch_page("Train")
    s.choose(state.TRAIN_SOURCE, SOURCES[dataset])
    s.set_widget(state.TRAIN_EPOCHS, double_array_value=DoubleArray(data=[epochs]))
    run = s.click(state.TRAIN_START)
    assert not run.errors, run.errors


def train_and_save(s: AppSession, name: str) -> None:
    """Train the digits model for one epoch on the Train page and save it, private, as ``name``."""
    start_training(s, 1)
    deadline = time.time() + 120
    while "Save your model" not in (run := s.poll() or s.rerun()).text():
        assert time.time() < deadline and not run.errors, run.errors
        time.sleep(0.5)
    s.set_widget(state.TRAIN_SAVE_NAME, string_value=name)
    run = s.click(state.TRAIN_SAVE)
    assert not run.errors and "Saved as" in run.text(), run.text()[-500:]


def drawn(run, without: str = "\0") -> list[tuple[str, str]]:
    """What a run drew, blanks and one notice apart."""
    return [(kind, content) for kind, content in run.view if kind != "empty" and without not in content]


def model_options(run) -> str:
    return next(c for k, c in run.view if k == "selectbox" and c.startswith("Model"))


def test_links_and_a_private_model_made_on_process_1_open_on_process_3_for_their_owner(c):
    with tab(c, 0, ANN) as s:
        s.open("model=tinyvgg_mnist")
        s.choose("weights_choice", "My file")
        assert not s.upload("weights_upload", "ann.safetensors", checkpoint(1), "application/octet-stream").errors
        s.choose("image_source", "Upload")
        assert not s.upload("image_upload", "ann.png", photo(1), "image/png").errors
        link = s.query_string
        train_and_save(s, "ann_private_p1")
    digest = hashlib.sha256(checkpoint(1)).hexdigest()
    assert f"weights=upload%3A{digest}" in link and "image=upload" in link
    # on process 3, whose temp folder never saw them
    assert not any(digest in str(p) for p in c.temps[2].rglob("*"))
    for owner in (ANN, BOB):  # anyone with the link sees its photo and weights (README)
        with tab(c, 2, owner) as s:
            text = s.open(link).text().replace("\\", "")
        assert "not on this server" not in text
        assert "Using the weights file from the link: ann.safetensors" in text and "Using: shared photo" in text
    with tab(c, 2, ANN) as s:
        run = s.open("model=ann_private_p1&image=digit_7")
        assert PRIVATE_LINK not in run.text() and "ann_private_p1 (yours)" in model_options(run)
    with tab(c, 2, BOB) as s:
        run = s.open("model=ann_private_p1&image=digit_7")
        assert PRIVATE_LINK in run.text().replace("\\", "") and "ann_private_p1" not in model_options(run)


def test_a_model_saved_on_process_2_is_listed_to_its_owner_on_every_process(c):
    with tab(c, 1, ANN) as s:
        s.open()
        train_and_save(s, "ann_saved_p2")
    for i in range(3):
        with tab(c, i, ANN) as s:
            assert "ann_saved_p2 (yours)" in model_options(s.open())
        with tab(c, i, BOB) as s:
            assert "ann_saved_p2" not in model_options(s.open())
    (sidecar,) = (c.shared / "user_models").glob("ann_saved_p2.json")
    assert json.loads(sidecar.read_text())["shared"] is False


def whole_files(shared: Path) -> int:
    """Check every file the stores named is whole: content-addressed ones match their name,
    models load, photos decode. Returns how many were checked."""
    n = 0
    for png in (shared / "images").glob("*.png"):
        data = png.read_bytes()
        assert hashlib.sha256(data).hexdigest() == png.stem, png
        Image.open(io.BytesIO(data)).load()
        n += 1
    for f in (shared / "uploads").glob("*/*"):
        if f.is_file() and not f.name.startswith("."):
            assert hashlib.sha256(f.read_bytes()).hexdigest() == f.parent.name, f
            n += 1
    for sidecar in (shared / "user_models").glob("*.json"):
        json.loads(sidecar.read_text())
        load_file(str(sidecar.with_suffix(".safetensors")))
        n += 1
    return n


def test_stopping_process_1_mid_walk_moves_its_sessions_and_loses_no_saved_file(c):
    ann, cat = tab(c, 0, ANN), tab(c, 0, CAT)
    stop_flood = threading.Event()
    flooded: list[int] = []

    def flood() -> None:  # a classmate on process 1 keeps storing photos: writes in flight at the kill
        with tab(c, 0, BOB) as s:
            s.open()
            s.choose("image_source", "Upload")
            for i in range(100, 200):
                if stop_flood.is_set():
                    return
                try:
                    s.upload("image_upload", f"b{i}.png", photo(i), "image/png")
                except Exception:  # the process died under it (a closed socket, a refused request)
                    return
                flooded.append(i)

    try:
        ann.open("image=chelsea")
        ann.switch_page("Feature maps")
        cat.open()
        start_training(cat, 30, "mnist5k")  # about 10 s of work: still running at the kill
        deadline = time.time() + 120
        while "Step 0 of" in (cat.poll() or cat.rerun()).text():  # queued, or building: not yet learning
            assert time.time() < deadline
            time.sleep(0.3)
        flooder = threading.Thread(target=flood)
        flooder.start()
        while len(flooded) < 3:
            assert flooder.is_alive() and time.time() < deadline
            time.sleep(0.1)
        before = {p: p.read_bytes() for p in c.shared.rglob("*.png")}
        assert len(list((c.shared / "trainings").rglob("*.json"))) == 1  # Cat's, still running
        query, page, old_session = ann.query_string, ann.page_hash, ann.session_id
        c.procs[0].kill()  # a crash: no clean shutdown
        c.procs[0].wait(10)
        stop_flood.set()
        flooder.join(60)
        with pytest.raises((ProtocolError, ConnectionClosed)):  # the tab's websocket died with its process
            ann.rerun()
    finally:
        ann.close()
        cat.close()
    # Ann's tab reconnects (naming its last session, as the frontend does): another process, same view
    with tab(c, 0, ANN, resume=old_session) as s:
        back = s.open(query, page_hash=page)
        with tab(c, 0, ANN) as fresh:  # the same link opened anew on that process
            same = fresh.open(query, page_hash=page)
        s.switch_page("Grad-CAM")  # the walk goes on there
        assert not s.rerun().errors
    assert not back.errors and RESTARTED in back.text()
    assert RESTARTED not in same.text()
    # the same view, the notice apart (and its script that fetches failed pictures again; an
    # "empty" is a spinner's place, left where a cache was cold)
    extra = [v for v in drawn(back, without=RESTARTED) if v not in drawn(same)]
    assert [kind for kind, _ in extra] == ["html"]
    assert [v for v in drawn(back, without=RESTARTED) if v not in extra] == drawn(same)
    ups = {e["up"] for e in route_log(c.run) if e["route"] == c.routes[0] and e["path"] == "/_stcore/stream"}
    assert len(ups) == 2, ups  # process 1's websocket, then another's
    # Cat's training is reported interrupted, on whichever process she lands
    with tab(c, 0, CAT) as s:
        text = s.open().text()
        assert "Your training (" in text and "was interrupted" in text, text[:600]
    assert not list((c.shared / "trainings").rglob("*.json"))
    # nothing saved lost, nothing half-written
    for p, data in before.items():
        assert p.read_bytes() == data, p
    assert len(before) >= 3 and whole_files(c.shared) >= len(before)


def test_chromium_shows_the_restart_notice_after_its_process_stops(c, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, ignore_https_errors=True)
    ctx.add_cookies([{"name": "cnnviz_route", "value": c.routes[1], "url": c.url}])
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        page.goto(c.url + "/features?model=tinyvgg_mnist&image=digit_7&layer=features.0.act")
        wait_idle(page)
        page.get_by_text("Feature maps").first.wait_for()
        assert page.get_by_text("The server restarted").count() == 0
        c.stop(1)  # as Kubernetes stops a pod: SIGTERM
        deadline = time.time() + 60
        while len(sockets) < 2:  # the frontend reconnects by itself; nginx sends it to another process
            assert time.time() < deadline, "the tab did not reconnect"
            page.wait_for_timeout(250)
        # Streamlit's frontend reruns at the student's next click: the new process builds the
        # view from the URL (the link wins over that first click), with the notice on top
        page.get_by_text("max ↓").click()
        page.get_by_text("The server restarted").wait_for(timeout=90_000)
        wait_idle(page)
        assert "/features" in page.url and "image=digit_7" in page.url and "layer=features.0.act" in page.url
        assert page.locator("main").get_by_text("features.0.act").count() > 0
        no_exception(page)
        # every picture shows, also one the stale page asked the new process for before it had it
        page.mouse.wheel(0, 5000)
        assert page.evaluate("() => {" + PICTURES + "return pics.length }") >= 2
        page.wait_for_function(
            "() => {" + PICTURES + "return pics.every(i => i.complete && i.naturalWidth > 0) }", timeout=20_000
        )
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "replica_restart_notice.png"))
    finally:
        ctx.close()
