"""Issue 29 in the app: a timm CNN typed by name in the sidebar becomes the model of every page
(random weights offline, marked as such), a link names one, and a transformer is refused with
its sentence; every listed architecture renders Feature maps."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from cnnviz.models import timm_zoo
from cnnviz.ui import state

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def _empty_torch_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))  # no trained weights here


def _texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.markdown, at.caption, at.warning, at.info) for e in kind)


def _open(model: str, page: str | None = None) -> AppTest:
    """A fresh session opened by a link naming ``model`` with random weights, on ``page``."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["model"] = model
    at.query_params["weights"] = "random"
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, f"{model}: {at.exception}"
    return at


def test_every_listed_timm_cnn_renders_feature_maps():
    for arch in timm_zoo.SUGGESTED:
        at = _open(timm_zoo.PREFIX + arch, "pages/features.py")
        assert not at.error, [e.value for e in at.error]
        assert at.session_state[state.MODEL] == timm_zoo.PREFIX + arch
        text = _texts(at)
        assert "channels of" in text, arch  # the layer line of Feature maps
        assert "random" in text.lower(), arch  # random weights say so


def test_a_name_typed_in_the_sidebar_becomes_the_model():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.text_input(key=state.TIMM_NAME).set_value("vit_base_patch16_224").run()
    assert not at.exception
    assert at.session_state[state.MODEL] == "efficientnet_lite0"  # refused: the model stays
    assert any("convolutional networks only" in e.value for e in at.sidebar.error)
    at.text_input(key=state.TIMM_NAME).set_value(" RegNetY_008 ").run()  # spaces and case forgiven
    assert not at.exception and not at.error
    assert at.session_state[state.MODEL] == "timm:regnety_008"
    assert at.session_state[state.WEIGHTS] == state.WEIGHTS_RANDOM  # offline: no trained weights here
    assert at.sidebar.selectbox(key=state.MODEL).value == "timm:regnety_008"
    assert "regnety_008 (timm)" in at.sidebar.selectbox(key=state.MODEL).options
    assert not any(e.value for e in at.sidebar.error)


def test_a_link_names_a_timm_model_and_an_unknown_one_says_why():
    at = _open("timm:resnet_made_up")
    assert at.session_state[state.MODEL] == state.DEFAULT_MODEL
    assert any("has no model called 'resnet_made_up'" in e.value for e in at.sidebar.error)
