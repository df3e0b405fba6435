"""Links through AppTest: presenter mode, locked choices, an uploaded photo opened from its link."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from cnnviz.gallery import sample_bytes
from cnnviz.images import decode_image

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_link(page: str, **query: str) -> AppTest:
    """A fresh session that opens ``page`` with ``query`` (AppTest starts on the home page)."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_presenter_mode_hides_the_sidebar_choices():
    at = open_link("pages/features.py", image="chelsea", layer="blocks.3.expand.act", present="1")
    keys = {w.key for w in at.selectbox} | {w.key for w in at.radio}
    assert "model_name" not in keys and "gallery_choice" not in keys  # the pickers are not drawn
    assert "feat_layer" in keys  # the page's own choices are
    assert any("Presenter mode" in c.value for c in at.caption)
    assert at.query_params["present"] == "1"
    assert at.session_state["feat_layer"] == "blocks.3.expand.act"


def test_locked_choices_come_back_from_the_link():
    at = open_link(
        "pages/features.py", image="chelsea", layer="blocks.3.expand.act", sort="mean", present="1", lock="1"
    )
    assert at.radio(key="feat_sort").value == "mean"
    at.radio(key="feat_sort").set_value("max").run()  # a student clicks
    assert not at.exception
    assert at.radio(key="feat_sort").value == "mean" and at.query_params["sort"] == "mean"
    at.toggle(key="link_lock").set_value(False).run()  # the teacher unlocks: choices are free again
    at.radio(key="feat_sort").set_value("max").run()
    assert at.radio(key="feat_sort").value == "max" and at.query_params["sort"] == "max"


def test_an_uploaded_photo_opens_from_its_link_in_another_session():
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["image_source"] = "Upload"
    at.run()
    data = sample_bytes("rocket")  # a JPEG
    at.file_uploader(key="image_upload").upload("launch.jpg", data, "image/jpeg").run()
    assert not at.exception
    ref = at.query_params["image"]
    assert re.fullmatch(r"upload:[0-9a-f]{64}", ref)
    headline = at.subheader[0].value

    other = open_link("pages/home.py", image=ref)
    assert not other.warning, [w.value for w in other.warning]
    assert other.subheader[0].value == headline  # same prediction, same probability
    shared = other.session_state["image_bytes"]
    np.testing.assert_array_equal(np.asarray(decode_image(shared)), np.asarray(decode_image(data)))


def test_compare_models_pair_comes_from_the_link():
    at = open_link("pages/compare_models.py", image="digit_7", a="tinyvgg_mnist", b="tinyvgg_mnist", b_weights="random")
    assert at.selectbox(key="cmp_model_a").value == "tinyvgg_mnist"
    assert at.selectbox(key="cmp_model_b").value == "tinyvgg_mnist"
    assert at.radio(key="cmp_weights_b").value == "random"
    assert at.query_params["a"] == "tinyvgg_mnist" and at.query_params["b_weights"] == "random"
    bad = open_link("pages/compare_models.py", a="no_such_model")
    assert any("no_such_model" in w.value or "model" in w.value for w in bad.warning)
