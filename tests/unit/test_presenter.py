"""Presenter mode's chart and label sizes (cnnviz.lessons.presenter): numbers by hand."""

from __future__ import annotations

import copy

import altair as alt
import pandas as pd

from cnnviz.lessons.presenter import label_px, scale_chart_fonts, theme_fonts

F = 21 / 17  # presenter mode's root font over the project's theme base (.streamlit/config.toml)


def test_theme_fonts_are_streamlits_rem_sizes_of_the_base():
    t = theme_fonts(16)
    assert t["axis"] == {"labelFontSize": 12.0, "titleFontSize": 14.0}  # 0.75 and 0.875 rem
    assert t["title"]["fontSize"] == 16.0 and t["legend"]["labelFontSize"] == 14.0


def test_a_spec_dict_gets_every_size_scaled_and_the_theme_sizes_it_lacks():
    spec = {
        "mark": {"type": "bar"},
        "layer": [{"mark": {"type": "text", "fontSize": 14}}],
        "config": {"axis": {"labelLimit": 260, "labelFontSize": 15}},
    }
    before = copy.deepcopy(spec)
    out = scale_chart_fonts(spec, F, 17)
    assert spec == before  # a copy: the shared builder's spec is untouched
    assert out["layer"][0]["mark"]["fontSize"] == 17.3  # 14 × 21/17 = 17.29
    assert out["config"]["axis"] == {"labelLimit": 260, "labelFontSize": 18.5, "titleFontSize": 18.4}
    # 15 × 21/17 = 18.53; the theme's axis title 0.875 × 17 = 14.875 → × 21/17 = 18.375
    assert out["config"]["title"]["fontSize"] == 21.0  # 1 rem of 17 px → 21 px, as the page's text
    assert out["config"]["text"]["fontSize"] == 15.8  # 12.75 × 21/17 = 15.75


def test_an_altair_chart_keeps_its_kind_and_its_data():
    df = pd.DataFrame({"x": [1, 2], "c": ["a", "b"]})
    base = alt.Chart(df).encode(
        x=alt.X("x:Q", axis=alt.Axis(labelFontSize=14)),
        color=alt.Color("c:N", legend=alt.Legend(labelFontSize=10)),
    )
    chart = base.mark_bar() + base.mark_text(fontSize=13).encode(text="x:Q")
    before = chart.to_dict()
    out = scale_chart_fonts(chart, F, 17)
    assert isinstance(out, alt.LayerChart)
    got = out.to_dict()
    assert chart.to_dict() == before
    assert got["layer"][1]["mark"] == {"type": "text", "fontSize": 16.1}  # 13 × 21/17 = 16.06
    assert got["layer"][0]["encoding"]["x"]["axis"] == {"labelFontSize": 17.3}
    assert got["layer"][0]["encoding"]["color"]["legend"] == {"labelFontSize": 12.4}
    assert got["config"]["axis"] == {"labelFontSize": 15.8, "titleFontSize": 18.4}
    assert got["datasets"] == before["datasets"]


def test_outside_presenter_mode_nothing_changes():
    spec = {"mark": "bar", "config": {"axis": {"labelFontSize": 15}}}
    assert scale_chart_fonts(spec, 1.0, 17) is spec


def test_label_px():
    assert label_px(11, F) == 14  # 13.6 → 14
    assert label_px(11, 1.0) == 11
