"""Tables and charts of the inside-the-network pages: layer catalogue, receptive fields, filter norms."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from cnnviz.a11y import chart_text
from cnnviz.i18n import N_, _
from cnnviz.inside.catalogue import LayerInfo
from cnnviz.ui.charts import histogram_rows

# The layer table's columns (the CLI's `layers` fields), as the page shows them.
CATALOGUE_COLUMNS = {
    "layer": N_("layer"),
    "type": N_("type"),
    "output": N_("output"),
    "params": N_("params"),
    "receptive field": N_("receptive field"),  # i18n: not UI (the key: the CLI's field)
    "jump": N_("jump"),
    "block": N_("block"),
}


def catalogue_frame(layers: list[LayerInfo]) -> pd.DataFrame:
    """One row per layer call, indented by depth; columns the CLI's `layers` fields, headed in
    the reader's language (:data:`CATALOGUE_COLUMNS`; a page's ``column_config`` names them
    with ``_(CATALOGUE_COLUMNS[key])``)."""
    columns = {
        "layer": ["\u2003" * la.depth + la.name for la in layers],
        "type": [la.type for la in layers],
        "output": ["×".join(map(str, la.out_shape)) for la in layers],
        "params": [la.params for la in layers],
        "receptive field": [la.rf for la in layers],  # i18n: not UI (a key of CATALOGUE_COLUMNS)
        "jump": [la.jump if la.jump is not None else None for la in layers],
        "block": [la.group for la in layers],
    }
    return pd.DataFrame({_(CATALOGUE_COLUMNS[k]): v for k, v in columns.items()})


def rf_chart(layers: list[LayerInfo], size: int) -> alt.Chart:
    """Receptive field of each conv layer in forward order, with the input size as a rule."""
    convs = [la for la in layers if la.kind == "conv"]
    df = pd.DataFrame(
        {
            "step": range(1, len(convs) + 1),
            "layer": [la.name for la in convs],
            "rf": [la.rf for la in convs],
            "jump": [la.jump for la in convs],
        }
    )
    line = (
        alt.Chart(df)
        .mark_line(point=True, color="#c2410c")
        .encode(
            x=alt.X("step:Q", title=_("convolution layer (forward order)")),
            y=alt.Y("rf:Q", title=_("receptive field (pixels)")),
            tooltip=[
                alt.Tooltip("layer:N", title=_("layer")),
                alt.Tooltip("rf:Q", title=_("rf")),
                alt.Tooltip("jump:Q", title=_("jump")),
            ],
        )
    )
    rule = alt.Chart(pd.DataFrame({"y": [size]})).mark_rule(strokeDash=[6, 4], color="#475569").encode(y="y:Q")
    text = chart_text.receptive_fields([la.name for la in convs], [la.rf for la in convs], size)
    return (line + rule).properties(height=260, description=text)


def norms_histogram(norms: dict[str, np.ndarray], bins: int = 30) -> list[alt.Chart]:
    """Histograms of filter L2 norms, one chart per weight set (e.g. trained / random), drawn one
    under the other on the same x axis (:func:`cnnviz.ui.charts.histogram_rows`)."""
    hi = max(float(v.max()) for v in norms.values()) or 1.0
    edges = np.linspace(0.0, hi, bins + 1)
    rows = []
    for label, v in norms.items():
        counts = np.histogram(v, bins=edges)[0]
        rows += [
            {"weights": label, "norm": (edges[j] + edges[j + 1]) / 2, "filters": int(n)} for j, n in enumerate(counts)
        ]
    return histogram_rows(
        pd.DataFrame(rows),
        "weights",
        ("#c2410c", "#2563eb"),
        x=alt.X("norm:Q", bin=alt.Bin(binned=True, step=float(edges[1] - edges[0])), scale=alt.Scale(domain=[0, hi])),
        y=alt.Y("filters:Q", title=_("filters"), stack=None),
        x_title=_("filter norm (L2)"),
        description=chart_text.filter_norms(norms),
        tooltip=[
            alt.Tooltip("weights:N", title=_("weights")),
            alt.Tooltip("norm:Q", format=".3f", title=_("norm")),
            alt.Tooltip("filters:Q", title=_("filters")),
        ],
        height=150,
    )
