"""Charts, texts and cached results of the Preprocessing page."""

from __future__ import annotations

import altair as alt
import pandas as pd
from PIL import Image

from cnnviz import i18n
from cnnviz.a11y import chart_text
from cnnviz.i18n import _, pgettext
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.models.preprocess import Preprocess
from cnnviz.teaching import preprocess_mistakes as pm
from cnnviz.teaching import preprocess_steps as ps
from cnnviz.ui import loaders
from cnnviz.ui.charts import labelled

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
