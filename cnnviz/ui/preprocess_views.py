"""The Preprocessing page's charts, texts and cached results, and its later steps: one pixel
to numbers, the tensor the model is fed, and what a wrong preprocessing does."""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from cnnviz import i18n, render
from cnnviz.a11y import alt_lessons, chart_text
from cnnviz.i18n import _, number, pgettext
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.models.preprocess import Preprocess
from cnnviz.teaching import preprocess_mistakes as pm
from cnnviz.teaching import preprocess_steps as ps
from cnnviz.ui import charts, loaders, present, state
from cnnviz.ui.charts import labelled
from cnnviz.ui.text import plain

CHANNEL_COLOURS = {"R": "#dc2626", "G": "#16a34a", "B": "#2563eb", "grey": "#525252"}


def channel_name(name: str) -> str:
    """A fed channel's name (preprocess_steps' "R", "G", "B" or "grey") as the reader reads it."""
    return pgettext("channel", "grey") if name == "grey" else name


def histogram_chart(rows: list[dict], *, lang: str = i18n.SOURCE, height: int = 180) -> alt.Chart:
    """Per-channel histograms as overlaid step lines (rows from preprocess_steps.histograms),
    its words in language ``lang`` (an argument, so chart_specs keeps one spec per language)."""
    with i18n.use(lang):
        return _histogram_chart(rows, height)


def _histogram_chart(rows: list[dict], height: int) -> alt.Chart:
    colours = {channel_name(n): c for n, c in CHANNEL_COLOURS.items()}
    df = pd.DataFrame(rows).rename(columns={"count": "pixels"})
    df["channel"] = df["channel"].map(channel_name)
    names = list(dict.fromkeys(df["channel"]))
    dashes = {n: d for n, d in zip(names, ([1, 0], [6, 3], [2, 2], [1, 0]), strict=False)}
    scale = alt.Scale(domain=names, range=[colours[n] for n in names])
    colour = alt.Color(
        "channel:N", scale=scale, legend=alt.Legend(title=None, symbolType="stroke", symbolStrokeWidth=3)
    )
    lines = (
        alt.Chart(df)
        .mark_line(interpolate="step-after", strokeWidth=2)
        .encode(
            x=alt.X("start:Q", title=_("value")),
            y=alt.Y("pixels:Q", title=_("pixels")),
            color=colour,
            # red and green look alike to many: each channel also has its own dash and its name
            # written at its highest bar
            strokeDash=alt.StrokeDash(
                "channel:N", scale=alt.Scale(domain=names, range=[dashes[n] for n in names]), legend=None
            ),
            tooltip=[
                alt.Tooltip("channel:N", title=_("channel")),
                alt.Tooltip("start:Q", format=".3f", title=_("start")),
                alt.Tooltip("end:Q", format=".3f", title=_("end")),
                alt.Tooltip("pixels:Q", title=_("pixels")),
            ],
        )
    )
    peaks = df.loc[df.groupby("channel", sort=False)["pixels"].idxmax()]
    labels = labelled(
        alt.Chart(peaks).encode(x="start:Q", y="pixels:Q", text="channel:N"), dy=-8, fontSize=14, fontWeight="bold"
    )
    shown = [{**r, "channel": channel_name(r["channel"])} for r in rows]
    return (lines + labels).properties(height=height, description=chart_text.channel_histograms(shown))


def pixel_frame(rows: list[dict], spec: Preprocess) -> pd.DataFrame:
    """The pixel table: one row per fed channel, the arithmetic spelled out."""
    return pd.DataFrame(
        {
            _("channel"): [channel_name(r["channel"]) for r in rows],
            _("pixel"): [r["pixel"] for r in rows],
            _("value") if spec.scale == 255.0 else "÷ 255": [round(r["scaled"], 4) for r in rows],
            _("− mean"): [round(r["mean"], 3) for r in rows],
            _("÷ std"): [round(r["std"], 3) for r in rows],
            _("= fed"): [round(r["fed"], 4) for r in rows],
        }
    )


