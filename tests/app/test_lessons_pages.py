"""AppTest of the Preprocessing and Compare-models pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.ui import state

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_page(page: str, **preset) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in preset.items():
        at.session_state[k] = v
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.markdown, at.caption, at.header, at.subheader, at.success) for e in kind)


@pytest.mark.parametrize(
    ("model", "weights", "expect"),
    [
        ("efficientnet_lite0", "pretrained", "The channels go in as R, G, B."),
        ("squeezenet1_1", "pretrained", "The channels go in as B, G, R (Caffe's order)."),
        ("tinyvgg_mnist", "pretrained", "Greyscale"),
    ],
)
def test_preprocessing_page_steps_and_the_fed_tensor(model, weights, expect):
    at = open_page("pages/preprocessing.py", model_name=model, weights_choice=weights, gallery_choice="chelsea")
    assert not at.error, [e.value for e in at.error]
    t = texts(at)
    assert expect in t
    assert "These are exactly the numbers Predict feeds this model, checked one by one." in t
    size = {"efficientnet_lite0": 224, "squeezenet1_1": 227, "tinyvgg_mnist": 28}[model]
    shape = {m.label: m.value for m in at.metric}["Shape"]
    assert shape == f"1×{1 if model == 'tinyvgg_mnist' else 3}×{size}×{size}"
    # the pixel table follows the sliders
    at.slider(key=state.PRE_ROW).set_value(3).run()
    assert "Pixel (3, " in texts(at)
    # a mistake in the preprocessing: the second chart is its own prediction
    at.radio(key=state.PRE_VARIANT).set_value("squash").run()
    assert not at.exception
    assert f"Squashed to {size}×{size} instead of cropped" in texts(at)
    # and a sentence on what the mistake did, with the right top-1 in it
    said = [re.sub(r"\\(.)", r"\1", e.value) for e in at.info]  # as rendered: the class names are escaped
    assert len(said) == 1 and ("stays top-1" in said[0] or "The top-1 changed from" in said[0]), said


def _column_images(at: AppTest) -> int:
    return len(at.get("imgs"))


def test_compare_two_zoo_models_side_by_side():
    """EfficientNet-Lite0 (trained) beside SqueezeNet 1.1 (trained, offline): both top-5s,
    feature maps, filters and Grad-CAM of one shared ImageNet class."""
    at = open_page("pages/compare_models.py", gallery_choice="chelsea")
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key=state.CMP_MODEL_A).value == "efficientnet_lite0"
    assert at.selectbox(key=state.CMP_MODEL_B).value == "squeezenet1_1"
    assert len(at.get("vega_lite_chart")) == 2  # two top-5 charts
    target = at.selectbox(key=state.CMP_TARGET)
    assert target.label == "Class (1000 shared)"
    assert target.value is not None and "cat" in str(at.selectbox(key=state.CMP_TARGET).format_func(target.value))
    captions = "\n".join(c.value for c in at.caption)
    assert captions.count("strongest of") == 2 and "features.0" in captions  # SqueezeNet's first conv
    assert captions.count("“") == 2  # one Grad-CAM caption per model, on the same class
    # deeper: each model's layer moves to its own last activation
    at.slider(key=state.CMP_DEPTH).set_value(100).run()
    assert not at.exception
    assert "100% of the way" in "\n".join(c.value for c in at.caption)
    # trained vs random of one architecture
    at.button(key="cmp_lesson_same").click().run()
    assert not at.exception
    assert at.selectbox(key=state.CMP_MODEL_B).value == at.selectbox(key=state.CMP_MODEL_A).value
    assert at.radio(key=state.CMP_WEIGHTS_B).value == "random"


@pytest.fixture(scope="module")
def user_digits_model(_isolated_user_models):
    """A saved user model (TinyVGG, digit classes 0-9, untrained weights)."""
    from cnnviz.models import small_cnn, usermodels

    arch = {"kind": "tinyvgg"}
    model = small_cnn.build_model(arch, in_channels=1, num_classes=10, size=28)
    meta = {
        "title": "My digits",
        "arch": arch,
        "classes": [str(i) for i in range(10)],
        "preprocess": {"size": 28, "resize": 28, "mean": [0.1307], "std": [0.3081], "channels": 1},
        "dataset": "test",
    }
    usermodels.save(model, meta, _isolated_user_models / "my_digits")
    return "my_digits"


def test_compare_a_zoo_model_with_a_user_model(user_digits_model):
    at = open_page("pages/compare_models.py", gallery_choice="digit_7")
    at.button(key="cmp_lesson_digits").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key=state.CMP_MODEL_A).value == "tinyvgg_mnist"
    assert at.selectbox(key=state.CMP_MODEL_B).value == user_digits_model
    assert at.selectbox(key=state.CMP_TARGET).label == "Class (10 shared)"
    # an ImageNet model and a digits model share no class: said so, each explains its own top-1
    at.selectbox(key=state.CMP_MODEL_A).set_value("efficientnet_lite0").run()
    assert not at.exception
    assert any("share no class" in i.value for i in at.info)
    assert "\n".join(c.value for c in at.caption).count("“") == 2, [i.value for i in at.info]
