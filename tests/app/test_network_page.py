"""The Network page through AppTest: every zoo model and a 1-channel user model; a link's
layer/channel/unit, on the Network page and on Feature maps."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz.models.zoo import TORCHVISION_MODELS
from testing.helpers import page_text, run, save_digits_model

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/network.py"


def test_every_zoo_model():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(PAGE)
    expect = {
        "efficientnet_lite0": "stem · channel",  # the first column is the stem's output
        "resnet18": "maxpool · channel",
        "vgg16": "features.4 · channel",
        "googlenet": "conv1 · channel",
    }
    for model, weights in [
        ("efficientnet_lite0", "pretrained"),
        ("tinyvgg_mnist", "pretrained"),
        ("zfmini", "pretrained"),
    ] + [(n, "random") for n in TORCHVISION_MODELS]:
        at.session_state["net_layer"] = None  # each model starts on its first column
        run(at, model, weights)
        text = page_text(at)
        assert "The network" in text and "Value at (" in text, model
        if model in expect:
            assert expect[model] in text, (model, [s.value for s in at.header])
        if model in ("tinyvgg_mnist", "zfmini"):  # small models (<= 12 layers): every layer a column, no slider
            assert "every layer is a column" in text
            assert not [s for s in at.slider if s.key == "net_strongest"]
        else:
            assert at.slider(key="net_strongest").value == 8


def test_link_selects_a_conv_unit_and_shows_its_arithmetic():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(PAGE)
    at.query_params["layer"] = "features.2.conv"
    at.query_params["channel"] = "5"
    at.query_params["row"] = "3"
    at.query_params["col"] = "4"
    run(at, "tinyvgg_mnist", "pretrained")
    text = page_text(at)
    assert "features.2.conv · channel 5" in text
    assert "How this unit was computed" in text
    assert "unit (3, 4)" in text
    # then the radio (another widget) changes: the link is not applied again, the selection stays
    at.session_state["net_channel"] = 2
    at.radio(key="net_norm").set_value("global")
    run(at, "tinyvgg_mnist", "pretrained")
    assert "features.2.conv · channel 2" in page_text(at)
    # Feature maps opened by a link with the same layer, channel and unit (the page's button
    # passes these through st.switch_page; AppTest 1.67 runs a switched-to page without app.py,
    # so the button itself is exercised in Chromium)
    at.switch_page("pages/features.py")
    at.query_params["channel"] = "2"
    run(at, "tinyvgg_mnist", "pretrained")
    assert at.selectbox(key="feat_layer").value == "features.2.conv"
    assert at.selectbox(key="feat_channel").value == 2
    assert at.slider(key="feat_unit_row").value == 3 and at.slider(key="feat_unit_col").value == 4


def test_one_channel_user_model(_isolated_user_models):
    save_digits_model(_isolated_user_models, "net1", "Digits with batch norm (test)", batchnorm=True)
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(PAGE)
    at.query_params["layer"] = "features.0.act"
    run(at, "net1", "pretrained")
    text = page_text(at)
    assert "features.0.act · channel" in text
    # an activation after conv + batch norm: the arithmetic of its conv, through both steps
    assert "How this unit was computed" in text
    assert any("BatchNorm2d" in m.value and "ReLU" in m.value for m in at.markdown)


def test_model_page_draws_the_traced_graph_and_opens_blocks():
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("pages/model.py")
    run(at, "resnet18", "random")
    dot = at.get("graphviz_chart")[0].proto.spec
    assert '"block:layer1.0" -> "block:layer1.1"' in dot and "subgraph" not in dot
    at.multiselect(key="model_graph_open").set_value(["layer2.0"])
    run(at, "resnet18", "random")
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "subgraph cluster_2" in dot and '"layer2.0.downsample.1" -> "+3"' in dot  # the projection skip
    at.toggle(key="model_graph_open_all").set_value(True)
    run(at, "resnet18", "random")
    assert at.get("graphviz_chart")[0].proto.spec.count("subgraph cluster_") == 8
    run(at, "efficientnet_lite0", "pretrained")  # another model: the opened block is not offered there
    assert at.multiselect(key="model_graph_open").value == []
