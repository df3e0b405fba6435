"""The colour scales' strip (render.gradient_css): the colormap's own colours, low end at the left."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib import colormaps

from cnnviz import render


def _stops(css: str) -> list[tuple[tuple[int, int, int], float]]:
    assert css.startswith("linear-gradient(to right, ") and css.endswith(")")
    found = re.findall(r"#([0-9a-f]{6}) ([0-9.]+)%", css)
    return [(tuple(int(h[i : i + 2], 16) for i in (0, 2, 4)), float(p)) for h, p in found]


@pytest.mark.parametrize("cmap", ["viridis", "RdBu_r", "jet", "gray"])
def test_the_strip_walks_the_colormap_from_left_to_right(cmap):
    stops = _stops(render.gradient_css(cmap, stops=5))
    assert [p for _, p in stops] == [0.0, 25.0, 50.0, 75.0, 100.0]
    # matplotlib's own colours at 0, 1/4, ... 1 (its 256-entry table: index round(x * 255))
    want = [
        tuple(int(v) for v in np.round(np.asarray(colormaps[cmap](i / 255))[:3] * 255)) for i in (0, 64, 128, 191, 255)
    ]
    assert [c for c, _ in stops] == want


def _luminance(rgb) -> float:
    r, g, b = (c / 255 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_low_end_is_the_dark_one():
    stops = _stops(render.gradient_css("viridis"))
    assert len(stops) == 33
    assert _luminance(stops[0][0]) < 0.1 < 0.8 < _luminance(stops[-1][0])  # dark purple ... yellow
    (r0, _, b0), (r1, _, b1) = stops[0][0], stops[-1][0]
    assert b0 > r0 and r1 > b1  # more blue than red at the left, more red than blue at the right
    rd = _stops(render.gradient_css("RdBu_r"))
    assert rd[0][0][2] > rd[0][0][0] and rd[-1][0][0] > rd[-1][0][2]


def test_the_legend_reads_the_strip_as_it_is_drawn():
    """Issue 25: the strip is horizontal, so its sentence says left and right, not top and bottom."""
    legend = render.display(np.array([[0.0, 2.0], [1.0, 0.5]]), cmap="jet").legend
    assert "right end" in legend and "left" in legend
    assert "top" not in legend and "bottom" not in legend
