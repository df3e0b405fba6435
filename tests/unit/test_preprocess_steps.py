"""Preprocessing step by step: the tensor at the end is exactly what the model is fed, and
each step is the operation it claims to be (checked against PIL / numpy by hand)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from PIL import Image

from cnnviz.inputs.images import load_sample
from cnnviz.models import zoo
from cnnviz.teaching import preprocess_steps as ps


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return load_sample("chelsea")  # 451×300: landscape, so the crop discards left and right


@pytest.mark.parametrize("name", ["resnet18", "tinyvgg_mnist", "squeezenet1_1"])
def test_final_tensor_equals_what_predict_feeds(name, photo):
    """RGB (ImageNet mean/std), one-channel with inversion (digits), Caffe (BGR, 0..255, mean)."""
    lm = zoo.load_model(name, "random" if name == "resnet18" else "pretrained", device="cpu")
    s = ps.steps(lm.preprocess_spec, photo)
    fed = lm.preprocess(photo)
    assert s.tensor.dtype == np.float32 and s.tensor.shape == tuple(fed.shape)
    assert torch.equal(torch.from_numpy(s.tensor), fed.cpu())
    # the picture the other pages show as "what the model sees" is this step's final picture
    assert np.array_equal(np.asarray(lm.preprocess_spec.crop(photo)), s.pixels)


def test_geometry_of_resize_and_crop(photo):
    spec = zoo.get_info("resnet18").preprocess  # shorter side 256, crop 224
    s = ps.steps(spec, photo)
    assert s.original.size == (451, 300)
    # torchvision's own resize and centre crop, the reference: the longer side truncated
    # (451 × 256 / 300 = 384.85 → 384), the crop's offset rounded half to even
    resized = TF.resize(photo.convert("RGB"), 256, interpolation=TF.InterpolationMode.BILINEAR)
    assert s.resized.size == resized.size == (384, 256)
    left, top, right, bottom = s.box
    assert (right - left, bottom - top) == (224, 224)
    assert (left, top) == (80, 16)
    assert np.array_equal(np.asarray(s.cropped), np.asarray(s.resized)[top:bottom, left:right])
    assert np.array_equal(np.asarray(s.cropped), np.asarray(TF.center_crop(resized, 224)))


def test_one_channel_model_greys_and_inverts(photo):
    spec = zoo.get_info("tinyvgg_mnist").preprocess
    assert spec.channels == 1
    s = ps.steps(spec, photo)
    assert s.converted.mode == "L" and s.channel_names == ("grey",)
    # greyscale is ITU-R 601 luma, as PIL defines it
    rgb = np.asarray(photo, dtype=np.float64)
    luma = rgb @ [0.299, 0.587, 0.114]
    assert np.abs(np.asarray(s.converted, dtype=np.float64) - luma).max() <= 1.0
    if spec.invert:
        assert np.array_equal(np.asarray(s.final), 255 - np.asarray(s.cropped))


def test_caffe_pixel_by_hand():
    """SqueezeNet: one pixel is reordered to B, G, R and only has the mean taken off."""
    spec = zoo.get_info("squeezenet1_1").preprocess
    img = Image.new("RGB", (300, 300), (10, 200, 250))
    rows = ps.steps(spec, img).pixel(100, 100)
    assert [r["channel"] for r in rows] == ["B", "G", "R"]
    assert [r["pixel"] for r in rows] == [250, 200, 10]
    assert [round(r["fed"], 3) for r in rows] == [
        round(250 - 104.006, 3),
        round(200 - 116.669, 3),
        round(10 - 122.679, 3),
    ]


def test_imagenet_pixel_by_hand():
    spec = zoo.get_info("resnet18").preprocess
    img = Image.new("RGB", (256, 256), (255, 0, 128))
    rows = ps.steps(spec, img).pixel(5, 5)
    expected = [(255 / 255 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225]
    assert np.allclose([r["fed"] for r in rows], expected, atol=1e-5)


def test_histograms_count_every_value(photo):
    s = ps.steps(zoo.get_info("resnet18").preprocess, photo)
    rows = ps.histograms(s.tensor[0], s.channel_names, bins=20)
    for c in s.channel_names:
        assert sum(r["count"] for r in rows if r["channel"] == c) == 224 * 224
    # after normalisation each channel is roughly centred: its mean moved towards 0
    assert abs(float(s.tensor.mean())) < abs(float(s.scaled.mean()))


def test_border_view_dims_only_what_is_discarded(photo):
    s = ps.steps(zoo.get_info("resnet18").preprocess, photo)
    view = ps.border_view(s.resized, s.box)
    left, top, right, bottom = s.box
    inside = view[top + 5 : bottom - 5, left + 5 : right - 5]
    assert np.array_equal(inside, np.asarray(s.resized)[top + 5 : bottom - 5, left + 5 : right - 5])
    assert view[:, : left - 1].mean() < np.asarray(s.resized)[:, : left - 1].mean()


def test_file_info_reads_the_header_only():
    import io

    buf = io.BytesIO()
    Image.new("P", (40, 30)).save(buf, format="PNG")
    info = ps.file_info(buf.getvalue())
    assert (info.format, info.mode, info.size) == ("PNG", "P", (40, 30))
    assert ps.file_info(b"not an image") is None


def test_inverting_spec_equals_its_own_call(photo):
    """A one-channel model that wants white on black: greyscale, crop, then 255 − v."""
    spec = zoo.Preprocess(size=28, resize=28, mean=(0.1307,), std=(0.3081,), channels=1, invert=True)
    s = ps.steps(spec, photo)
    assert np.array_equal(np.asarray(s.final), 255 - np.asarray(s.cropped))
    assert torch.equal(torch.from_numpy(s.tensor), spec(photo))
