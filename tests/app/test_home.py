"""The Predict page through Streamlit's AppTest: gallery, upload, model switch, bad files."""

from __future__ import annotations

import urllib.error

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.inputs.gallery import sample_bytes
from cnnviz.models import torchvision_zoo
from testing.helpers import make_app, page_text


@pytest.fixture
def at() -> AppTest:
    return make_app()


def test_home_shows_top5_of_the_default_gallery_photo(at):
    assert at.session_state["model_name"] == "efficientnet_lite0"
    assert at.session_state["image_name"] == "grace_hopper"
    text = page_text(at)
    assert any(lbl in text for lbl in ("academic gown", "mortarboard", "military uniform")), text
    assert "forward pass" in text


def test_gallery_pick_changes_the_prediction(at):
    at.selectbox(key="gallery_choice").set_value("chelsea").run()  # on the first run's tree
    assert not at.exception
    assert at.session_state["image_name"] == "chelsea"
    text = page_text(at)
    assert any(lbl in text for lbl in ("tabby", "tiger cat", "Egyptian cat")), text


def test_upload_a_photo():
    at = make_app(image_source="Upload")
    at.file_uploader(key="image_upload").upload("coffee.png", sample_bytes("coffee"), "image/png").run()
    assert not at.exception
    assert at.session_state["image_name"] == "coffee.png"
    assert "espresso" in page_text(at) or "cup" in page_text(at)


def test_upload_of_a_broken_file_gives_a_friendly_error():
    at = make_app(image_source="Upload")
    at.file_uploader(key="image_upload").upload("photo.jpg", b"\xff\xd8\xff\xe0 not really", "image/jpeg").run()
    assert not at.exception
    assert at.error and "photo.jpg" in at.error[0].value
    # the next good image works again
    at.session_state["image_bytes"] = sample_bytes("chelsea")
    at.run()
    assert not at.exception and not at.error


def test_switching_model_and_weights(at):
    at.selectbox(key="model_name").set_value("resnet18").run()
    at.session_state["weights_choice"] = "random"
    at.run()
    assert not at.exception
    assert "forward pass" in page_text(at)


def test_missing_pretrained_weights_are_a_message_not_a_crash(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    at = make_app(model_name="alexnet")
    assert not at.exception
    assert any("random weights" in e.value for e in at.error)

    # offline, the Download button says so instead of crashing (no real network call)
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(torchvision_zoo, "urlopen", offline)
    at.button(key="download_weights").click().run()
    assert not at.exception
    assert any("Could not download" in e.value for e in at.error)


def test_uploaded_checkpoint_is_used_and_an_evil_one_refused(tmp_path):
    import os

    import torch

    from cnnviz.models.zoo import load_model

    state = load_model("squeezenet1_1", "random", device="cpu").model.state_dict()
    good = tmp_path / "good.pt"
    torch.save({k: v * 0 if k.startswith("classifier") else v for k, v in state.items()}, good)
    at = make_app(model_name="squeezenet1_1", weights_choice="file")
    assert any("Upload a weights file" in i.value for i in at.info)
    at.file_uploader(key="weights_upload").upload("good.pt", good.read_bytes(), "application/octet-stream").run()
    assert not at.exception and not at.error
    # a zeroed classifier gives equal logits: every class 1/1000
    assert "0.1%" in page_text(at)

    marker = tmp_path / "pwned"

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    torch.save({"w": Boom()}, evil)
    at = make_app(model_name="squeezenet1_1", weights_choice="file")
    at.file_uploader(key="weights_upload").upload("evil.pt", evil.read_bytes(), "application/octet-stream").run()
    assert not at.exception
    assert at.error and "refused" in at.error[0].value
    assert not marker.exists()


def test_a_digits_model_says_a_photo_is_out_of_its_world():
    at = make_app(model_name="tinyvgg_mnist", gallery_choice="chelsea")
    assert any("Out of its world" in w.value for w in at.warning), [w.value for w in at.warning]


def test_a_digit_is_in_the_digits_models_world():
    at = make_app(model_name="tinyvgg_mnist", gallery_choice="digit_7")
    assert not any("Out of its world" in w.value for w in at.warning)
    assert "looks like the model's training images" in page_text(at)
