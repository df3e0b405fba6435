"""Links through AppTest: presenter mode, locked choices, an uploaded photo opened from its link."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.inputs.gallery import sample_bytes
from cnnviz.inputs.images import decode_image
from cnnviz.ui import held_photos
from cnnviz.ui.held_photos import HeldPhotos
from testing.helpers import nav_pages

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


def test_an_uploaded_photo_opens_from_its_link_in_another_session(monkeypatch):
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["image_source"] = "Upload"
    at.run()
    data = sample_bytes("rocket")  # a JPEG
    at.file_uploader(key="image_upload").upload("launch.jpg", data, "image/jpeg").run()
    assert not at.exception
    ref = at.query_params["image"]
    assert re.fullmatch(r"upload:[0-9a-f]{64}", ref)
    headline = at.header[0].value

    other = open_link("pages/home.py", image=ref)
    assert not other.warning, [w.value for w in other.warning]
    assert other.header[0].value == headline  # same prediction, same probability
    shared = held_photos.STORE.get(other.session_state["image_bytes"])  # the session holds a ticket
    np.testing.assert_array_equal(np.asarray(decode_image(shared)), np.asarray(decode_image(data)))
    # the caps let the photo go from memory: it is on disk by its link, so it comes back from there
    monkeypatch.setattr(held_photos, "STORE", HeldPhotos())
    other.run()
    assert not other.exception and not other.warning, [w.value for w in other.warning]
    assert other.header[0].value == headline
    assert held_photos.STORE.get(other.session_state["image_bytes"]) == shared


def test_compare_models_pair_comes_from_the_link():
    at = open_link("pages/compare_models.py", image="digit_7", a="tinyvgg_mnist", b="tinyvgg_mnist", b_weights="random")
    assert at.selectbox(key="cmp_model_a").value == "tinyvgg_mnist"
    assert at.selectbox(key="cmp_model_b").value == "tinyvgg_mnist"
    assert at.radio(key="cmp_weights_b").value == "random"
    assert at.query_params["a"] == "tinyvgg_mnist" and at.query_params["b_weights"] == "random"
    bad = open_link("pages/compare_models.py", a="no_such_model")
    assert any("no_such_model" in w.value or "model" in w.value for w in bad.warning)


def _conv_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_a_convolution_link_sets_the_kernel_cells_and_the_stepped_output_pixel():
    """cells= (the student's kernel), row=/col= (the stepper's output pixel) come back from a link;
    the traced value is checked against torch's conv2d with that kernel."""
    import torch
    import torch.nn.functional as F

    from cnnviz.models.zoo import get_info
    from cnnviz.teaching.convolution import to_grey

    cells = "0,1.5,0,-2,0.25,-2,0,1.5,-0.125"
    at = open_link(
        "pages/convolution.py",
        image="grace_hopper",
        kernel="Sobel x",
        cells=cells,
        stride="2",
        padding="0",
        row="20",
        col="31",
    )
    assert not at.warning, [w.value for w in at.warning]
    text = _conv_text(at)
    assert "output pixel (row 20, column 31)" in text
    assert "*your kernel (edited from Sobel x)*" in "\n".join(c.value for c in at.caption)
    photo = decode_image(sample_bytes("grace_hopper"))
    grey = torch.from_numpy(to_grey(get_info("efficientnet_lite0").preprocess.crop(photo)))[None, None]
    kernel = torch.tensor([float(v) for v in cells.split(",")], dtype=torch.float32).reshape(1, 1, 3, 3)
    want = F.conv2d(grey, kernel, stride=2)[0, 0, 20, 31].item()
    shown = float(re.search(r"output pixel \(row 20, column 31\) is \*\*(-?[\d.]+)\*\*", text).group(1))
    assert abs(shown - want) < 0.006
    q = at.query_params
    assert q["cells"] == cells and (q["row"], q["col"]) == ("20", "31") and q["kernel"] == "Sobel x"
    # the stepper moved by the student goes into the link, and a preset's kernel leaves cells= out
    at.slider(key="conv_pos").set_value(1).run()
    assert not at.exception
    row, col = (int(v) for v in re.search(r"output pixel \(row (\d+), column (\d+)\)", _conv_text(at)).groups())
    assert (at.query_params["row"], at.query_params["col"]) == (str(row), str(col)) != ("20", "31")
    at.selectbox(key="conv_preset").set_value("identity").run()
    assert "cells" not in at.query_params


