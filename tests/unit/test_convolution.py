"""Hand-rolled convolution: hand-computed cases, then F.conv2d, then the model's own first layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.errors import CnnvizError
from cnnviz.teaching import convolution as cv

X4 = np.array([[1, 2, 3, 0],
               [0, 1, 2, 3],
               [3, 0, 1, 2],
               [2, 3, 0, 1]], dtype=np.float32)  # fmt: skip
# left column minus right column
K3 = np.array([[1, 0, -1],
               [1, 0, -1],
               [1, 0, -1]], dtype=np.float32)  # fmt: skip


def test_hand_case_valid():
    # e.g. top-left: (1 + 0 + 3) - (3 + 2 + 1) = -2; bottom-left: (0 + 3 + 2) - (2 + 1 + 0) = 2
    np.testing.assert_array_equal(cv.conv2d(X4, K3), [[-2, -2], [2, -2]])


def test_hand_case_padding_and_stride():
    # padded by 1, windows start at padded rows/cols 0 and 2: e.g. top-left window
    # [[0,0,0],[0,1,2],[0,0,1]] -> 0 - (0 + 2 + 1) = -3
    np.testing.assert_array_equal(cv.conv2d(X4, K3, stride=2, padding=1), [[-3, 0], [-4, -2]])


def test_step_traces_one_output():
    s = cv.step(X4, K3, stride=1, padding=0, row=1, col=0)
    np.testing.assert_array_equal(s.window, [[0, 1, 2], [3, 0, 1], [2, 3, 0]])
    np.testing.assert_array_equal(s.products, [[0, 0, -2], [3, 0, -1], [2, 0, 0]])
    assert s.value == 2.0 and (s.top, s.left) == (1, 0)
    s = cv.step(X4, K3, stride=2, padding=1, row=0, col=0)
    assert s.value == -3.0 and (s.top, s.left) == (-1, -1)
    with pytest.raises(CnnvizError):
        cv.step(X4, K3, 1, 0, row=2, col=0)


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("k", [3, 5])
def test_matches_torch_conv2d(stride, padding, k):
    rng = np.random.default_rng(stride * 10 + padding + k)
    x = rng.normal(size=(17, 23)).astype(np.float32)
    kern = rng.normal(size=(k, k)).astype(np.float32)
    want = F.conv2d(
        torch.from_numpy(x)[None, None], torch.from_numpy(kern)[None, None], stride=stride, padding=padding
    )[0, 0].numpy()
    got = cv.conv2d(x, kern, stride, padding)
    assert got.shape == want.shape == (cv.output_size(17, k, stride, padding), cv.output_size(23, k, stride, padding))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_multichannel_and_per_channel_match_torch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 12, 10)).astype(np.float32)
    w = rng.normal(size=(3, 3, 3)).astype(np.float32)
    want = F.conv2d(
        torch.from_numpy(x)[None], torch.from_numpy(w)[None], bias=torch.tensor([0.5]), stride=2, padding=1
    )[0, 0].numpy()
    np.testing.assert_allclose(cv.conv2d(x, w, 2, 1, bias=0.5), want, atol=1e-5)
    k = w[0]
    want_dw = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(np.stack([k] * 3))[:, None], padding=1, groups=3)[
        0
    ].numpy()
    np.testing.assert_allclose(cv.conv2d_per_channel(x, k, 1, 1), want_dw, atol=1e-5)


def test_asymmetric_padding_matches_zeropad2d():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 8)).astype(np.float32)
    k = rng.normal(size=(3, 3)).astype(np.float32)
    want = F.conv2d(F.pad(torch.from_numpy(x)[None, None], (0, 1, 0, 1)), torch.from_numpy(k)[None, None], stride=2)[
        0, 0
    ].numpy()
    np.testing.assert_allclose(cv.conv2d(x, k, 2, (0, 1, 0, 1)), want, atol=1e-5)


def test_output_size_formula_and_errors():
    assert cv.output_size(224, 3, 1, 1) == 224
    assert cv.output_size(224, 3, 2, 0) == 111  # floor(221 / 2) + 1
    assert cv.size_formula(224, 5, 2, 2) == "⌊(224 − 5 + 2×2) / 2⌋ + 1 = 112"
    with pytest.raises(CnnvizError):
        cv.output_size(2, 5, 1, 0)
    with pytest.raises(CnnvizError):
        cv.output_size(10, 3, 0, 0)
    with pytest.raises(CnnvizError):
        cv.conv2d(X4, np.ones((2, 3)))


def test_presets():
    for name in cv.PRESETS:
        assert cv.preset(name, 3).shape == (3, 3) and cv.preset(name, 5).shape == (5, 5)
    flat = np.full((6, 6), 0.4, np.float32)
    # blurs keep a flat image flat, edge filters give zero on it, identity copies
    for name in ("box blur", "Gaussian blur"):
        for size in (3, 5):
            np.testing.assert_allclose(cv.conv2d(flat, cv.preset(name, size)), 0.4, atol=1e-6)
    for name in ("edge (Laplacian)", "Sobel x", "Sobel y"):
        np.testing.assert_allclose(cv.conv2d(flat, cv.preset(name, 5)), 0.0, atol=1e-6)
    np.testing.assert_array_equal(cv.conv2d(X4, cv.preset("identity"), padding=1), X4)


def test_to_grey():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(cv.to_grey(rgb), [[0.299, 0.587, 0.114, 1.0]], atol=1e-6)


def test_first_conv_reproduces_the_network(effnet, hopper_bytes):
    """The stem filter applied by hand to the normalised input equals the model's own stem.conv output."""
    from cnnviz.inputs.images import decode_image
    from cnnviz.inside.capture import capture

    fc = cv.first_conv(effnet.model)
    assert fc.name == "stem.conv" and fc.weight.shape == (32, 3, 3, 3) and fc.stride == 2
    assert fc.padding == (0, 1, 0, 1)  # the explicit TF-"same" ZeroPad2d before it
    x = effnet.preprocess(decode_image(hopper_bytes, name="hopper.jpg"))
    real = capture(effnet, x, [fc.name])[fc.name]  # (32, 112, 112)
    for i in (0, 7):
        mine = cv.conv2d(x[0].numpy(), fc.weight[i], fc.stride, fc.padding, bias=float(fc.bias[i]))
        np.testing.assert_allclose(mine, real[i], atol=1e-4)


