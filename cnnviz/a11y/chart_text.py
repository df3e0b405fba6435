"""Descriptions of the app's charts, computed from the numbers they plot.

Each becomes the Vega-Lite spec's top-level ``description`` (and the chart's accessible
name): what a sighted student reads off the chart, in one or two sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cnnviz.a11y.alt_text import quoted
from cnnviz.a11y.regions import percent


def _pct(p: float) -> str:
    return f"{p:.1f} %"


def trend(first: float, last: float, show=lambda v: f"{v:.3g}") -> str:
    """'rose from 41 % to 97 %' / 'fell from 2.1 to 0.12' / 'stayed at 0.5' (``show`` writes a value)."""
    a, b = show(first), show(last)
    if a == b:
        return f"stayed at {a}"
    return f"{'rose' if last > first else 'fell'} from {a} to {b}"


def top_k(top: Sequence[Mapping]) -> str:
    """Bars of the most probable classes (dicts with 'label' and 'prob' 0..1)."""
    bars = ", ".join(f"{quoted(t['label'])} {_pct(t['prob'] * 100)}" for t in top)
    return f"Bar chart of the {len(top)} most probable classes, most probable first: {bars}."


def softmax(classes: Sequence[str], p1: Sequence[float], pt: Sequence[float], temp: float) -> str:
    """Grouped bars of probabilities (%) at T = 1 and at the chosen T (one bar per class at T = 1)."""
    if temp == 1.0:
        bars = ", ".join(f"{quoted(c)} {a:.1f} %" for c, a in zip(classes, p1, strict=True))
        return f"Bar chart of the {len(classes)} most probable classes at T = 1: {bars}."
    pairs = ", ".join(f"{quoted(c)} {a:.1f} → {b:.1f} %" for c, a, b in zip(classes, p1, pt, strict=True))
    return f"Bar chart of the {len(classes)} most probable classes at T = 1 and at T = {temp:g}: {pairs}."


def function_curve(fn: str, x: np.ndarray, y: np.ndarray) -> str:
    """A line y = fn(x) over the range of x drawn."""
    return (
        f"Line chart of {fn}(x) for x from {x.min():.2f} to {x.max():.2f}: "
        f"y goes from {y[0]:.2f} to {y[-1]:.2f} (lowest {y.min():.2f}, highest {y.max():.2f})."
    )


def before_after(before: np.ndarray, after: np.ndarray, fn: str) -> str:
    """Histograms of a map's values before and after an activation."""
    b, a = np.asarray(before).ravel(), np.asarray(after).ravel()
    return (
        f"Histograms of the {b.size:,} values before and after {fn}: before from {b.min():.2f} to {b.max():.2f}, "
        f"{percent((b < 0).mean())} negative; after from {a.min():.2f} to {a.max():.2f}, {percent((a == 0).mean())} exactly zero."
    )


def receptive_fields(names: Sequence[str], rf: Sequence[int], size: int) -> str:
    """Receptive field (px) of each conv layer in forward order, with the input size marked."""
    if not rf:
        return "No convolution layers to chart."
    whole = next((i for i, r in enumerate(rf) if r >= size), None)
    past = f"; it reaches the input size ({size} px) at layer {whole + 1}, {names[whole]}" if whole is not None else ""
    return (
        f"Line chart of the receptive field of the {len(rf)} convolution layers in forward order: from "
        f"{rf[0]} px at {names[0]} to {rf[-1]} px at {names[-1]}{past}."
    )


def filter_norms(norms: Mapping[str, np.ndarray]) -> str:
    """Histograms of filter L2 norms, one per weight set (e.g. trained / random)."""
    parts = [
        f"{name}: {len(v)} filters from {v.min():.3g} to {v.max():.3g}, median {np.median(v):.3g}"
        for name, v in norms.items()
    ]
    return "Histograms of the filters' sizes (L2 norms). " + "; ".join(parts) + "."


def channel_histograms(rows: Sequence[Mapping]) -> str:
    """Per-channel pixel histograms (rows with 'channel', 'start', 'end', 'count')."""
    parts = []
    for name in dict.fromkeys(r["channel"] for r in rows):
        mine = [r for r in rows if r["channel"] == name]
        counts = np.array([r["count"] for r in mine], dtype=np.float64)
        mids = np.array([(r["start"] + r["end"]) / 2 for r in mine])
        cum = np.cumsum(counts) / max(counts.sum(), 1)
        lo, hi = mids[np.searchsorted(cum, 0.1)], mids[min(len(mids) - 1, np.searchsorted(cum, 0.9))]
        parts.append(f"{name} mostly between {lo:.2f} and {hi:.2f}")
    return "Histograms of the pixel values per channel: " + "; ".join(parts) + "."


