"""A fresh server's first frame (cnnviz/ui/first_frame.py) through AppTest: what a run draws
while the warm start still imports torch, and the page itself once it is done."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.i18n import _, use
from cnnviz.ui import first_frame, menu, warm_start

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def starting(monkeypatch):
    """A warm start begun and not done (this process's own is never begun under AppTest)."""
    begun = threading.Lock()
    begun.acquire()
    monkeypatch.setattr(warm_start, "_started", begun)
    monkeypatch.setattr(warm_start, "READY", threading.Event())
    monkeypatch.setattr(warm_start, "_callbacks", [first_frame._rerun_waiting])  # as its import left it
    monkeypatch.setattr(first_frame, "_waiting", set())


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def test_predict_s_first_frame_is_its_heading_and_photo_then_the_page(starting):
    at = _run(AppTest.from_file(APP, default_timeout=300))
    assert [t.value for t in at.title] == [menu.HOME_TITLE]
    assert [i.value for i in at.info] == [first_frame.LOADING]
    (photo,) = at.get("image")
    assert photo.proto.imgs[0].alt == "Your photo “Grace Hopper”, 512×600 pixels."
    assert not at.header and not at.sidebar.selectbox  # no answer, no model picker yet
    assert len(first_frame._waiting) == 1  # the session runs again at READY
    warm_start._set_ready()
    assert first_frame._waiting == set()  # rerun_session: without a server, nothing to wake
    _run(at)
    assert [t.value for t in at.title] == [menu.HOME_TITLE]
    assert not at.info and len(at.header) == 1  # the answer
    assert at.sidebar.selectbox  # the model picker


def test_a_link_s_page_gets_its_name_in_the_link_s_language_and_no_photo(starting):
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update({"lang": "de", "layer": "blocks.3.expand.act", "image": "chelsea"})
    at.switch_page("pages/features.py")
    _run(at)
    with use("de"):
        assert [t.value for t in at.title] == [_("Feature maps")]
        assert [i.value for i in at.info] == [_(first_frame.LOADING)]
    assert at.title[0].value != "Feature maps" and not at.get("image")
    warm_start._set_ready()
    _run(at)
    assert not at.info or at.info[0].value != first_frame.LOADING
    assert at.query_params["layer"] == "blocks.3.expand.act"  # the link's view, kept for the page itself


def test_a_warm_server_and_streamlit_run_app_py_never_draw_it():
    at = _run(AppTest.from_file(APP, default_timeout=300))  # under AppTest no warm start begins
    assert len(at.header) == 1 and first_frame.LOADING not in [i.value for i in at.info]