def stats_frame(steps: ps.Steps) -> pd.DataFrame:
    """Per fed channel: mean and std used, and the channel's mean/std before and after."""
    return pd.DataFrame(
        {
            _("channel"): [channel_name(n) for n in steps.channel_names],
            _("mean used"): [round(m, 4) for m in steps.spec.mean],
            _("std used"): [round(s, 4) for s in steps.spec.std],
            _("before: mean"): steps.scaled.mean(axis=(1, 2)).round(3),
            _("before: std"): steps.scaled.std(axis=(1, 2)).round(3),
            _("after: mean"): steps.tensor[0].mean(axis=(1, 2)).round(3),
            _("after: std"): steps.tensor[0].std(axis=(1, 2)).round(3),
        }
    )


@loaders.shared_result
def mistake(lm: LoadedModel, img: Image.Image, kind: str) -> pm.Outcome:
    """The sidebar's model on ``img`` with the right preprocessing and with the mistake
    ``kind`` (preprocess_mistakes.KINDS): both top-5s and the sentence on the change."""
    return pm.outcome(lm, img, kind)


def why_text(spec: Preprocess) -> str:
    """Why this model's mean/std are what they are, in the model's own terms."""
    if spec.scale == 255.0:
        return _(
            "These weights were trained in Caffe: pixels stay in 0–255, the channels are fed in the "
            "order blue, green, red, and only the average colour of the training photos is taken off "
            "(no division). Fed anything else, the first layer sees numbers it never saw in training."
        )
    if spec.channels == 1:
        return _(
            "The mean and std are those of the training images, measured when the model was trained. "
            "Taking them off centres every input near 0 with a spread near 1, the range the first "
            "layer's weights were learned on."
        )
    return _(
        "The mean and std are per colour channel over the training photos. Subtracting the mean "
        "centres each channel near 0 and dividing by the std gives every channel a similar spread: "
        "the first layer's weights were learned on inputs like that, and training is easier when "
        "no channel dominates just because its numbers are bigger."
    )


def pixel_section(s: ps.Steps, n: int) -> None:
    """Step ``n``, "To numbers": one pixel of the final picture (``s``) chosen by row and column,
    circled, and its values through scaling and normalising, one row per channel."""
    spec = s.spec
    grey = spec.channels == 1
    st.header(_("{n} · To numbers").format(n=n))
    for key in (state.PRE_ROW, state.PRE_COL):  # a smaller model may leave a value out of range
        if not isinstance(st.session_state.get(key), int) or st.session_state[key] >= spec.size:
            st.session_state[key] = spec.size // 2
    left, right = st.columns([1, 1.4], gap="large")
    with right:
        row = st.slider(_("Pixel row"), 0, spec.size - 1, key=state.PRE_ROW)
        col = st.slider(_("Pixel column"), 0, spec.size - 1, key=state.PRE_COL)
        rows = s.pixel(row, col)
        st.dataframe(
            pixel_frame(rows, spec),
            hide_index=True,
            width="stretch",
            alt=_("Pixel ({row}, {col}): each channel's value, minus the mean, divided by the std, as fed").format(
                row=row, col=col
            ),
        )
        notes = [_("Pixel ({row}, {col}) of the {size}×{size} picture, one row per channel.")]
        if not grey:
            notes.append(
                _("The channels go in as B, G, R (Caffe's order).") if spec.bgr else _("The channels go in as R, G, B.")
            )
        if spec.scale == 255.0:
            notes.append(_("Pixels stay 0–255 (no ÷ 255)."))
        st.caption(" ".join(notes).format(row=row, col=col, size=spec.size))
    left.image(
        render.to_png(ps.mark_pixel(s.final, row, col, width=360)),
        caption=_("The chosen pixel, circled"),
        width="stretch",
        alt=alt_lessons.marked_pixel(row, col, spec.size),
    )