def training(history: Sequence[Mapping], metric: str) -> str:
    """Training and validation curves of ``metric`` ("loss" or "accuracy"): ``history`` holds
    points with "epoch" and either train_loss/train_acc or val_loss/val_acc."""
    key = "acc" if metric == "accuracy" else "loss"
    show = percent if metric == "accuracy" else (lambda v: f"{v:.3g}")
    parts = []
    for name, pre in (("Training", "train"), ("validation", "val")):
        pts = [p for p in history if f"{pre}_{key}" in p]
        if pts:
            parts.append(f"{name} {metric} {trend(pts[0][f'{pre}_{key}'], pts[-1][f'{pre}_{key}'], show)}")
    if not parts:
        return f"No {metric} yet."
    epochs = max(p["epoch"] for p in history)
    return (
        f"{'; '.join(parts)}, over {epochs:g} epoch{'s' if epochs != 1 else ''}. Training is the solid line "
        "with dots, validation the dashed line with squares, each labelled at its end."
    )


def class_counts(counts: Mapping[str, tuple[int, int]]) -> str:
    """Images per class in the training and validation split."""
    tr = sum(t for t, _ in counts.values())
    va = sum(v for _, v in counts.values())
    sizes = [t + v for t, v in counts.values()]
    even = "about the same number each" if max(sizes) <= 1.2 * min(sizes) else f"{min(sizes)} to {max(sizes)} each"
    return (
        f"Bar chart of images per class: {len(counts)} classes, {even}; {tr:,} for training and {va:,} for validation."
    )


def confusion(matrix: np.ndarray, classes: Sequence[str]) -> str:
    """A confusion matrix (rows true class, columns prediction)."""
    m = np.asarray(matrix)
    total = int(m.sum())
    right = int(np.trace(m))
    off = m.copy()
    np.fill_diagonal(off, 0)
    text = (
        f"Confusion matrix of {len(classes)} classes on {total:,} validation images: {right:,} on the diagonal (right)"
    )
    if off.any():
        t, p = np.unravel_index(int(off.argmax()), off.shape)
        text += f"; the most common mix-up: {quoted(classes[t])} taken for {quoted(classes[p])}, {int(off[t, p])} times"
    return text + "."


def per_class(acc: np.ndarray, classes: Sequence[str]) -> str:
    a = np.nan_to_num(np.asarray(acc, dtype=np.float64))
    best, worst = int(a.argmax()), int(a.argmin())
    return (
        f"Bar chart of accuracy per class: best {quoted(classes[best])} {percent(a[best])}, "
        f"worst {quoted(classes[worst])} {percent(a[worst])}."
    )


def faithfulness(aucs: Mapping[str, tuple[float, float]]) -> str:
    """Deletion/insertion curves: {method title: (deletion AUC, insertion AUC)}."""
    methods = [k for k in aucs if k != "random order"]
    if not methods:
        return "No curves."
    dele = min(methods, key=lambda k: aucs[k][0])
    ins = max(methods, key=lambda k: aucs[k][1])
    rnd = aucs.get("random order")
    base = f" The random order (long dashes) has {rnd[0]:.3f} and {rnd[1]:.3f}." if rnd else ""
    return (
        f"Line charts of the class probability as pixels are deleted (left) and inserted (right) in each of "
        f"{len(methods)} methods' order, each line with its own marker and dash, labelled at its end. "
        f"Fastest fall on deletion: {dele} (area {aucs[dele][0]:.3f}); fastest rise on insertion: {ins} "
        f"(area {aucs[ins][1]:.3f}).{base}"
    )


def input_norms(conv: str, ch: int, norms: np.ndarray) -> str:
    best = np.argsort(-np.asarray(norms), kind="stable")[:3]
    return (
        f"Bar chart of how strongly filter {ch} of {conv} weighs each of its {len(norms)} input channels; "
        f"largest for input channels {', '.join(str(int(i)) for i in best)}."
    )
