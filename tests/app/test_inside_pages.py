"""Model, Feature maps and Filters pages through AppTest: every zoo model, RGB and 1-channel."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.elements.lib import policies
from streamlit.testing.v1 import AppTest

from cnnviz.models.zoo import TORCHVISION_MODELS
from testing.helpers import save_digits_model

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = ("pages/model.py", "pages/features.py", "pages/filters.py")


def show(at: AppTest, page: str, model: str, weights: str) -> AppTest:
    """Switch to ``page`` with the sidebar's model and weights set; no exception, no error box."""
    at.switch_page(page)
    return rerun(at, model, weights)


def rerun(at: AppTest, model: str | None = None, weights: str | None = None) -> AppTest:
    # After a page switch AppTest (1.67) keeps the sidebar's widgets out of the tree, so their
    # values fall out of the session: set the sidebar's choice through state before each run.
    at.model, at.weights = model or at.model, weights or at.weights
    at.session_state["model_name"] = at.model
    at.session_state["weights_choice"] = at.weights
    at.run()
    assert not at.exception, f"{at.model}: {at.exception}"
    assert not at.error, f"{at.model}: {[e.value for e in at.error]}"
    return at


@pytest.fixture(scope="module")
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=300)
    app.run()
    app.model, app.weights = "efficientnet_lite0", "pretrained"
    return app


def test_every_page_renders_for_every_zoo_model(at):
    models = [("efficientnet_lite0", "pretrained"), ("zfmini", "pretrained")] + [
        (n, "random") for n in TORCHVISION_MODELS
    ]
    for model, weights in models:
        for page in PAGES:
            show(at, page, model, weights)
        assert any(" filters of " in m.value for m in at.markdown), model


def test_feature_controls_switch_layer_sort_and_channel(at):
    show(at, "pages/features.py", "resnet18", "random")
    assert at.selectbox(key="feat_layer").value == "relu"  # first activation
    at.selectbox(key="feat_layer_block").set_value("layer2.0")
    rerun(at)
    assert at.selectbox(key="feat_layer").value == "layer2.0.conv1"  # a new block starts on its first layer
    at.selectbox(key="feat_layer").set_value("layer2.0.conv1")
    rerun(at)
    at.radio(key="feat_sort").set_value("max")
    rerun(at)
    at.radio(key="feat_norm").set_value("global")
    rerun(at)
    assert not at.exception and not at.error
    text = "\n".join(m.value for m in at.markdown)
    assert "**layer2.0.conv1** · Conv2d · 128 channels of 28×28" in text
    assert any("Blue: negative" in c.value for c in at.caption)  # a conv output before its ReLU is signed
    at.slider(key="feat_unit_row").set_value(0)
    rerun(at)
    at.slider(key="feat_unit_col").set_value(0)
    rerun(at)
    # layer2.0.conv1: layer1 ends at rf 43, jump 4; a 3x3 conv adds 2·4 → 51, and
    # unit 0 is centred on pixel 0 → rows −25..25, clipped to 0–25
    assert any("rows 0–25, columns 0–25" in c.value for c in at.caption), [c.value for c in at.caption]


def test_filters_page_compares_with_random_init(at):
    show(at, "pages/filters.py", "efficientnet_lite0", "pretrained")
    assert [s.value for s in at.header][:2] == ["Trained", "Random init (untrained)"]
    at.selectbox(key="filt_layer_block").set_value("blocks.3")
    rerun(at)
    at.radio(key="filt_mode").set_value("channel")
    rerun(at)
    at.number_input(key="filt_channel").set_value(5)
    rerun(at)
    assert not at.exception and not at.error


def test_filters_page_shows_zfmini_7x7_colour_filters(at):
    """Issue 25: the offline classic first layer, 64 colour filters of 7×7, next to its random init."""
    show(at, "pages/filters.py", "zfmini", "pretrained")
    assert at.selectbox(key="filt_layer").value == "features.conv1"
    assert any(m.value.startswith("**features.conv1**: 64 filters of 3×7×7 weights") for m in at.markdown)
    assert [s.value for s in at.header][:2] == ["Trained", "Random init (untrained)"]


def test_one_channel_user_model(_isolated_user_models):
    save_digits_model(_isolated_user_models, "digits1", "Digits (test)", invert=True)
    # A fresh app, started after the model was saved: the shared one's sidebar still lists
    # the models of its first run, and AppTest refuses a value outside a selectbox's options.
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    for page in PAGES:
        show(at, page, "digits1", "pretrained")
    assert any("filters of 1×" in m.value for m in at.markdown)


@pytest.mark.parametrize(
    ("page", "keys"),
    [
        ("pages/filters.py", ("filt_channel",)),
        ("pages/activations.py", ("act_slope", "act_channel", "act_temperature")),
    ],
)
def test_link_set_widgets_leave_their_value_to_the_session(at, monkeypatch, page, keys):
    """Issue 25: links and clamp() set these widgets' values; a default value beside the key
    made Streamlit log "created with a default value but also had its value set via the
    Session State API" on the server. Streamlit's check (policies) must see no default."""
    seen: list = []
    check = policies.check_session_state_rules

    def spy(default_value, key, writes_allowed=True):
        seen.append((key, default_value))
        return check(default_value, key, writes_allowed)

    monkeypatch.setattr(policies, "check_session_state_rules", spy)
    show(at, page, "efficientnet_lite0", "pretrained")
    for key in keys:
        defaults = [d for k, d in seen if k == key]
        assert defaults and defaults == [None] * len(defaults), (key, defaults)
