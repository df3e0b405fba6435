"""Presenter mode's sizes for this session's charts and picture labels (cnnviz.presenter).

The page's CSS enlarges text in rem; a chart (text in px, drawn by Vega-Lite) or a label
drawn into a picture grows only through these.
"""

from __future__ import annotations

import streamlit as st

from cnnviz.presenter import ROOT_PX, label_px, scale_chart_fonts
from cnnviz.ui.share import presenting


def _base_px() -> float:
    return float(st.get_option("theme.baseFontSize") or 16)


def factor() -> float:
    """How much larger text is in this session: ROOT_PX / the theme's base in presenter mode, else 1."""
    return ROOT_PX / _base_px() if presenting() else 1.0


def chart(c):
    """An Altair chart or Vega-Lite spec (dict) with its text as large as the page's."""
    return scale_chart_fonts(c, factor(), _base_px())


def label(base: int) -> int:
    """The size (px) of a label drawn into a picture that is ``base`` px outside presenter mode."""
    return label_px(base, factor())
