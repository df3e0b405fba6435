"""Grad-CAM, Compare methods and Fool the network through AppTest: RGB and the 1-channel digits model."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from testing.helpers import fgsm_by_hand, finish_jobs, run, targeted_by_hand
from testing.helpers import page_text as text

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(scope="module")
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=300)
    app.run()
    return app


def test_gradcam_page_layer_target_signed(at):
    at.switch_page("pages/gradcam.py")
    run(at, "efficientnet_lite0")
    assert at.session_state["gc_layer"] == "head.act"
    assert "academic gown" in text(at) and "7×7" in text(at)
    assert "blocks, early → late" not in text(at)  # the sweep waits until it is asked for
    at.toggle(key="gc_sweep").set_value(True)
    run(at, "efficientnet_lite0")
    assert "18 blocks, early → late" in text(at)  # the sweep: stem, blocks.0..15, head
    at.selectbox(key="gc_target").set_value(281)  # tabby cat
    at.toggle(key="gc_signed").set_value(True)
    run(at, "efficientnet_lite0")
    assert "tabby" in text(at) and "red: evidence for the class" in text(at)
    at.selectbox(key="gc_layer_block").set_value("blocks.10")
    run(at, "efficientnet_lite0")
    assert at.session_state["gc_layer"].startswith("blocks.10")
    assert "14×14" in text(at)


def test_compare_page_fast_then_slow_then_faithfulness(at):
    at.switch_page("pages/explanations.py")
    run(at, "efficientnet_lite0")
    assert at.selectbox(key="xm_target").value == 281  # the class chosen on Grad-CAM (tabby cat)
    t = text(at)
    assert "Grad-CAM++" in t and "Saliency" in t and "Integrated Gradients**" not in t
    at.button(key="xm_run_slow").click()
    run(at, "efficientnet_lite0")
    # the slow ones wait and run in the server's job queue: their bars meanwhile
    assert len(at.get("progress")) == 2 and "Integrated Gradients" in text(at)
    finish_jobs(at)
    run(at, "efficientnet_lite0")
    assert "**Integrated Gradients**" in text(at) and "**Occlusion**" in text(at)
    # Integrated Gradients says whether its values add up to the score's change (issue 25)
    said = [e.value for e in (*at.caption, *at.warning) if "The attributions add up to" in e.value]
    assert len(said) == 1 and ("agree within" in said[0] or "off by" in said[0]), said
    assert not at.get("progress")  # the bars are gone once the slow methods are done
    assert len([b for b in at.get("download_button") if b.label == "Download PNG"]) == 6
    at.button(key="xm_run_faith").click()
    run(at, "efficientnet_lite0")
    finish_jobs(at)
    run(at, "efficientnet_lite0")
    df = at.dataframe[0].value
    assert set(df["method"]) == {
        "Grad-CAM",
        "Grad-CAM++",
        "Guided Grad-CAM",
        "Saliency",
        "Integrated Gradients",
        "Occlusion",
        "random order",
    }
    assert df["deletion AUC (lower is better)"].between(0, 1).all()


def test_adversarial_page(at):
    at.switch_page("pages/adversarial.py")
    run(at, "efficientnet_lite0")
    # what the page says is what FGSM written out in plain torch gives on the same picture
    import torch

    from cnnviz.explain.adversarial import TARGETED_STEPS
    from cnnviz.inputs.gallery import sample_bytes
    from cnnviz.inputs.images import decode_image
    from cnnviz.models.zoo import load_model

    lm = load_model("efficientnet_lite0", device="cpu")
    spec, eps = lm.preprocess_spec, at.slider(key="adv_eps").value / 255
    with lm.use() as model:
        before, after, _, _ = fgsm_by_hand(
            model, spec.crop(decode_image(sample_bytes("grace_hopper"))), spec.mean, spec.std, eps
        )
    if after != before:
        assert at.warning[0].value.startswith(f"Fooled: “{lm.label(before)}” became “{lm.label(after)}”")
    else:
        assert at.success[0].value.startswith(f"Not fooled at ε = {at.slider(key='adv_eps').value:g}/255")
    at.slider(key="adv_eps").set_value(0.0)
    run(at, "efficientnet_lite0")
    assert not at.warning and not at.success  # nothing moved, nothing to report
    assert len([b for b in at.get("download_button") if b.label == "Download PNG"]) == 5
    # a targeted attack: the page says what the attack written out by hand reaches
    at.slider(key="adv_eps").set_value(2.0)
    at.selectbox(key="adv_goal").set_value(285)
    run(at, "efficientnet_lite0")
    clean = spec.pixels(decode_image(sample_bytes("grace_hopper")))
    with lm.use() as model:
        adv = targeted_by_hand(model, clean, spec.mean, spec.std, 2 / 255, 285, TARGETED_STEPS)
        with torch.no_grad():
            top = int(model(spec.normalize(adv))[0].argmax())
    if top == 285:
        assert at.warning[0].value.startswith(f"Fooled into “{lm.label(285)}” (was “{lm.label(before)}”)")
    else:
        assert at.success[0].value.startswith(f"Not pushed into “{lm.label(285)}”")
    # the suggested photo: the button makes the gallery's rocket the session's image
    at.button(key="adv_use_photo").click()
    run(at, "efficientnet_lite0")
    assert at.session_state["image_name"] == "rocket"
    assert not [b for b in at.button if b.key == "adv_use_photo"]


@pytest.mark.parametrize("page", ["pages/gradcam.py", "pages/explanations.py", "pages/adversarial.py"])
def test_pages_with_one_channel_digits_model(at, page):
    at.switch_page(page)
    run(at, "tinyvgg_mnist")
    from cnnviz.inputs.gallery import sample_bytes

    at.session_state["image_bytes"] = sample_bytes("digit_7")
    at.session_state["image_name"] = "digit_7"
    run(at, "tinyvgg_mnist")
    assert at.title and at.image


def test_gradcam_page_random_resnet(at):
    at.switch_page("pages/gradcam.py")
    run(at, "resnet18", "random")
    at.toggle(key="gc_sweep").set_value(True)
    run(at, "resnet18", "random")
    assert "at `layer4`" in text(at) and "5 blocks, early → late" in text(at)
