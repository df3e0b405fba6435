"""Charts and short teaching texts shared by pages."""

from __future__ import annotations

import altair as alt
import pandas as pd

PREDICT_EXPLAINER = """
The photo is resized and cropped to {size}×{size} pixels, and each colour channel is
normalised (the mean subtracted, divided by the spread) as in the model's training.
The network turns those numbers into one score per class (*logits*); **softmax** turns
the scores into probabilities that add up to 1. The bars show the five most probable
classes. A model trained on ImageNet only knows its 1000 classes: a photo of something
else still gets the closest of them.
"""


FED_EXPLAINER = """
The network never sees your photo as it is: it gets a {size}×{size} {channels} crop, its
pixel values shifted and scaled the way its training images were.
"""


def top_k_chart(top: list[dict]) -> alt.Chart:
    """Horizontal bars of the top-k classes, best on top, with the probability written."""
    df = pd.DataFrame(top)
    df["percent"] = (df["prob"] * 100).round(1)
    base = alt.Chart(df).encode(
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260, labelFontSize=15)),
        x=alt.X("percent:Q", title="probability (%)", scale=alt.Scale(domain=[0, 100])),
        tooltip=["label", "index", "percent"],
    )
    bars = base.mark_bar(color="#c2410c")
    text = base.mark_text(align="left", dx=4, fontSize=14).encode(text=alt.Text("percent:Q", format=".1f"))
    return (bars + text).properties(height=40 * len(df) + 20)
