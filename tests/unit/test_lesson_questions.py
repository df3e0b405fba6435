"""Ask the class (cnnviz.lessons.questions): stored answers, counts, and the model's own
answer checked against torch, captum and hand computation on a tiny hand-set network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import LayerGradCam
from PIL import Image
from torch import nn

from cnnviz.lessons import questions as Q
from testing.helpers import wrap


class Tiny(nn.Sequential):
    """RGB 8×8 → 3 classes: conv 3×3 (2 ch), ReLU, conv 3×3 (2 ch), ReLU, GAP, linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 2, 3, padding=1)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(2, 2, 3, padding=1)
        self.act2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(2, 3)
        with torch.no_grad():
            self.conv1.weight.copy_(torch.arange(54.0).reshape(2, 3, 3, 3).sub(26).div(40))
            self.conv1.bias.copy_(torch.tensor([0.1, -0.05]))
            self.conv2.weight.copy_(torch.arange(36.0).reshape(2, 2, 3, 3).sub(17).div(30).flip(-1))
            self.conv2.bias.copy_(torch.tensor([0.3, 0.2]))
            self.fc.weight.copy_(torch.tensor([[1.0, -0.5], [-0.7, 1.2], [0.3, 0.4]]))
            self.fc.bias.copy_(torch.tensor([0.0, 0.1, -0.1]))


def picture(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))


@pytest.fixture
def lm():
    return wrap(Tiny(), size=8, channels=3, classes=3, layer="act2")


# ---------------------------------------------------------------- stored answers and counts
def test_answer_values_round_trip():
    assert Q.click_value(0.25, 0.5) == "0.250,0.500"
    assert Q.click_value(1.7, -0.2) == "1.000,0.000"  # clipped to the picture
    assert Q.parse_click("0.250,0.500") == (0.25, 0.5)
    with pytest.raises(ValueError):
        Q.click_value(float("nan"), 0.1)
    for bad in ("", "1", "a,b", "0.1,0.2,0.3", "1.5,0.2", "nan,0.2", "-0.1,0.5"):
        assert Q.parse_click(bad) is None, bad


def test_option_counts_keep_option_order_and_drop_strangers():
    assert Q.option_counts(("cat", "dog", "owl"), {"owl": 4, "cat": 1, "emu": 9}) == [1, 0, 4]
    assert Q.option_counts(("a", "b"), {}) == [0, 0]


def test_click_heat_counts_cells_by_hand():
    heat = Q.click_heat(["0.0,0.0", "0.99,0.99", "1.0,1.0", "0.5,0.26", "junk"], cells=4)
    expected = np.zeros((4, 4), dtype=np.float32)
    expected[0, 0] = 1
    expected[3, 3] = 2  # 0.99 and the very edge 1.0 both land in the last cell
    expected[1, 2] = 1  # x 0.5 → column 2, y 0.26 → row 1
    np.testing.assert_array_equal(heat, expected)


def test_peak_region_by_hand():
    cam = np.array(
        [
            [0.0, 0.1, 0.0, 0.0],
            [0.0, 0.6, 1.0, 0.0],
            [0.0, 0.0, 0.7, 0.0],
            [0.9, 0.0, 0.0, 0.0],  # strong but not connected to the peak
        ]
    )
    point, box = Q.peak_region(cam)
    assert point == (2.5 / 4, 1.5 / 4)
    assert box == (1 / 4, 1 / 4, 3 / 4, 3 / 4)  # cells (1,1), (1,2), (2,2): columns 1–2, rows 1–2
    assert Q.peak_region(np.zeros((2, 2))) == ((0.25, 0.25), (0.0, 0.0, 0.5, 0.5))


def test_matching_option_and_best_of():
    assert Q.matching_option(["Tabby cat", "Egyptian  cat"], "egyptian cat") == 1
    assert Q.matching_option(["dog"], "cat") is None
    assert Q.best_of([0.1, 0.5, 0.5, -1.0]) == 1


# ---------------------------------------------------------------- the model's own answers
def test_top1_is_torch_argmax(lm):
    for seed in range(4):
        img = picture(seed)
        with torch.no_grad():
            probs = torch.softmax(lm.model(lm.preprocess(img)), dim=1)[0]
        t = Q.top1(lm, img)
        assert t.index == int(probs.argmax())
        assert t.label == f"c{t.index}"
        assert t.prob == pytest.approx(float(probs.max()), abs=1e-6)


def test_gradcam_peak_equals_captum(lm):
    img = picture(3)
    peak = Q.gradcam_peak(lm, img, target=1)
    x = lm.preprocess(img)
    with lm.use() as model:
        ref = torch.relu(LayerGradCam(model, model.act2).attribute(x, target=1))[0, 0].detach().numpy()
    # the map is at the crop's resolution (8×8 here, as act2), scaled to 0..1
    assert peak.map.shape == (8, 8) and peak.target == 1 and peak.label == "c1"
    np.testing.assert_allclose(peak.map, ref / ref.max(), atol=1e-5)
    r, c = np.unravel_index(int(np.argmax(ref)), ref.shape)
    assert peak.point == ((c + 0.5) / 8, (r + 0.5) / 8)
    x0, y0, x1, y1 = peak.box
    assert x0 <= peak.point[0] <= x1 and y0 <= peak.point[1] <= y1
    inside = ref[int(y0 * 8) : int(y1 * 8), int(x0 * 8) : int(x1 * 8)]
    assert inside.max() == ref.max()


def test_channel_means_by_hand(lm):
    imgs = [picture(s) for s in range(4)]
    values = Q.channel_means(lm, imgs, "act1", 1)
    by_hand = []
    for img in imgs:
        with torch.no_grad():
            a = torch.relu(lm.model.conv1(lm.preprocess(img)))  # (1, 2, 8, 8)
        by_hand.append(float(a[0, 1].double().mean()))
    np.testing.assert_allclose(values, by_hand, rtol=1e-6)
    assert Q.best_of(values) == int(np.argmax(by_hand))
    with pytest.raises(ValueError):
        Q.channel_means(lm, imgs[:1], "act1", 2)


# ---------------------------------------------------------------- text alternatives
def test_text_alternatives_of_counts_and_clicks():
    from cnnviz.a11y import alt_questions as A

    assert A.counts("Which class?", ("cat", "dog"), (2, 1), model=0) == (
        "Answers to “Which class?”: 3 in all. “cat”: 2 (67%); “dog”: 1 (33%). The model's answer: “cat”."
    )
    heat = Q.click_heat(["0.1,0.1", "0.15,0.12", "0.9,0.9"], cells=3)
    assert A.clicks(heat, (0.6, 0.6, 1.0, 1.0)) == (
        "The photo the model sees with the class's 3 clicks as a heat map: most clicks (2) in the upper left. "
        "A box marks where the model looked most: the lower right."
    )
    assert A.clicks(np.zeros((3, 3))) == "The photo the model sees; no one has clicked yet."
