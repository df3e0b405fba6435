"""The Train page's results: scores, advice when a run ends at chance, mix-ups, worst mistakes."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_lessons, chart_text
from cnnviz.i18n import _, number, percent, pgettext
from cnnviz.training import imageset
from cnnviz.training.recipes import chance_advice, recipe_for
from cnnviz.training.trainer import Snapshot, Trainer
from cnnviz.ui import present
from cnnviz.ui.charts import SERIES_COLOURS, labelled
from cnnviz.ui.text import plain

CONFUSION_NAMES = 20  # above this many classes the matrix is labelled by class number


def results_view(snap: Snapshot, t: Trainer) -> None:
    """Scores, a hint when the run learnt nothing, the confusion matrix, per-class accuracy and
    the validation images it got wrong while most sure of itself."""
    r, tds = snap.results, t.ds
    c = st.columns(4)
    chance = percent(1 / len(tds.classes), 0)
    c[0].metric(_("Validation accuracy"), percent(r.accuracy, 1), help=_("Chance would be {p}.").format(p=chance))
    epochs = snap.fit.epochs_done
    c[1].metric(_("Epochs"), number(epochs, 0 if float(epochs).is_integer() else 2))
    c[2].metric(_("Time"), _("{s} s").format(s=number(snap.fit.seconds, 1)))
    c[3].metric(_("Images per second"), number(snap.fit.images_per_second, 0))
    batchnorm = bool(t.arch.get("batchnorm"))
    advice = chance_advice(
        r.accuracy, len(tds.classes), recipe_for(tds.name), epochs=snap.fit.epochs_done, batchnorm=batchnorm
    )
    if advice:
        st.warning(advice, icon=":material/lightbulb:")
    left, right = st.columns(2)
    left.subheader(_("Confusion matrix"))
    left.altair_chart(present.chart(confusion_chart(r.confusion, tds.classes)), width="stretch")
    right.subheader(_("Accuracy per class"))
    right.altair_chart(present.chart(per_class_chart(r.per_class, tds.classes)), width="stretch")
    st.subheader(_("Most confidently wrong"))
    if len(r.wrong):
        k = min(8, len(r.wrong))
        named = [
            (tds.classes[tds.y[tds.val_idx[p]]], tds.classes[q], float(c))
            for p, q, c in zip(r.wrong[:k], r.wrong_pred[:k], r.wrong_conf[:k], strict=True)
        ]
        st.image(wrong_grid(tds, r.wrong[:k]), alt=alt_lessons.mistakes(named))
        st.caption(
            " · ".join(
                f"{i + 1}: {plain(tds.classes[tds.y[tds.val_idx[p]]], 40)} → {plain(tds.classes[q], 40)} "
                f"({percent(conf, 0)})"
                for i, (p, q, conf) in enumerate(zip(r.wrong[:k], r.wrong_pred[:k], r.wrong_conf[:k], strict=True))
            )
        )
    else:
        st.success(_("No mistakes on the validation set."))


def split_name(split: str) -> str:
    """The shown name of a data split ("train" or "validation") in the reader's language."""
    return pgettext("data split", "train") if split == "train" else pgettext("data split", "validation")


def split_colours() -> alt.Scale:
    """Training and validation in the series colours, keyed by their shown (translated) names."""
    return alt.Scale(domain=[split_name("train"), split_name("validation")], range=list(SERIES_COLOURS))


