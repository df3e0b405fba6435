"""This session's charts and picture labels: presenter mode's sizes (cnnviz.lessons.presenter), and
the numbers charts write in the reader's language.

The page's CSS enlarges text in rem; a chart (text in px, drawn by Vega-Lite) or a label
drawn into a picture grows only through these.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from cnnviz import i18n
from cnnviz.lessons.presenter import ROOT_PX, label_px, scale_chart_fonts
from cnnviz.ui.charts import vega_locale
from cnnviz.ui.share import presenting


def _base_px() -> float:
    return float(st.get_option("theme.baseFontSize") or 16)


def factor() -> float:
    """How much larger text is in this session: ROOT_PX / the theme's base in presenter mode, else 1."""
    return ROOT_PX / _base_px() if presenting() else 1.0


def chart(c):
    """An Altair chart or Vega-Lite spec (dict) with its text as large as the page's, and
    the numbers Vega writes (ticks, values, tooltips) in the reader's language ("0,5")."""
    return scale_chart_fonts(number_locale(c), factor(), _base_px())


def number_locale(c):
    """``c`` (an Altair chart or a Vega-Lite dict, not changed) with the reader's number locale."""
    if i18n.current() == i18n.SOURCE:  # Vega's own number format is the English one
        return c
    if isinstance(c, dict):
        config = c.get("config") or {}
        return c if "locale" in config else {**c, "config": {**config, "locale": vega_locale()}}
    if c.config is alt.Undefined:
        return c.configure(locale=vega_locale())
    if c.config.locale is alt.Undefined:
        c = c.copy(deep=["config"])
        c.config.locale = vega_locale()
    return c


def label(base: int) -> int:
    """The size (px) of a label drawn into a picture that is ``base`` px outside presenter mode."""
    return label_px(base, factor())
