"""Presenter mode's sizes for text the page's CSS cannot reach.

Presenter mode sets the page's root font to ``ROOT_PX`` (the theme's base is 17 px), so every
text Streamlit sizes in rem grows by ``ROOT_PX / base``. Two kinds of text do not follow:
Vega-Lite charts draw theirs in pixels (their own font sizes, else the chart theme's), and
pictures carry labels drawn into their pixels (the Network diagram). Both take the same
factor from here. Pure: no Streamlit.
"""

from __future__ import annotations

from typing import Any

import altair as alt

ROOT_PX = 21  # the page's root font in presenter mode (cnnviz/ui/share.py's CSS)
# Vega-Lite properties that are a font size in pixels, wherever they appear (marks, axes,
# legends, titles, headers, config)
FONT_KEYS = frozenset({"fontSize", "labelFontSize", "titleFontSize", "subtitleFontSize"})


def theme_fonts(base_px: float) -> dict[str, dict[str, float]]:
    """The font sizes Streamlit's chart theme gives a chart that sets none, for a theme whose
    base font is ``base_px``: axis labels 0.75 rem, axis titles and legends 0.875 rem, facet
    headers and chart titles 1 rem (Streamlit 1.67's Vega-Lite theme); mark text as axis labels.

    Returns:
        {config section: {property: px}}, e.g. {"axis": {"labelFontSize": 12.75, ...}, ...}.
    """
    two_sm, sm, md = 0.75 * base_px, 0.875 * base_px, base_px
    return {
        "axis": {"labelFontSize": two_sm, "titleFontSize": sm},
        "legend": {"labelFontSize": sm, "titleFontSize": sm},
        "header": {"labelFontSize": two_sm, "titleFontSize": md},
        "title": {"fontSize": md, "subtitleFontSize": sm},
        "text": {"fontSize": two_sm},
    }


def _scaled(obj: Any, factor: float) -> Any:
    """``obj`` (a spec's dict/list, or an Altair object) with every FONT_KEYS number times ``factor``."""
    if isinstance(obj, dict):
        return {k: _scale_value(k, v, factor) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_scaled(v, factor) for v in obj]
    if isinstance(obj, alt.SchemaBase):  # Altair keeps the properties set on it in _kwds
        out = obj.copy(deep=False)
        for k, v in obj._kwds.items():
            if v is not alt.Undefined:
                out[k] = _scale_value(k, v, factor)
        return out
    return obj  # numbers elsewhere, strings, data frames, Undefined


def _scale_value(key: str, value: Any, factor: float) -> Any:
    if key in FONT_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * factor, 1)
    return _scaled(value, factor)


def _with_defaults(config: dict, defaults: dict[str, dict[str, float]], factor: float) -> dict:
    """``config`` (already scaled) plus every theme size it does not set, times ``factor``."""
    out = dict(config)
    for section, sizes in defaults.items():
        merged = {k: round(v * factor, 1) for k, v in sizes.items()}
        merged.update(out.get(section) or {})
        out[section] = merged
    return out


def scale_chart_fonts(chart: dict | alt.TopLevelMixin, factor: float, base_px: float) -> dict | alt.TopLevelMixin:
    """A copy of ``chart`` whose text is ``factor`` times larger.

    Args:
        chart: a Vega-Lite spec (dict) or an Altair top-level chart (Chart, LayerChart, ...).
        factor: e.g. ``ROOT_PX / base_px`` in presenter mode; 1 returns ``chart`` itself.
        base_px: the theme's base font size (Streamlit's ``theme.baseFontSize``).

    Returns:
        The same kind of object: every font size the chart sets is scaled, and the chart
        theme's sizes it does not set are written into its ``config``, scaled.
    """
    if factor == 1:
        return chart
    defaults = theme_fonts(base_px)
    if isinstance(chart, dict):
        out = _scaled(chart, factor)
        out["config"] = _with_defaults(out.get("config") or {}, defaults, factor)
        return out
    out = _scaled(chart, factor)
    config = {} if out.config is alt.Undefined else out.config.to_dict()
    out.config = alt.Config.from_dict(_with_defaults(config, defaults, factor))
    return out


def label_px(base: int, factor: float) -> int:
    """A label size drawn into a picture (px), ``factor`` times ``base``, whole pixels."""
    return max(base, round(base * factor))