def curves(history: list[dict]) -> tuple[alt.Chart, alt.Chart] | None:
    """(loss chart, accuracy chart) against epochs; each fills its own column, so neither runs
    under the filters beside them. Training and validation differ in colour, dash (solid /
    dashed), marker (dots / squares) and a name at each line's end, so no one needs the colours."""
    rows = []
    train, val = split_name("train"), split_name("validation")
    for p in history:
        split = val if "val_loss" in p else train
        pre = "val" if "val_loss" in p else "train"
        rows += [
            {"epoch": p["epoch"], "split": split, "metric": "loss", "value": p[f"{pre}_loss"]},
            {"epoch": p["epoch"], "split": split, "metric": "accuracy", "value": p[f"{pre}_acc"]},
        ]
    if not rows:
        return None
    df = pd.DataFrame(rows)
    charts = []
    titles = {"loss": pgettext("chart axis", "loss"), "accuracy": pgettext("chart axis", "accuracy")}
    for metric in ("loss", "accuracy"):
        mine = df[df["metric"] == metric]
        base = alt.Chart(mine).encode(
            x=alt.X("epoch:Q", title=_("epoch")),
            y=alt.Y("value:Q", title=titles[metric]),
            color=alt.Color("split:N", scale=split_colours(), legend=alt.Legend(orient="top", title=None)),
            tooltip=[
                alt.Tooltip("epoch:Q", title=_("epoch")),
                alt.Tooltip("split:N", title=_("split")),
                alt.Tooltip("value:Q", title=titles[metric]),
            ],
        )
        dash = alt.StrokeDash("split:N", scale=alt.Scale(domain=[train, val], range=[[1, 0], [6, 3]]))
        shape = alt.Shape("split:N", scale=alt.Scale(domain=[train, val], range=["circle", "square"]))
        last = mine.loc[mine.groupby("split")["epoch"].idxmax()]
        # The higher line's name above its end, the other's below: both lines end at the same
        # epoch, often at close values, where two names above them overlapped.
        top = last["value"].idxmax()
        names = alt.layer(
            *(
                labelled(
                    alt.Chart(part).encode(x="epoch:Q", y="value:Q", text="split:N"),
                    align="left",
                    dx=6,
                    dy=dy,
                    fontSize=13,
                )
                for part, dy in ((last.loc[[top]], -8), (last.drop(index=top), 12))
            )
        )
        layered = base.mark_line().encode(strokeDash=dash) + base.mark_point(filled=True, size=45).encode(shape=shape)
        text = chart_text.training(history, metric)
        charts.append((layered + names).properties(height=200, description=text))
    return charts[0], charts[1]


def confusion_chart(confusion: np.ndarray, classes: list[str]) -> alt.Chart:
    """Heat map of (true, predicted) counts: only the non-zero cells travel to the browser,
    and with many classes they are labelled by number (K² named cells of 300 classes once
    sent gigabytes)."""
    names = [c[:24] for c in classes] if len(classes) <= CONFUSION_NAMES else [str(i) for i in range(len(classes))]
    i, j = np.nonzero(confusion)
    df = pd.DataFrame({"true": [names[a] for a in i], "predicted": [names[b] for b in j], "images": confusion[i, j]})
    base = alt.Chart(df).encode(
        x=alt.X("predicted:N", sort=names, title=_("predicted")), y=alt.Y("true:N", sort=names, title=_("true"))
    )
    tips = [
        alt.Tooltip("true:N", title=_("true")),
        alt.Tooltip("predicted:N", title=_("predicted")),
        alt.Tooltip("images:Q", title=_("images")),
    ]
    heat = base.mark_rect().encode(
        color=alt.Color("images:Q", scale=alt.Scale(scheme="oranges"), title=_("images")), tooltip=tips
    )
    chart = heat + base.mark_text(fontSize=13).encode(text="images:Q") if len(classes) <= CONFUSION_NAMES else heat
    return chart.properties(
        height=min(480, 44 * len(classes) + 60), description=chart_text.confusion(confusion, classes)
    )


def per_class_chart(per_class: np.ndarray, classes: list[str]) -> alt.Chart:
    """Horizontal bars: the percentage of each class's validation images named correctly."""
    df = pd.DataFrame({"class": classes, "accuracy (%)": np.round(np.nan_to_num(per_class) * 100, 1)})
    title = _("accuracy (%)")
    return (
        alt.Chart(df)
        .mark_bar(color="#c2410c")
        .encode(
            y=alt.Y("class:N", sort=None, title=None),
            x=alt.X("accuracy (%):Q", scale=alt.Scale(domain=[0, 100]), title=title),
            tooltip=[alt.Tooltip("class:N", title=_("class")), alt.Tooltip("accuracy (%):Q", title=title)],
        )
        .properties(height=min(480, 44 * len(classes) + 60), description=chart_text.per_class(per_class, classes))
    )


def wrong_grid(ds: imageset.ImageDataset, positions: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 tiles of validation images at ``positions`` (into ds.val_idx)."""
    imgs = ds.x[ds.val_idx[positions]].transpose(0, 2, 3, 1)
    imgs = np.repeat(imgs, 3, axis=-1) if imgs.shape[-1] == 1 else imgs
    grid = render.tile(imgs, ncols=len(imgs), pad=2, fill=255).astype(np.uint8)
    return render.upscale(grid, render.fit_factor(grid.shape[1], 640))
