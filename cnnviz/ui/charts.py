"""Charts and short teaching texts shared by pages."""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd
from babel.numbers import get_decimal_symbol, get_group_symbol

from cnnviz.a11y import chart_text
from cnnviz.i18n import N_, _, current, significant
from cnnviz.teaching.activations import histogram

# Shown with _(...).format(...) where the page writes them (the language is the reader's).
PREDICT_EXPLAINER = N_("""
The photo is resized and cropped to {size}×{size} pixels, and each colour channel is
normalised (the mean subtracted, divided by the spread) as in the model's training.
The network turns those numbers into one score per class (*logits*); **softmax** turns
the scores into probabilities that add up to 1. The bars show the five most probable
classes. A model trained on ImageNet only knows its 1000 classes: a photo of something
else still gets the closest of them.
""")


# {channels}: a phrase that follows the noun in every language ("colour"; "en color", "in Farbe")
FED_EXPLAINER = N_("""
The network never sees your photo as it is: it gets a {size}×{size} {channels} crop, its
pixel values shifted and scaled the way its training images were.
""")


def top_k_chart(top: list[dict]) -> dict:
    """Horizontal bars of the top-k classes, best on top, with the probability written: a
    Vega-Lite spec for ``st.vega_lite_chart(spec=...)``. Written as a dict, not with altair,
    because this chart is on every prediction and altair's validation of it cost 30–80 ms."""
    rows = [{"label": t["label"], "index": t["index"], "percent": round(t["prob"] * 100, 1)} for t in top]
    enc = {
        "y": {
            "field": "label",
            "type": "nominal",
            "sort": "-x",
            # no axis title (the class names say it), but a name for the marks' spoken labels
            "title": _("label"),
            "axis": {"title": None, "labelLimit": 260, "labelFontSize": 15},
        },
        "x": {"field": "percent", "type": "quantitative", "title": _("probability (%)"), "scale": {"domain": [0, 100]}},
        "tooltip": [
            {"field": f, "type": t, "title": title}
            for f, t, title in (
                ("label", "nominal", _("label")),
                ("index", "quantitative", _("index")),
                ("percent", "quantitative", _("percent")),
            )
        ],
    }
    number = {"field": "percent", "type": "quantitative", "format": ".1f", "title": _("percent")}
    # a number after its bar's end, except near 100 %, where it went past the chart's right
    # edge and was cut ("97.8" read "97."): there it is written inside the bar's end. Each
    # side's layer has every row (a condition blanks the others): a filtered layer would
    # reorder the shared class axis.
    sides = ((f"datum.percent < {INSIDE_FROM}", "left", 4), (f"datum.percent >= {INSIDE_FROM}", "right", -4))
    return {
        "description": chart_text.top_k(top),
        "data": {"values": rows},
        "height": 40 * len(rows) + 20,
        "layer": [
            {"mark": {"type": "bar", "color": "#c2410c"}, "encoding": enc},
            *(
                {
                    "mark": {"type": "text", "align": align, "dx": dx, "fontSize": 14, **style},
                    "encoding": {**enc, "text": {"condition": {"test": where, **number}, "value": ""}},
                }
                for where, align, dx in sides
                for style in (HALO, INK)
            ),
        ],
    }


INSIDE_FROM = 80  # % from which a bar's number is written inside its end


def vega_locale() -> dict:
    """Vega's number locale (``config.locale``) of the reader's language: the numbers Vega
    writes (axis ticks, values at bar ends, tooltips) get its decimal sign, "0,5" in German.
    ``present.chart`` gives it to every chart the app draws."""
    lang = current()
    return {
        "number": {
            "decimal": get_decimal_symbol(lang),
            "thousands": get_group_symbol(lang),
            "grouping": [3],
            "currency": ["", ""],
        }
    }


