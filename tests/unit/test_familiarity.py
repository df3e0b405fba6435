"""The out-of-its-world measure: pixel statistics by hand, held-out digits familiar, photos not."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.inputs.gallery import SAMPLES, sample_bytes
from cnnviz.inputs.images import decode_image
from cnnviz.models.zoo import load_model
from cnnviz.training import datasets
from cnnviz.training import familiarity as fm


def test_pixel_features_by_hand():
    x = np.zeros((1, 3, 2, 2), np.float32)
    x[0, :, 0, 0] = 1.0  # one white pixel
    x[0, 0, 1, 1] = 0.9  # one red pixel: grey 0.3, colourful
    f = dict(zip(fm.FEATURES, fm.pixel_features(x)[0], strict=True))
    grey = np.array([[1.0, 0.0], [0.0, 0.3]])
    assert f["brightness"] == pytest.approx(grey.mean())
    assert f["contrast"] == pytest.approx(grey.std())
    assert f["dark share"] == pytest.approx(0.5) and f["bright share"] == pytest.approx(0.25)
    # |differences| down: (1-0, 0-0.3) → mean 0.65; across: (1-0, 0-0.3) → 0.65
    assert f["edges"] == pytest.approx(1.3)
    assert f["colour"] == pytest.approx(np.std([0.9, 0, 0]) / 4)


def test_distance_percentiles_are_the_training_images_own():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (300, 1, 8, 8), dtype=np.uint8)
    ref = fm.reference(x, "noise", sample=300)
    own = ref.distance(fm.pixel_features(x / 255.0))
    np.testing.assert_allclose(np.sort(own), ref.distances)
    median_img = np.argsort(own)[150]
    assert fm.familiarity(ref, x[median_img] / 255.0).share_farther == pytest.approx(0.5, abs=0.01)


@pytest.fixture(scope="module")
def mnist_ref():
    return fm.reference_for("mnist5k", 28)


def test_held_out_digits_are_familiar_photos_are_not(mnist_ref):
    ds = datasets.mnist5k()
    val = [fm.familiarity(mnist_ref, ds.x[i] / 255.0) for i in ds.val_idx]
    assert np.mean([f.unusual for f in val]) < 0.03  # ~1 % by construction, on images it never saw
    lm = load_model("tinyvgg_mnist")
    photos = [n for n in SAMPLES if not n.startswith("digit")]
    for name in photos:
        px = lm.preprocess_spec.pixels(decode_image(sample_bytes(name)))[0].numpy()
        f = fm.familiarity(mnist_ref, px)
        assert f.unusual, (name, f.distance, f.share_farther)


def test_no_reference_without_an_offline_dataset():
    assert fm.reference_for("zip:class_folders.zip", 28) is None
    assert fm.reference_for("cifar10", 32) is None