def test_render_map_rgb_and_draw_box():
    from cnnviz import render

    lut = render.colormap_lut("RdBu_r")
    rgb = render.map_rgb(np.array([[-2.0, 0.0, 2.0]]))  # signed: −max → first colour, 0 → middle, +max → last
    np.testing.assert_array_equal(rgb[0], [lut[0], lut[128], lut[255]])
    grey = render.map_rgb(np.array([[0.0, 1.0, 4.0]]), limit=2.0)  # non-negative: grey 0..limit, clipped
    np.testing.assert_array_equal(grey[0, :, 0], [0, 128, 255])
    box = render.draw_box(np.zeros((4, 4, 3), np.uint8), 1, 1, 2, 2, factor=2, color=(255, 0, 0), thickness=1)
    assert box.shape == (8, 8, 3)
    outline = box[:, :, 0] == 255
    assert outline[2, 2:6].all() and outline[5, 2:6].all() and outline[2:6, 2].all() and outline[2:6, 5].all()
    assert outline.sum() == 12 and not outline[3:5, 3:5].any()


def test_follow_keeps_the_window_on_the_same_input_spot_when_the_stride_changes():
    # stride 1, padding 1, 3×3: output (112, 40) has its window centred on input pixel (112, 40)
    assert cv.window_centre((112, 40), 3, 1, 1) == (112.0, 40.0)
    pr, pc, pos = cv.follow((3, 1, 1, 112, 40), (3, 2, 1), (112, 112), (4, 4))
    row, col = pr + (pos - 1) // 4, pc + (pos - 1) % 4
    # stride 2: output (r, c) is centred on input (2r, 2c): the nearest to (112, 40) is (56, 20)
    assert (row, col) == (56, 20)
    # near the corner, a smaller output: clamped inside it, not thrown to the far corner
    pr, pc, pos = cv.follow((3, 1, 1, 2, 2), (5, 4, 0), (55, 55), (4, 4))
    assert (pr, pc) == (0, 0) and pos == 1
    assert cv.follow((3, 2, 1, 5, 5), (3, 2, 1), (112, 112), (4, 4)) is None


def test_patch_for_puts_an_output_position_in_the_middle_of_the_stepped_patch():
    """A link's row/col: the 4×4 patch around it, clipped to the output; position 1-based row by row."""
    pr, pc, pos = cv.patch_for((20, 31), (111, 111), (4, 4))
    assert (pr, pc) == (18, 29) and (pr + (pos - 1) // 4, pc + (pos - 1) % 4) == (20, 31)
    assert cv.patch_for((0, 0), (111, 111), (4, 4)) == (0, 0, 1)
    assert cv.patch_for((999, -5), (111, 111), (4, 4)) == (107, 0, 13)  # clamped to (110, 0)
    assert cv.patch_for((1, 2), (3, 3), (3, 3)) == (0, 0, 6)  # an output smaller than the patch