# Text written on a chart (values at bar ends, names at line ends): Streamlit themes the axes
# but not text marks, which Vega draws black - unreadable on the dark theme. Dark text on a
# white halo reads on either background (21:1 against its halo).
HALO = {"stroke": "#ffffff", "strokeWidth": 4, "strokeJoin": "round", "strokeOpacity": 0.9, "fill": "#ffffff"}
INK = {"fill": "#111111"}


# Two series on a chart (training / validation): each stands out 3:1 against both themes'
# backgrounds (WCAG 1.4.11, tests/unit/test_colour_vision.py), and they differ in lightness too.
SERIES_COLOURS = ("#c2410c", "#3b82f6")


def labelled(chart: alt.Chart, **mark) -> alt.LayerChart:
    """Text marks of ``chart`` (its encoding carries ``text``) drawn dark on a white halo."""
    return alt.layer(chart.mark_text(**mark, **HALO), chart.mark_text(**mark, **INK))


SOFTMAX_SERIES = ("T = 1", "your T")  # distinct names: same-named bars would stack


def softmax_series(temp: float) -> tuple[str, ...]:
    """The bar series the softmax chart draws: at T = 1 "your T" is the same number again, so one."""
    return SOFTMAX_SERIES[:1] if temp == 1.0 else SOFTMAX_SERIES


def softmax_chart(table: pd.DataFrame, temp: float) -> alt.Chart:
    """Grouped bars: each class's probability at T = 1 (grey) and at the chosen T (orange).

    ``table`` is :func:`cnnviz.teaching.activations.softmax_table`; a bar ends exactly at its number
    (``stack=None``: bars are never added on top of each other). At T = 1 each class has one
    bar: a second one would repeat the same number.
    """
    series = softmax_series(temp)
    ref, mine = SOFTMAX_SERIES
    yours = _("your T = {t}").format(t=significant(temp, 6))
    columns = {ref: "p1", mine: "pT"}
    # "T" is the series' key (sorts, colours); "shown" is what the tooltip says of it
    shown = {ref: ref, mine: _("your T")}
    long = pd.concat(
        [
            pd.DataFrame({"class": table["class"], "percent": table[columns[s]], "T": s, "shown": shown[s]})
            for s in series
        ],
        ignore_index=True,
    )
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("class:N", sort=list(table["class"]), title=None, axis=alt.Axis(labelFontSize=14, labelLimit=200)),
            yOffset=alt.YOffset("T:N", sort=list(series)),
            x=alt.X("percent:Q", title=_("probability (%)"), stack=None, scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "T:N",
                sort=list(series),
                scale=alt.Scale(domain=list(series), range=["#9ca3af", "#c2410c"][: len(series)]),
                legend=alt.Legend(
                    orient="top",
                    title=None,
                    labelFontSize=14,
                    # a JSON string is a Vega expression string, whatever quotes a translation has
                    labelExpr=f"datum.label == {json.dumps(mine)} ? {json.dumps(yours)} : datum.label",
                ),
            ),
            tooltip=[
                alt.Tooltip("class:N", title=_("class")),
                alt.Tooltip("shown:N", title="T"),
                alt.Tooltip("percent:Q", format=".2f", title=_("percent")),
            ],
        )
    )
    # not by colour alone: each bar of the top class is named at its end ("T = 1", "T = 2.5")
    first = long[long["class"] == table["class"].iloc[0]].assign(
        name=[ref, f"T = {significant(temp, 6)}"][: len(series)]
    )
    names = labelled(
        alt.Chart(first).encode(
            y=alt.Y("class:N", sort=list(table["class"])),
            yOffset=alt.YOffset("T:N", sort=list(series)),
            x="percent:Q",
            text="name:N",
        ),
        align="left",
        dx=4,
        fontSize=13,
    )
    text = chart_text.softmax(list(table["class"]), list(table["p1"]), list(table["pT"]), temp)
    chart = (bars + names).properties(height=(40 if len(series) == 2 else 28) * len(table), description=text)
    return chart


