"""Colour-vision simulation, CIELAB/CIEDE2000 and the colour maps the app offers, checked by numbers."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz import render
from cnnviz.a11y import colour_vision as cv
from cnnviz.inside import featuremaps as fm
from cnnviz.ui.explain_views import CMAPS

# Sharma, Wu & Dalal (2005), "The CIEDE2000 Color-Difference Formula: Implementation Notes,
# Supplementary Test Data, and Mathematical Observations", Table 1: pairs and ΔE00.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]

# A negative value and a positive one of the same size must differ by at least this much
# (ΔE2000) for every viewer: ~1 is just noticeable side by side, ~10 is the usual floor for
# "different colours at a glance"; a map's halves are read across a picture, not side by
# side, so we ask half again. RdBu_r's worst case (protanopia) is 22.7; the red-green RdYlGn
# under deuteranopia is 1.2 (negative and positive look alike).
HALVES_APART = 15.0


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_ciede2000_matches_sharma(lab1, lab2, expected):
    assert cv.delta_e2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)
    assert cv.delta_e2000(np.array(lab2), np.array(lab1)) == pytest.approx(expected, abs=1e-4)


def test_lab_of_known_colours():
    np.testing.assert_allclose(cv.srgb_to_lab(np.array([1.0, 1.0, 1.0])), [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(cv.srgb_to_lab(np.array([1.0, 0.0, 0.0])), [53.24, 80.09, 67.20], atol=0.02)


def test_simulation_keeps_greys_and_merges_red_with_green():
    grey = np.array([0.5, 0.5, 0.5])
    for kind in cv.MACHADO:
        np.testing.assert_allclose(cv.simulate(grey, kind), grey, atol=0.01)
    red, green = np.array([0.8, 0.2, 0.2]), np.array([0.45, 0.55, 0.2])
    lab = cv.srgb_to_lab
    normal = float(cv.delta_e2000(lab(red), lab(green)))
    deut = float(cv.delta_e2000(lab(cv.simulate(red, "deuteranopia")), lab(cv.simulate(green, "deuteranopia"))))
    assert normal > 30 and deut < normal / 3


def test_contrast_ratio_against_wcag_examples():
    assert cv.contrast_ratio(cv.hex_rgb("#000000"), cv.hex_rgb("#ffffff")) == pytest.approx(21.0)
    assert cv.contrast_ratio(cv.hex_rgb("#767676"), cv.hex_rgb("#ffffff")) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("kind", [None, *cv.RED_GREEN, "tritanopia"])
@pytest.mark.parametrize("cmap", sorted({fm.DIVERGING, render.display(np.ones((2, 2)), signed=True).cmap}))
def test_default_diverging_map_reads_for_every_viewer(cmap, kind):
    r = cv.diverging_report(cmap, kind)
    assert r.towards_centre, f"{cmap} under {r.kind}: lightness is not monotonic towards the centre"
    assert r.ends > HALVES_APART and r.halves > HALVES_APART, r


def test_the_check_rejects_a_red_green_map():
    r = cv.diverging_report("RdYlGn", "deuteranopia")
    assert r.halves < HALVES_APART


def test_every_colour_choice_has_a_colour_blind_safe_option():
    assert any(cv.sequential_ok(c) for c in CMAPS)
    assert cv.sequential_ok(fm.SEQUENTIAL)
    assert not cv.sequential_ok("jet")  # lightness up and down: its order needs hue


def _theme(section: str) -> dict:
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    return config["theme"][section]


# Streamlit draws captions (and other secondary text) in the text colour at 60 % opacity: the
# light theme's old #2f2d2b gave #828180, 3.88:1 on white, as axe measured.
CAPTION_ALPHA = 0.6


@pytest.mark.parametrize("section", ["light", "dark"])
def test_theme_text_and_captions_meet_aa(section):
    theme = _theme(section)
    bg = cv.hex_rgb(theme.get("backgroundColor", "#ffffff"))
    text = cv.hex_rgb(theme["textColor"])
    caption = CAPTION_ALPHA * text + (1 - CAPTION_ALPHA) * bg  # blended in sRGB, as the browser does
    assert cv.contrast_ratio(text, bg) >= 7.0
    assert cv.contrast_ratio(caption, bg) >= 4.5
    # the accent colour is used for text (links, the active tab's label) and as a control's fill
    assert cv.contrast_ratio(cv.hex_rgb(theme["primaryColor"]), bg) >= 4.5


def test_chart_series_stand_out_on_both_themes():
    from cnnviz.ui.charts import SERIES_COLOURS

    for section in ("light", "dark"):
        bg = cv.hex_rgb(_theme(section).get("backgroundColor", "#ffffff"))
        for colour in SERIES_COLOURS:
            assert cv.contrast_ratio(cv.hex_rgb(colour), bg) >= 3.0, (section, colour)
