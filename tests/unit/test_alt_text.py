"""Text alternatives computed from the data: maps whose strong place is set by construction
must be described by the right class, layer, region and share."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.a11y import alt_lessons, alt_text, chart_text
from cnnviz.a11y.regions import REGIONS, region, spot
from cnnviz.inside import featuremaps as fm
from cnnviz.teaching import pooling


def gaussian(h: int, w: int, cy: float, cx: float, sigma: float) -> np.ndarray:
    """A bump centred at fractions (cy, cx) of an h×w map."""
    y, x = np.mgrid[0:h, 0:w]
    return np.exp(-(((y + 0.5) / h - cy) ** 2 + ((x + 0.5) / w - cx) ** 2) / (2 * sigma**2))


@pytest.mark.parametrize("r", range(3))
@pytest.mark.parametrize("c", range(3))
def test_a_bump_is_found_in_its_region(r, c):
    m = gaussian(42, 42, (r + 0.5) / 3, (c + 0.5) / 3, 0.05)
    s = spot(m)
    assert s.peak == s.centre == REGIONS[r][c]


def test_share_above_half_strength_is_counted_by_hand():
    m = np.zeros((10, 10))
    m[6:10, 5:10] = 1.5  # 20 units above half strength in the lower right
    m[8, 8] = 2.0  # the peak
    m[0, 0] = 0.99  # just below half: not counted
    s = spot(m)
    assert s.share == pytest.approx(0.20)
    assert s.peak == s.centre == "lower right" and s.peak_at == (8, 8)


def test_gradcam_text_names_class_layer_region_and_share():
    m = gaussian(7, 7, 5.5 / 7, 5.5 / 7, 0.08)  # a blob in the lower right of a 7×7 map
    share = float((m >= m.max() / 2).mean())
    text = alt_text.explanation("Grad-CAM", "tabby", "blocks.6", m)
    assert text.startswith("Grad-CAM for “tabby” at blocks.6")
    assert "lower right" in text and "upper" not in text
    assert f"{share * 100:.0f} % of the image above half strength" in text
    assert 0 < share < 0.5


def test_signed_map_names_where_it_counts_against():
    m = gaussian(9, 9, 0.15, 0.15, 0.08) - gaussian(9, 9, 0.85, 0.85, 0.08)
    text = alt_text.explanation("Grad-CAM", "tabby", "blocks.6", m, signed=True)
    assert "strongest evidence is in the upper left" in text
    assert "Evidence against it is strongest in the lower right" in text


def test_empty_map_says_so():
    assert "the map is empty" in alt_text.explanation("Grad-CAM", "cat", "l", np.zeros((7, 7)))


def test_feature_grid_names_layer_count_and_strongest_channels():
    maps = np.zeros((6, 8, 8), np.float32)
    maps[4] = 3.0  # strongest
    maps[1, :4] = 2.0  # second (mean 1.0)
    maps[2, 0, 0] = 0.5
    grid = fm.feature_grid(maps, sort="mean", norm="layer")
    text = alt_text.feature_grid("blocks.3", maps, grid.order, sort="mean", norm="layer", chosen=4)
    assert "all 6 channels of blocks.3, each a 8×8 map" in text
    assert "Strongest on average: channels 4, 1 and 2." in text
    assert "3 channels are zero everywhere" in text and "Channel 4 is outlined" in text


def test_one_channel_says_where_it_responds_and_the_unit():
    m = gaussian(28, 28, 0.1, 0.5, 0.05)
    text = alt_text.channel("blocks.3", 12, m, unit=(3, 14))
    assert text.startswith("Channel 12 of blocks.3, a 28×28 map: it responds most strongly in the top centre")
    assert "unit (3, 14)" in text


def test_pooling_text_follows_the_pooled_map():
    m = gaussian(12, 12, 0.8, 0.2, 0.1)
    after = pooling.pool2d(m, 2, 2, "max")
    text = alt_lessons.pooled("max", m, after, 2, 2)
    assert "the 12×12 map becomes 6×6" in text and "lower left" in text


def test_receptive_field_region():
    assert "in the centre" in alt_text.receptive_field((3, 3), (80, 80, 143, 143), 224)
    assert region(0.99, 0.0) == "lower left"


def test_chart_descriptions_come_from_the_numbers():
    top = [{"label": "tabby", "prob": 0.521}, {"label": "tiger cat", "prob": 0.2}]
    assert chart_text.top_k(top) == (
        "Bar chart of the 2 most probable classes, most probable first: “tabby” 52.1 %, “tiger cat” 20.0 %."
    )
    hist = [
        {"epoch": 1, "train_loss": 2.0, "train_acc": 0.41},
        {"epoch": 1, "val_loss": 1.5, "val_acc": 0.6},
        {"epoch": 8, "train_loss": 0.1, "train_acc": 0.97},
        {"epoch": 8, "val_loss": 0.2, "val_acc": 0.96},
    ]
    acc = chart_text.training(hist, "accuracy")
    assert acc.startswith(
        "Training accuracy rose from 41 % to 97 %; validation accuracy rose from 60 % to 96 %, over 8"
    )
    assert "fell from 2 to 0.1" in chart_text.training(hist, "loss")
    conf = chart_text.confusion(np.array([[5, 1], [3, 4]]), ["a", "b"])
    assert "9 on the diagonal" in conf and "“b” taken for “a”, 3 times" in conf