def function_chart(curve: pd.DataFrame, fn: str) -> alt.Chart:
    """The activation function as a line, y = f(x), with the axes through 0 drawn."""
    line = (
        alt.Chart(curve)
        .mark_line(color="#c2410c", strokeWidth=3)
        .encode(x=alt.X("x:Q", title=_("x (input)")), y=alt.Y("y:Q", title=f"{fn}(x)"))
    )
    zero = pd.DataFrame({"v": [0.0]})
    axes = alt.Chart(zero).mark_rule(color="#9ca3af").encode(y="v:Q") + alt.Chart(zero).mark_rule(
        color="#9ca3af"
    ).encode(x="v:Q")
    text = chart_text.function_curve(fn, curve["x"].to_numpy(), curve["y"].to_numpy())
    return (axes + line).properties(height=220, description=text)


def histogram_rows(
    df: pd.DataFrame,
    series: str,
    colours: tuple[str, ...],
    *,
    x: alt.X,
    y: alt.Y,
    x_title: str,
    x2: str | None = None,
    description: str,
    tooltip: list,
    height: int = 110,
) -> list[alt.Chart]:
    """One bar chart per value of column ``series`` of ``df`` (in order of appearance), to be
    drawn one under the other: each titled with its name and coloured (told apart by place and
    name, not by colour alone), all on ``x`` (give it a fixed domain, so that they compare);
    the x axis is titled under the last one, ``description`` is the first one's accessible
    text (it describes them all). ``x2``: the field where each bar ends (pre-binned data).

    Charts, not one faceted chart: a facet cannot take its container's width, and at
    Vega-Lite's default width it ran 250-420 px past a phone's screen.
    """
    names = list(dict.fromkeys(df[series]))
    out = []
    for i, (name, colour) in enumerate(zip(names, colours, strict=False)):
        last = i == len(names) - 1
        if i == 0:
            text = description
        else:
            text = _("The histogram of {name}; the first histogram's text describes them all.").format(name=name)
        axis = x.copy(deep=True)
        axis["title"] = x_title  # also the bars' spoken name; written under the last chart only
        if not last:
            axis["axis"] = alt.Axis(title=None)
        left = y.copy(deep=True)
        left["axis"] = alt.Axis(minExtent=44)  # the same room for the y labels: x axes line up
        out.append(
            alt.Chart(df[df[series] == name], title=str(name))
            .mark_bar(binSpacing=0, color=colour)
            .encode(x=axis, y=left, tooltip=tooltip, **({"x2": x2} if x2 else {}))
            # the height includes the title and the axes (Streamlit's charts fit their box)
            .properties(height=height + (30 if last else 0), description=text)
        )
    return out


def histogram_charts(before: np.ndarray, after: np.ndarray, fn: str, bins: int = 40) -> list[alt.Chart]:
    """Altair: the histograms of the values before and after an activation (:func:`histogram_rows`)."""
    finite = np.concatenate([v[np.isfinite(v)] for v in (before.ravel(), after.ravel())])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    frames = []
    # the series' names are data the charts show as their titles: in the reader's language
    for label, vals in ((_("before"), before), (_("after {fn}").format(fn=fn), after)):
        counts, edges = histogram(vals, bins, lo, hi)
        frames.append(pd.DataFrame({"value": edges[:-1], "end": edges[1:], "count": counts.astype(int), "map": label}))
    return histogram_rows(
        pd.concat(frames, ignore_index=True),
        "map",
        ("#6b7280", "#c2410c"),
        x=alt.X("value:Q", bin="binned", scale=alt.Scale(domain=[lo, hi])),
        y=alt.Y("count:Q", title=_("pixels"), stack=None, scale=alt.Scale(type="sqrt")),
        x_title=_("value"),
        x2="end:Q",
        description=chart_text.before_after(before, after, fn),
        tooltip=[
            alt.Tooltip("map:N", title=_("map")),
            alt.Tooltip("value:Q", title=_("value")),
            alt.Tooltip("count:Q", title=_("count")),
        ],
        height=170,
    )
