"""filters and featuremaps: pictures of weights and maps, checked pixel by pixel on tiny cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnviz import render
from cnnviz.errors import ModelError
from cnnviz.inside import featuremaps as fm
from cnnviz.inside import filters as fl
from cnnviz.inside.filters import filter_at, filter_grid


def test_conv_weight_and_norms():
    conv = nn.Conv2d(2, 3, 2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(24, dtype=torch.float32).reshape(3, 2, 2, 2))
    model = nn.Sequential(conv, nn.ReLU())
    w = fl.conv_weight(model, "0")
    assert w.shape == (3, 2, 2, 2)
    np.testing.assert_allclose(
        fl.filter_norms(w), [np.sqrt(sum(v * v for v in range(8 * k, 8 * k + 8))) for k in range(3)], rtol=1e-6
    )
    with pytest.raises(ModelError, match="not a convolution"):
        fl.conv_weight(model, "1")


def test_rgb_filter_tile_maps_zero_to_grey_and_extremes_to_0_and_255():
    w = np.zeros((1, 3, 2, 2), np.float32)
    w[0, 0, 0, 0] = 2.0  # strongest positive red weight → 255
    w[0, 2, 1, 1] = -2.0  # strongest negative blue weight → 0
    img = fl.filter_grid(w, width=2)  # zoom 1: the raw 2×2 tile
    assert img.shape == (2, 2, 3)
    assert tuple(img[0, 0]) == (255, 128, 128)
    assert tuple(img[1, 1]) == (128, 128, 0)
    assert tuple(img[0, 1]) == (128, 128, 128)


def test_deeper_filters_average_and_channel_modes():
    w = np.zeros((2, 4, 1, 1), np.float32)
    w[0, :, 0, 0] = [1, 1, 1, 1]
    w[1, :, 0, 0] = [-4, 0, 0, 0]
    lut = render.colormap_lut("RdBu_r")
    avg = fl.filter_grid(w, mode="average", norm="layer", width=3)  # means 1 and -1, layer max 1
    assert tuple(avg[0, 0]) == tuple(lut[255]) and tuple(avg[0, 2]) == tuple(lut[0])
    ch1 = fl.filter_grid(w, mode="channel", channel=1, norm="layer", width=3)  # weights 1 and 0
    assert tuple(ch1[0, 0]) == tuple(lut[255]) and tuple(ch1[0, 2]) == tuple(lut[128])
    with pytest.raises(ModelError):
        fl.filter_grid(w, mode="channel", channel=9)
    grey = fl.filter_grid(np.array([[[[-1.0, 1.0]]]], np.float32), width=2)  # 1-channel model: grey
    assert tuple(grey[0, 0]) == (0, 0, 0) and tuple(grey[0, 1]) == (255, 255, 255)


def test_channel_order_and_stats():
    maps = np.stack([np.full((2, 2), v, np.float32) for v in (1.0, 3.0, 2.0)])
    maps[0, 0, 0] = 9.0  # channel 0: biggest max (9), mean 3
    assert list(fm.channel_order(maps, "max")) == [0, 1, 2]
    assert list(fm.channel_order(maps, "mean")) == [0, 1, 2]  # means 3.0, 3.0, 2.0: stable
    assert list(fm.channel_order(maps, "channel")) == [0, 1, 2]
    maps[1] = 4.0
    assert list(fm.channel_order(maps, "mean")) == [1, 0, 2]
    s = fm.channel_stats(np.array([[-1.0, 0.0], [1.0, 4.0]], np.float32))
    assert s == {"min": -1.0, "max": 4.0, "mean": 1.0, "std": pytest.approx(np.std([-1, 0, 1, 4])), "positive %": 50.0}


def test_feature_grid_signed_layer_norm_is_centred_on_white():
    maps = np.array([[[-2.0, 0.0]], [[1.0, 2.0]]], np.float32)  # (2, 1, 2): signed
    g = fm.feature_grid(maps, norm="layer", width=1)
    lut = render.colormap_lut(fm.DIVERGING)
    assert g.cmap == fm.DIVERGING and (g.vmin, g.vmax) == (-2.0, 2.0)
    # ncols = ceil(sqrt(2*16/9)) = 2: tiles side by side, a white gap between
    assert g.rgb.shape == (1, 5, 3)
    assert [tuple(p) for p in g.rgb[0]] == [
        tuple(lut[0]),
        tuple(lut[128]),
        (255, 255, 255),
        tuple(lut[191]),
        tuple(lut[255]),
    ]


def test_feature_grid_per_channel_and_global():
    maps = np.array([[[0.0, 1.0]], [[0.0, 4.0]]], np.float32)  # non-negative: viridis from 0
    lut = render.colormap_lut(fm.SEQUENTIAL)
    per = fm.feature_grid(maps, norm="channel", width=1)
    assert tuple(per.rgb[0, 1]) == tuple(lut[255]) and tuple(per.rgb[0, 4]) == tuple(lut[255])
    glob = fm.feature_grid(maps, norm="global", global_range=(-3.0, 8.0), width=1)
    assert (glob.vmin, glob.vmax) == (0.0, 8.0)
    assert tuple(glob.rgb[0, 4]) == tuple(lut[128])  # 4 of 0..8
    sorted_ = fm.feature_grid(maps, sort="max", norm="layer", width=1)
    assert list(sorted_.order) == [1, 0] and tuple(sorted_.rgb[0, 1]) == tuple(lut[255])
    assert fm.capture_range({"a": maps, "b": maps[:1] - 5}) == (-5.0, 4.0)


def test_draw_box_outlines_the_field():
    img = Image.new("RGB", (10, 10), (0, 0, 0))
    out = np.asarray(fm.draw_box(img, (2, 3, 5, 7), width=100))  # 10× zoom
    assert out.shape == (100, 100, 3)
    assert tuple(out[20, 50]) == (255, 0, 255)  # top edge at row 2*10
    assert tuple(out[35, 30]) == (255, 0, 255)  # left edge at col 3*10
    assert tuple(out[5, 5]) == (0, 0, 0)


def test_cli_filters_writes_the_weights(tmp_path):
    from cnnviz.cli import main
    from cnnviz.models.zoo import load_model

    npy, png = tmp_path / "w.npy", tmp_path / "f.png"
    assert (
        main(
            [
                "filters",
                "--model",
                "resnet18",
                "--weights",
                "random",
                "--layer",
                "conv1",
                "--npy",
                str(npy),
                "--out",
                str(png),
            ]
        )
        == 0
    )
    ref = load_model("resnet18", "random", device="cpu").model.conv1.weight.numpy()
    assert np.array_equal(np.load(npy), ref)
    assert Image.open(png).size[0] > 0
    assert main(["filters", "--model", "resnet18", "--weights", "random", "--layer", "bn1"]) == 2


@pytest.mark.parametrize("shape", [(10, 3, 3, 3), (16, 8, 5, 5), (1, 1, 7, 7), (64, 3, 11, 11)])
def test_filter_at_inverts_the_grid(shape):
    """Each filter's own pixels map back to it, the gaps to None (the Filters page's clicks)."""
    w = np.zeros(shape, np.float32)
    o = shape[0]
    for k in range(o):
        w[k] = k + 1.0  # every filter a different constant
    grid = filter_grid(w, width=520, norm="layer")
    colour = {}
    for r in range(grid.shape[0]):
        for c in range(grid.shape[1]):
            k = filter_at((r, c), shape, 520)
            if k is not None:  # every pixel of filter k has filter k's own colour
                assert tuple(grid[r, c]) == colour.setdefault(k, tuple(grid[r, c])), (r, c, k)
    assert set(colour) == set(range(o)) and len(set(colour.values())) == o  # all reached, all different
    assert filter_at((grid.shape[0] + 5, 0), shape, 520) is None
