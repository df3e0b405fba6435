"""The top-k bar chart: every probability written where it can be read (issue 25: "97.8"
went past the chart's right edge on Fool the network and was cut)."""

from __future__ import annotations

import re

from cnnviz.ui.charts import INSIDE_FROM, top_k_chart


def _holds(where: str, percent: float) -> bool:
    op, bound = re.fullmatch(r"datum\.percent (<|>=) ([0-9.]+)", where).groups()
    return percent < float(bound) if op == "<" else percent >= float(bound)


def test_each_number_is_written_once_and_inside_the_chart():
    top = [{"label": "tabby", "index": 281, "prob": 0.978}, {"label": "tiger cat", "index": 282, "prob": 0.012}]
    spec = top_k_chart(top)
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    for row in spec["data"]["values"]:
        assert all("transform" not in t for t in texts)  # every layer keeps every row: one class order
        drawn = [t["mark"] for t in texts if _holds(t["encoding"]["text"]["condition"]["test"], row["percent"])]
        assert len(drawn) == 2  # halo and ink, one place
        for mark in drawn:
            if row["percent"] >= INSIDE_FROM:  # near 100 %: inside the bar's end, never past the axis
                assert mark["align"] == "right" and mark["dx"] < 0
            else:  # after the bar's end
                assert mark["align"] == "left" and mark["dx"] > 0
    assert [r["percent"] for r in spec["data"]["values"]] == [97.8, 1.2]