@dataclass(frozen=True)
class Prepared:
    """What the Preprocessing page shows for the sidebar's model and image, computed once and
    shared: a class following a lesson draws it in every session at once."""

    steps: ps.Steps
    before: list[dict]  # histogram rows of the values before normalising (ps.histograms)
    after: list[dict]  # ... of what the network is fed
    same: bool  # whether the steps give exactly what the model is fed (lm.preprocess)
    border: np.ndarray  # the resized picture, what the crop discards dimmed (ps.border_view)


@loaders.shared_result
def _prepared(lm: LoadedModel, img: Image.Image) -> Prepared:
    s = ps.steps(lm.preprocess_spec, img)
    return Prepared(
        s,
        ps.histograms(s.scaled, s.channel_names),
        ps.histograms(s.tensor[0], s.channel_names),
        torch.equal(torch.from_numpy(s.tensor), lm.preprocess(img).cpu()),
        ps.border_view(s.resized, s.box),
    )


def prepared() -> Prepared:
    """The page's steps for the sidebar's model and the session's image (shared, read-only)."""
    return _prepared()


def fed_section(s: ps.Steps, same: bool, n: int) -> None:
    """Step ``n``, "The tensor the model is fed": its shape, type and range, and whether these
    steps (``s``) give exactly what the model is fed (``same``, :class:`Prepared`)."""
    st.header(_("{n} · The tensor the model is fed").format(n=n))
    a, b, c, d = st.columns([1.5, 1, 1, 1])
    a.metric(_("Shape"), "×".join(str(v) for v in s.tensor.shape), help=_("batch × channels × height × width"))
    b.metric(_("Type"), str(s.tensor.dtype))
    c.metric(_("Smallest"), number(float(s.tensor.min()), 3))
    d.metric(_("Largest"), number(float(s.tensor.max()), 3))
    if same:
        st.success(_("These are exactly the numbers Predict feeds this model, checked one by one."))
    else:
        st.error(_("These steps do not reproduce the model's input; please report it."))


def mistakes_section(spec: Preprocess, n: int) -> None:
    """Step ``n``, "What if the preprocessing is wrong?": a mistake this model can be fed, and
    its top-5 beside the right preprocessing's."""
    st.header(_("{n} · What if the preprocessing is wrong?").format(n=n))
    kinds = pm.kinds_for(spec)[1:]  # every mistake this model can be fed ("right" is the left chart)
    if st.session_state.get(state.PRE_VARIANT) not in kinds:
        st.session_state[state.PRE_VARIANT] = kinds[0]
    labels = {k: pm.label(spec, k) for k in kinds}  # format_func: a dict's .get, no closure
    kind = st.radio(_("Feed it with"), kinds, key=state.PRE_VARIANT, format_func=labels.get, horizontal=True)
    outcome = mistake(kind)
    st.info(plain(outcome.sentence, 400))  # class names are data: never markdown
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(_("**Right preprocessing**"))
        st.vega_lite_chart(
            spec=present.chart(charts.top_k_chart([t.as_dict() for t in outcome.right])), width="stretch"
        )
    with right:
        wrong = labels[kind]
        st.markdown(f"**{wrong[:1].upper() + wrong[1:]}**")
        st.vega_lite_chart(
            spec=present.chart(charts.top_k_chart([t.as_dict() for t in outcome.wrong])), width="stretch"
        )
    with st.expander(_("What am I looking at?")):
        st.markdown(
            _(
                "A network only knows numbers, and only numbers like the ones it was trained on. Every model "
                "comes with its own recipe: picture size, how to crop, which channel order, which mean and "
                "spread. The same photo with a wrong recipe is, to the network, a different input — the "
                "prediction can shift a little or completely. Squashing changes the shapes the network sees; "
                "swapping red and blue changes colours it relies on (a tabby turns bluish); leaving out the "
                "normalisation or using 0–255 for 0–1 shifts or scales every number the first layer gets."
            )
        )
