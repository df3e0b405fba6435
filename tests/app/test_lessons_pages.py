"""AppTest of the Preprocessing and Compare-models pages."""

from __future__ import annotations

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
    return "\n".join(e.value for kind in (at.markdown, at.caption, at.subheader, at.success) for e in kind)


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
    assert "Element for element the tensor Predict feeds this model." in t
    size = {"efficientnet_lite0": 224, "squeezenet1_1": 227, "tinyvgg_mnist": 28}[model]
    shape = {m.label: m.value for m in at.metric}["Shape"]
    assert shape == f"1×{1 if model == 'tinyvgg_mnist' else 3}×{size}×{size}"
    # the pixel table follows the sliders
    at.slider(key=state.PRE_ROW).set_value(3).run()
    assert "Pixel (3, " in texts(at)
    # a mistake in the preprocessing: the second chart is its own prediction
    at.radio(key=state.PRE_VARIANT).set_value("half").run()
    assert not at.exception
    assert "Someone else's mean/std" in texts(at)
