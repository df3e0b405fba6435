"""Wrong preprocessing on purpose: each mistake is the operation it claims to be, makes a
visible difference on the gallery's photos, and the sentence says what the numbers say."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz.inputs import gallery
from cnnviz.inputs.images import load_sample
from cnnviz.models import zoo
from cnnviz.teaching import preprocess_mistakes as pm

PHOTOS = [n for n in gallery.SAMPLES if n != "digit_7"]  # the photos; the digit is for digit models


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return load_sample("chelsea")  # 451×300: landscape, so squashing and cropping differ


def test_each_mistake_is_the_operation_it_names(photo):
    spec = zoo.get_info("efficientnet_lite0").preprocess
    right = spec(photo)
    # no normalisation: the pixels in 0..1 as they are
    np.testing.assert_allclose(pm.variant(spec, "skip")(photo), spec.pixels(photo), rtol=0, atol=1e-6)
    # channels in the other order: the model's first input channel holds the blue pixels
    torch.testing.assert_close(
        pm.variant(spec, "swap")(photo)[0, 0],
        right[0, 2] * spec.std[2] / spec.std[0] + (spec.mean[2] - spec.mean[0]) / spec.std[0],
        rtol=0,
        atol=1e-5,
    )
    # the whole 451×300 photo squashed to the input size (PIL's own resize), no crop
    whole = np.asarray(photo.resize((spec.size, spec.size), Image.BILINEAR, reducing_gap=None), np.float32) / 255
    np.testing.assert_allclose(pm.variant(spec, "squash").pixels(photo)[0].permute(1, 2, 0), whole, atol=1e-6)
    # pixels 0..255 where 0..1 belongs: (255·p − mean) / std
    p = spec.pixels(photo)
    mean, std = torch.tensor(spec.mean)[:, None, None], torch.tensor(spec.std)[:, None, None]
    torch.testing.assert_close(pm.variant(spec, "range")(photo), (255 * p - mean) / std, rtol=1e-5, atol=1e-4)
    assert pm.label(spec, "range") == "pixels in 0–255 instead of 0–1"


def test_caffe_and_grey_models_get_the_mistakes_that_apply(photo):
    caffe = zoo.get_info("squeezenet1_1").preprocess
    assert pm.kinds_for(caffe) == ["right", "skip", "swap", "squash", "range"]
    assert pm.label(caffe, "range") == "pixels in 0–1 instead of 0–255"  # Caffe wants 0..255
    # 0..1 pixels minus Caffe's 0..255 means: every value near −mean
    x = pm.variant(caffe, "range")(photo)
    assert float(x[0, 0].max()) < 1.0 - 104.006 + 1e-3
    digits = zoo.get_info("tinyvgg_mnist").preprocess
    assert pm.kinds_for(digits) == ["right", "skip", "squash", "range"]  # one channel: nothing to swap
    with pytest.raises(ValueError):
        pm.variant(digits, "swap")


def test_sentences_follow_the_numbers():
    names = ["tiger cat", "jigsaw puzzle", "tabby"].__getitem__
    right = np.array([0.60, 0.10, 0.30])
    o = pm.compare("swap", right, np.array([0.20, 0.70, 0.10]), names)
    assert o.top1_changed and o.drop_points == pytest.approx(40.0)
    assert (
        o.sentence == "The top-1 changed from “tiger cat” (60 %) to “jigsaw puzzle” (70 %); “tiger cat” now gets 20 %."
    )
    o = pm.compare("skip", right, np.array([0.50, 0.20, 0.30]), names)
    assert not o.top1_changed and o.drop_points == pytest.approx(10.0)
    assert o.sentence == "“tiger cat” stays top-1; its probability dropped by 10 points (60 % → 50 %)."
    o = pm.compare("skip", right, np.array([0.61, 0.10, 0.29]), names)
    assert o.sentence == "“tiger cat” stays top-1; its probability rose by 1 point (60 % → 61 %)."
    o = pm.compare("skip", right, np.array([0.602, 0.098, 0.30]), names)
    assert o.sentence == "“tiger cat” stays top-1 and its probability barely moved (60 %)."


def test_every_mistake_makes_a_visible_difference_on_the_gallery(effnet):
    """Issue 25: each wrong variant changes the top-1 or takes ≥ 10 points off it on at least 3
    photos, for the default model (the old 0.5/0.5 switch moved 38.3 % to 38.1 %)."""
    photos = {name: load_sample(name) for name in PHOTOS}
    for kind in pm.kinds_for(effnet.preprocess_spec)[1:]:
        outcomes = {name: pm.outcome(effnet, img, kind) for name, img in photos.items()}
        visible = [n for n, o in outcomes.items() if o.top1_changed or o.drop_points >= 10.0]
        table = {
            n: (o.right[0].label, round(o.right[0].prob, 3), o.wrong[0].label, round(o.kept, 3))
            for n, o in outcomes.items()
        }
        assert len(visible) >= 3, (kind, table)
        for o in outcomes.values():  # the sentence carries the numbers it is about
            assert o.right[0].label in o.sentence