def test_a_preprocessing_link_sets_the_pixel():
    at = open_link("pages/preprocessing.py", image="chelsea", row="5", col="200")
    assert not at.warning, [w.value for w in at.warning]
    assert at.slider(key="pre_pixel_row").value == 5 and at.slider(key="pre_pixel_col").value == 200
    assert any("Pixel (5, 200) of the 224×224 picture" in c.value for c in at.caption)
    assert (at.query_params["row"], at.query_params["col"]) == ("5", "200")
    bad = open_link("pages/preprocessing.py", image="chelsea", row="224", col="-3")
    message = " ".join(w.value for w in bad.warning)
    assert "row `224` does not exist" in message and "col `-3`" in message
    assert bad.slider(key="pre_pixel_row").value == 112 and not bad.exception


def _digits_checkpoint() -> bytes:
    """TinyVGG's shipped weights with the last layer's scaled: the same digits model, other
    probabilities (so the prediction shows which weights were used)."""
    from safetensors.torch import load_file, save

    from cnnviz.models.zoo import SHIPPED_DIR

    state = load_file(SHIPPED_DIR / "tinyvgg_mnist.safetensors")
    last = [k for k in state if k.endswith("weight")][-1]
    state[last] = state[last] * 0.25
    return save(state)


def test_a_link_to_uploaded_weights_opens_them_in_another_session():
    import hashlib

    data = _digits_checkpoint()
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["model_name"] = "tinyvgg_mnist"
    at.session_state["weights_choice"] = "file"
    at.session_state["gallery_choice"] = "digit_7"
    at.run()
    at.file_uploader(key="weights_upload").upload("my_digits.safetensors", data, "application/octet-stream").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    ref = at.query_params["weights"]
    assert ref == "upload:" + hashlib.sha256(data).hexdigest()
    headline = at.header[0].value

    other = open_link("pages/home.py", model="tinyvgg_mnist", image="digit_7", weights=ref)
    assert not other.warning and not other.error, [w.value for w in other.warning]
    assert other.header[0].value == headline  # the same prediction with the same probability
    assert Path(other.session_state["weights_path"]).read_bytes() == data
    assert other.query_params["weights"] == ref  # and its own link names them too
    captions = [c.value.replace("\\", "") for c in other.caption]  # shown as text: markdown escaped
    assert "Using the weights file from the link: my_digits.safetensors" in captions
    trained = open_link("pages/home.py", model="tinyvgg_mnist", image="digit_7", weights="pretrained")
    assert trained.header[0].value != headline  # the shipped weights predict with another probability


def test_a_link_to_weights_not_on_this_server_gets_one_message_and_the_defaults():
    for raw, phrase in (
        ("upload:" + "0" * 64, "is not on this server"),
        ("upload:1234", "64 hexadecimal digits"),
        ("upload:<script>", "64 hexadecimal digits"),
        ("x" * 10_000, "too long"),
        ("trained", "is not one of pretrained, random"),
    ):
        at = open_link("pages/home.py", model="tinyvgg_mnist", image="digit_7", weights=raw)
        assert len(at.warning) == 1 and phrase in at.warning[0].value, (raw, [w.value for w in at.warning])
        assert at.session_state["weights_choice"] == "pretrained" and not at.error and not at.exception
        assert at.query_params["weights"] == "pretrained"


@pytest.mark.parametrize("page", [path for path, _ in nav_pages()])
def test_every_page_writes_its_view_and_shows_the_share_panel(page):
    """A page that ends with st.stop() on its usual path loses what links.end does after it: the
    URL and the Share panel (Grad-CAM's sweep toggle once did)."""
    at = open_link(page, image="chelsea")
    assert at.query_params.get("model") == "efficientnet_lite0" and at.query_params.get("image") == "chelsea", page
    assert any(b.label == "Show the QR code" for b in at.button), page


def test_a_link_longer_than_any_of_the_app_is_refused_with_a_message():
    """Issue 23: sessions opened with a 20 MB query string kept it; the app's own links are
    under 1 kB, so a query over 4,000 characters is refused whole and not kept."""
    at = open_link("pages/features.py", image="coffee", junk="x" * 5000)
    notes = [w.value for w in at.warning]
    assert any("the link is too long (5,019 characters" in n and "at most 4,000" in n for n in notes), notes
    assert "junk" not in at.query_params and at.query_params["image"] != "coffee"  # none of it was used
    at = open_link("pages/features.py", image="coffee", junk="x" * 3900)  # within the cap: used
    assert at.query_params["image"] == "coffee"
