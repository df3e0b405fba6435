"""Descriptions of the app's charts, computed from the numbers they plot.

Each becomes the Vega-Lite spec's top-level ``description`` (and the chart's accessible
name): what a sighted student reads off the chart, in one or two sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cnnviz.a11y.alt_text import quoted
from cnnviz.a11y.regions import percent
from cnnviz.i18n import N_, _, ngettext, number, significant


def _pct(p: float) -> str:
    """93.44 → '93.4 %' ('93,4 %' in German and Spanish)."""
    return _("{n} %").format(n=number(p, 1))


def trend(first: float, last: float, show=significant) -> str:
    """How a value moved: 'rose from 41 % to 97 %' / 'fell from 2.1 to 0.12' / 'stayed at 0.5'.

    Args:
        first: the first value.
        last: the last value.
        show: writes a value (e.g. :func:`~cnnviz.i18n.percent`).

    Returns:
        The clause, in the reader's language.
    """
    a, b = show(first), show(last)
    if a == b:
        return _("stayed at {value}").format(value=a)
    if last > first:
        return _("rose from {first} to {last}").format(first=a, last=b)
    return _("fell from {first} to {last}").format(first=a, last=b)


def top_k(top: Sequence[Mapping]) -> str:
    """Bars of the most probable classes.

    Args:
        top: dicts with 'label' and 'prob' (0..1), best first.

    Returns:
        One sentence in the reader's language.
    """
    bars = ", ".join(f"{quoted(t['label'])} {_pct(t['prob'] * 100)}" for t in top)
    return _("Bar chart of the {n} most probable classes, most probable first: {bars}.").format(n=len(top), bars=bars)


def softmax(classes: Sequence[str], p1: Sequence[float], pt: Sequence[float], temp: float) -> str:
    """Grouped bars of probabilities at T = 1 and at the chosen T (one bar per class at T = 1).

    Args:
        classes: the classes' names.
        p1: their probabilities (%) at T = 1.
        pt: their probabilities (%) at ``temp``.
        temp: the chosen temperature.

    Returns:
        One sentence in the reader's language.
    """
    if temp == 1.0:
        bars = ", ".join(f"{quoted(c)} {_pct(a)}" for c, a in zip(classes, p1, strict=True))
        return _("Bar chart of the {n} most probable classes at T = 1: {bars}.").format(n=len(classes), bars=bars)
    pairs = ", ".join(f"{quoted(c)} {number(a, 1)} → {_pct(b)}" for c, a, b in zip(classes, p1, pt, strict=True))
    return _("Bar chart of the {n} most probable classes at T = 1 and at T = {t}: {pairs}.").format(
        n=len(classes), t=significant(temp, 6), pairs=pairs
    )


def function_curve(fn: str, x: np.ndarray, y: np.ndarray) -> str:
    """A line y = fn(x) over the range of x drawn.

    Args:
        fn: the function's name.
        x: the x values.
        y: the y values.

    Returns:
        One sentence in the reader's language.
    """
    return _(
        "Line chart of {fn}(x) for x from {x0} to {x1}: y goes from {y0} to {y1} (lowest {low}, highest {high})."
    ).format(
        fn=fn,
        x0=number(x.min(), 2),
        x1=number(x.max(), 2),
        y0=number(y[0], 2),
        y1=number(y[-1], 2),
        low=number(y.min(), 2),
        high=number(y.max(), 2),
    )


def before_after(before: np.ndarray, after: np.ndarray, fn: str) -> str:
    """Histograms of a map's values before and after an activation.

    Args:
        before: the values before.
        after: the values after.
        fn: the activation's name.

    Returns:
        One sentence in the reader's language.
    """
    b, a = np.asarray(before).ravel(), np.asarray(after).ravel()
    return _(
        "Histograms of the {n} values before and after {fn}: before from {b0} to {b1}, {negative} negative; "
        "after from {a0} to {a1}, {zero} exactly zero."
    ).format(
        n=number(b.size, 0),
        fn=fn,
        b0=number(b.min(), 2),
        b1=number(b.max(), 2),
        negative=percent((b < 0).mean()),
        a0=number(a.min(), 2),
        a1=number(a.max(), 2),
        zero=percent((a == 0).mean()),
    )


def receptive_fields(names: Sequence[str], rf: Sequence[int], size: int) -> str:
    """Receptive field (px) of each conv layer in forward order, with the input size marked.

    Args:
        names: the conv layers' names.
        rf: their receptive fields in pixels.
        size: the input's side.

    Returns:
        The text, in the reader's language.
    """
    if not rf:
        return _("No convolution layers to chart.")
    whole = next((i for i, r in enumerate(rf) if r >= size), None)
    values = {"n": len(rf), "first": rf[0], "first_layer": names[0], "last": rf[-1], "last_layer": names[-1]}
    if whole is None:
        return _(
            "Line chart of the receptive field of the {n} convolution layers in forward order: from "
            "{first} px at {first_layer} to {last} px at {last_layer}."
        ).format(**values)
    return _(
        "Line chart of the receptive field of the {n} convolution layers in forward order: from "
        "{first} px at {first_layer} to {last} px at {last_layer}; it reaches the input size ({size} px) at "
        "layer {i}, {layer}."
    ).format(**values, size=size, i=whole + 1, layer=names[whole])


def filter_norms(norms: Mapping[str, np.ndarray]) -> str:
    """Histograms of filter L2 norms, one per weight set (e.g. trained / random).

    Args:
        norms: the set's name as shown -> (O,) norms.

    Returns:
        The text, in the reader's language.
    """
    parts = [
        _("{name}: {n} filters from {low} to {high}, median {median}").format(
            name=name, n=len(v), low=significant(v.min()), high=significant(v.max()), median=significant(np.median(v))
        )
        for name, v in norms.items()
    ]
    return _("Histograms of the filters' sizes (L2 norms). {parts}.").format(parts="; ".join(parts))


def channel_histograms(rows: Sequence[Mapping]) -> str:
    """Per-channel pixel histograms.

    Args:
        rows: rows with 'channel' (its name as shown), 'start', 'end', 'count'.

    Returns:
        The text, in the reader's language.
    """
    parts = []
    for name in dict.fromkeys(r["channel"] for r in rows):
        mine = [r for r in rows if r["channel"] == name]
        counts = np.array([r["count"] for r in mine], dtype=np.float64)
        mids = np.array([(r["start"] + r["end"]) / 2 for r in mine])
        cum = np.cumsum(counts) / max(counts.sum(), 1)
        lo, hi = mids[np.searchsorted(cum, 0.1)], mids[min(len(mids) - 1, np.searchsorted(cum, 0.9))]
        parts.append(
            _("{name} mostly between {low} and {high}").format(name=name, low=number(lo, 2), high=number(hi, 2))
        )
    return _("Histograms of the pixel values per channel: {parts}.").format(parts="; ".join(parts))


# What a training curve's sentence starts with, by (split, metric); metric is a key: "loss", "accuracy".
CURVES = {
    ("train", "loss"): N_("Training loss {trend}"),
    ("val", "loss"): N_("validation loss {trend}"),
    ("train", "accuracy"): N_("Training accuracy {trend}"),
    ("val", "accuracy"): N_("validation accuracy {trend}"),
}
NOTHING_YET = {"loss": N_("No loss yet."), "accuracy": N_("No accuracy yet.")}


def training(history: Sequence[Mapping], metric: str) -> str:
    """Training and validation curves of one metric.

    Args:
        history: points with "epoch" and either train_loss/train_acc or val_loss/val_acc.
        metric: "loss" or "accuracy".

    Returns:
        The text, in the reader's language.
    """
    key = "acc" if metric == "accuracy" else "loss"
    show = percent if metric == "accuracy" else significant
    parts = []
    for pre in ("train", "val"):
        pts = [p for p in history if f"{pre}_{key}" in p]
        if pts:
            parts.append(
                _(CURVES[pre, metric]).format(trend=trend(pts[0][f"{pre}_{key}"], pts[-1][f"{pre}_{key}"], show))
            )
    if not parts:
        return _(NOTHING_YET[metric])
    epochs = max(p["epoch"] for p in history)
    return ngettext(
        "{curves}, over {n} epoch. Training is the solid line with dots, validation the dashed line with "
        "squares, each labelled at its end.",
        "{curves}, over {n} epochs. Training is the solid line with dots, validation the dashed line with "
        "squares, each labelled at its end.",
        1 if epochs == 1 else 2,
    ).format(curves="; ".join(parts), n=significant(epochs, 6))


def class_counts(counts: Mapping[str, tuple[int, int]]) -> str:
    """Images per class in the training and validation split.

    Args:
        counts: class name -> (training images, validation images).

    Returns:
        The text, in the reader's language.
    """
    train = sum(t for t, _v in counts.values())
    val = sum(v for _t, v in counts.values())
    sizes = [t + v for t, v in counts.values()]
    if max(sizes) <= 1.2 * min(sizes):
        even = _("about the same number each")
    else:
        even = _("{low} to {high} each").format(low=min(sizes), high=max(sizes))
    return _(
        "Bar chart of images per class: {n} classes, {even}; {train} for training and {val} for validation."
    ).format(n=len(counts), even=even, train=number(train, 0), val=number(val, 0))


def confusion(matrix: np.ndarray, classes: Sequence[str]) -> str:
    """A confusion matrix (rows true class, columns prediction).

    Args:
        matrix: (K, K) counts.
        classes: the classes' names.

    Returns:
        The text, in the reader's language.
    """
    m = np.asarray(matrix)
    total = int(m.sum())
    right = int(np.trace(m))
    off = m.copy()
    np.fill_diagonal(off, 0)
    values = {"n": len(classes), "total": number(total, 0), "right": number(right, 0)}
    if not off.any():
        return _(
            "Confusion matrix of {n} classes on {total} validation images: {right} on the diagonal (right)."
        ).format(**values)
    t, p = np.unravel_index(int(off.argmax()), off.shape)
    times = int(off[t, p])
    return ngettext(
        "Confusion matrix of {n} classes on {total} validation images: {right} on the diagonal (right); the "
        "most common mix-up: {true} taken for {predicted}, {times} time.",
        "Confusion matrix of {n} classes on {total} validation images: {right} on the diagonal (right); the "
        "most common mix-up: {true} taken for {predicted}, {times} times.",
        times,
    ).format(**values, true=quoted(classes[t]), predicted=quoted(classes[p]), times=times)


def per_class(acc: np.ndarray, classes: Sequence[str]) -> str:
    """Bars of accuracy per class, naming the best and the worst.

    Args:
        acc: (K,) accuracy per class, 0..1 (NaN for a class without images counts as 0).
        classes: the classes' names.

    Returns:
        One sentence in the reader's language.
    """
    a = np.nan_to_num(np.asarray(acc, dtype=np.float64))
    best, worst = int(a.argmax()), int(a.argmin())
    return _("Bar chart of accuracy per class: best {best} {best_p}, worst {worst} {worst_p}.").format(
        best=quoted(classes[best]), best_p=percent(a[best]), worst=quoted(classes[worst]), worst_p=percent(a[worst])
    )


RANDOM = N_("random order")  # the baseline's key among faithfulness()'s methods


def faithfulness(aucs: Mapping[str, tuple[float, float]]) -> str:
    """Deletion/insertion curves.

    Args:
        aucs: method title -> (deletion AUC, insertion AUC); the random baseline is titled
            "random order" (in English or in the reader's language).

    Returns:
        The text, in the reader's language.
    """
    baseline = {RANDOM, _(RANDOM)}
    methods = [k for k in aucs if k not in baseline]
    if not methods:
        return _("No curves.")
    dele = min(methods, key=lambda k: aucs[k][0])
    ins = max(methods, key=lambda k: aucs[k][1])
    rnd = next((aucs[k] for k in aucs if k in baseline), None)
    text = _(
        "Line charts of the class probability as pixels are deleted (left) and inserted (right) in each of "
        "{n} methods' order, each line with its own marker and dash, labelled at its end. "
        "Fastest fall on deletion: {deletion} (area {deletion_area}); fastest rise on insertion: {insertion} "
        "(area {insertion_area})."
    ).format(
        n=len(methods),
        deletion=dele,
        deletion_area=number(aucs[dele][0], 3),
        insertion=ins,
        insertion_area=number(aucs[ins][1], 3),
    )
    if rnd:
        text += " " + _("The random order (long dashes) has {deletion} and {insertion}.").format(
            deletion=number(rnd[0], 3), insertion=number(rnd[1], 3)
        )
    return text


def input_norms(conv: str, ch: int, norms: np.ndarray) -> str:
    """Bars of how strongly one filter weighs each of its input channels.

    Args:
        conv: the conv layer's name.
        ch: the filter (output channel).
        norms: (I,) the filter's L2 norm per input channel.

    Returns:
        One sentence in the reader's language.
    """
    best = np.argsort(-np.asarray(norms), kind="stable")[:3]
    return _(
        "Bar chart of how strongly filter {ch} of {conv} weighs each of its {n} input channels; "
        "largest for input channels {channels}."
    ).format(ch=ch, conv=conv, n=len(norms), channels=", ".join(str(int(i)) for i in best))
