"""Colour scales: a colour strip with its two ends labelled, in one row at every width.

Three ``st.columns`` (label, strip, label) stack on a phone, which put the low label above
the strip and the high one below it: read top to bottom, "min" sat over the bright end. A
flex row that never wraps keeps each label at its end of the strip; the labels are text (they
grow in presenter mode and a screen reader reads them) and the strip is a CSS gradient of the
colormap's own lookup table (``render.gradient_css``).
"""

from __future__ import annotations

import html

import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_text

_ROW = (
    '<div class="cnnviz-scale" style="display:flex;flex-wrap:nowrap;align-items:center;gap:0.5rem;'
    'max-width:34rem;margin:0.25rem 0">'
    '<span class="cnnviz-scale-low" style="white-space:nowrap">{low}</span>'
    '<span class="cnnviz-scale-strip" role="img" aria-label="{label}" style="flex:1 1 auto;min-width:4rem;'
    'height:1rem;border-radius:2px;background:{gradient}"></span>'
    '<span class="cnnviz-scale-high" style="white-space:nowrap">{high}</span></div>'
)


def colour_scale(cmap: str, low: str, high: str, middle: str | None = None) -> None:
    """Draw ``cmap`` as a strip, ``low`` written at its left (low) end, ``high`` at its right.

    Args:
        cmap: a matplotlib colormap name (as the picture it explains uses).
        low, high: the values or words at the two ends, e.g. "0" and "6.2", "negative" and "positive".
        middle: what the middle of a diverging map stands for (e.g. "0"): in the spoken label only.
    """
    row = _ROW.format(
        low=html.escape(low),
        high=html.escape(high),
        label=html.escape(alt_text.colour_scale(cmap, low, high, middle), quote=True),
        gradient=render.gradient_css(cmap),
    )
    st.markdown(row, unsafe_allow_html=True)
