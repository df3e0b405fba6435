"""Issue 29: an ONNX file uploaded as the sidebar's "My file" is the model of every page.

Four CNNs exported by the pinned torch in the test (ResNet-18 and SqueezeNet 1.1 with seeded
random weights, the shipped EfficientNet-Lite0 and TinyVGG), each uploaded once, then every
page of the menu rendered with it: no exception, no error box, and the pages show the
file's layers (named after its ONNX nodes), not the architecture picked above it."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.models.zoo import get_info, load_model
from testing.helpers import export_onnx, finish_jobs, make_app, nav_pages
from testing.helpers import page_text as text

PAGES = [path for path, _ in nav_pages()]
# name -> (weights of the original, its first conv in the file, its default (Grad-CAM) layer)
MODELS = {
    "resnet18": ("random", "conv1", "layer4.1.relu_1"),
    "squeezenet1_1": ("random", "features.0", "classifier.2"),
    "efficientnet_lite0": ("pretrained", "stem.conv", "head.act"),
    "tinyvgg_mnist": ("pretrained", "features.0.conv", "features.3.act"),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    """name -> the bytes of its ONNX export, each made once."""
    folder = tmp_path_factory.mktemp("onnx_pages")
    out = {}
    for name, (weights, _, _) in MODELS.items():
        lm = load_model(name, weights, device="cpu")
        spec = lm.preprocess_spec
        out[name] = export_onnx(lm.model, folder / f"{name}.onnx", size=spec.size, channels=spec.channels).read_bytes()
    return out


def upload(name: str, data: bytes) -> AppTest:
    """A fresh app whose sidebar model is EfficientNet-Lite0 with the ONNX file as "My file"."""
    at = make_app(model_name="efficientnet_lite0", weights_choice="file")
    at.file_uploader(key="weights_upload").upload(f"{name}.onnx", data, "application/octet-stream").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert any("An ONNX file is a whole model" in c.value for c in at.sidebar.caption)
    return at


def show(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    # AppTest (1.67) drops the sidebar's widgets after a page switch: the choice goes through state
    at.session_state["model_name"], at.session_state["weights_choice"] = "efficientnet_lite0", "file"
    at.run()
    assert not at.exception, f"{page}: {at.exception}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"
    return at


@pytest.mark.parametrize("name", list(MODELS))
def test_every_page_renders_with_an_onnx_model(files, name):
    _, conv, default = MODELS[name]
    at = upload(name, files[name])
    for page in PAGES:
        show(at, page)
    show(at, "pages/filters.py")
    assert f"**{conv}**: " in text(at), name  # the file's first conv, not EfficientNet-Lite0's
    assert any("no random initialisation of it is offered" in i.value for i in at.info)
    show(at, "pages/gradcam.py")
    assert at.session_state["gc_layer"] == default  # the last maps of the file's own network


def test_every_explanation_method_runs_on_an_onnx_model(files):
    at = upload("squeezenet1_1", files["squeezenet1_1"])
    show(at, "pages/explanations.py")
    at.button(key="xm_run_slow").click()
    show(at, "pages/explanations.py")
    finish_jobs(at)
    show(at, "pages/explanations.py")
    for method in ("Grad-CAM++", "Saliency", "Integrated Gradients", "Occlusion"):
        assert f"**{method}**" in text(at) or method in text(at), method
    assert len([b for b in at.get("download_button") if b.label == "Download PNG"]) == 6


def test_the_preprocessing_form_keeps_its_settings_with_the_file(files):
    at = upload("tinyvgg_mnist", files["tinyvgg_mnist"])
    before = at.session_state["weights_path"]
    tag = Path(before).parent.name[:16]
    assert at.text_input(key=f"onnx_mean_{tag}").value == "0.5"  # grey: the defaults
    assert at.text_area(key=f"onnx_labels_{tag}").value.splitlines()[:2] == ["class 0", "class 1"]
    at.text_input(key=f"onnx_mean_{tag}").set_value("0.1307")
    at.text_input(key=f"onnx_std_{tag}").set_value("0.3081")
    at.text_area(key=f"onnx_labels_{tag}").set_value("\n".join(f"digit {i}" for i in range(10)))
    assert at.selectbox(key=f"onnx_range_{tag}").value == 1  # pixels in 0..1 (grey: no channel order to pick)
    at.button(key=f"FormSubmitter:onnx_form_{tag}-Keep with this file").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    after = at.session_state["weights_path"]
    assert after != before and Path(before).is_file()  # a new content; the original stays
    info = get_info(after)
    assert info.preprocess.mean == (0.1307,) and info.preprocess.std == (0.3081,)
    assert info.classes()[7] == "digit 7"
    show(at, "pages/home.py")
    assert "digit" in text(at) and "class 0" not in text(at)
