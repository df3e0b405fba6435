"""Text alternatives of the pictures that look inside a network: photos, explanation maps,
feature maps, the Network diagram, filters, receptive fields, colour scales.

Each function gets the data the picture was drawn from and says what a student would see:
the model, layer, channel or class, and where the map is strong (:mod:`cnnviz.a11y.regions`).
They return plain text (an ``alt`` attribute, never markup); names and classes are quoted,
not interpreted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnviz.a11y.regions import percent, region_of_box, spot


def quoted(label: str) -> str:
    return f"“{label}”"


def numbers(items: Sequence[int], most: int = 3) -> str:
    """[5, 12, 3] → '5, 12 and 3' (the first ``most``)."""
    shown = [str(int(i)) for i in list(items)[:most]]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def guess(top: dict | None) -> str:
    """'; the model's top guess is “tabby” (52 %)' from a prediction's first entry (or '')."""
    return "" if not top else f"; the model's top guess is {quoted(top['label'])} ({percent(top['prob'])})"


def photo(name: str, size: tuple[int, int], top: dict | None = None) -> str:
    """The photo a student chose: its name, its size (width, height) and the model's top guess."""
    return f"Your photo {quoted(name)}, {size[0]}×{size[1]} pixels{guess(top)}."


def model_input(model: str, size: int, channels: int) -> str:
    """The picture a model is fed: the crop of the photo, in grey or colour."""
    colour = "grey" if channels == 1 else "colour"
    return f"What {model} is fed: your photo resized and centre-cropped to a {size}×{size} {colour} square."


# --------------------------------------------------------------------------- maps
def strength(m: np.ndarray, unit: str = "of the image", what: str = "the strongest evidence is") -> str:
    """'the strongest evidence is in the upper left (28 % of the image above half strength)', or
    '' when nothing in ``m`` is above zero."""
    s = spot(m)
    if s is None:
        return ""
    return f"{what} {s.where()} ({percent(s.share)} {unit} above half strength)"


def explanation(method: str, label: str, layer: str | None, m: np.ndarray, *, signed: bool = False) -> str:
    """An explanation map over the photo: "Grad-CAM for “tabby” at blocks.6, over the photo: the
    strongest evidence is in the upper left (28 % of the image above half strength)."

    ``m`` (h, w) is the map as computed (its own resolution: only where and how much matter);
    ``signed``: the negative part (evidence against the class) is shown too."""
    head = f"{method} for {quoted(label)}" + (f" at {layer}" if layer else "") + ", over the photo"
    pos = strength(m)
    text = f"{head}: {pos}." if pos else f"{head}: no evidence for this class here (the map is empty)."
    if signed:
        neg = strength(-np.asarray(m, dtype=np.float64), what="evidence against it is strongest")
        text += f" {neg[0].upper() + neg[1:]}." if neg else " Nothing counts against it."
    return text


def explanation_hidden(method: str, label: str, layer: str | None) -> str:
    """An explanation picture whose map a class's open question hides (no word of where)."""
    head = f"{method} for {quoted(label)}" + (f" at {layer}" if layer else "") + ", over the photo"
    return f"{head}: the map is hidden until the teacher reveals the model's answer."


def sweep(label: str, layers: Sequence[str], maps: Sequence[np.ndarray]) -> list[str]:
    """One text per thumbnail of the Grad-CAM layer sweep (early → late)."""
    out = []
    for layer, m in zip(layers, maps, strict=True):
        where = strength(m, what="strongest") or "empty, no evidence at this block"
        out.append(f"Grad-CAM for {quoted(label)} at {layer} ({m.shape[0]}×{m.shape[1]}): {where}.")
    return out


def responds(m: np.ndarray) -> str:
    """Where one feature map responds: signed maps name their positive and negative places."""
    a = np.asarray(m, dtype=np.float64)
    if not np.any(a):
        return "it is zero everywhere on this image"
    pos = strength(a, "of its units", "it responds most strongly")
    if a.min() >= 0:
        return pos
    neg = strength(-a, "of its units", "its negative values are strongest")
    return "; ".join(
        p for p in (pos.replace("it responds most strongly", "its positive values are strongest"), neg) if p
    )


def channel(layer: str, ch: int, m: np.ndarray, unit: tuple[int, int] | None = None) -> str:
    """One channel's map: "Channel 12 of blocks.3, a 28×28 map: it responds most strongly in the
    upper left (15 % of its units above half strength). The chosen unit (3, 4) is marked."."""
    text = f"Channel {ch} of {layer}, a {m.shape[0]}×{m.shape[1]} map: {responds(m)}."
    if unit is not None:
        text += f" The chosen unit ({unit[0]}, {unit[1]}) is marked in magenta."
    return text


def feature_grid(
    layer: str,
    maps: np.ndarray,
    order: Sequence[int],
    *,
    sort: str = "channel",
    norm: str = "channel",
    chosen: int | None = None,
    total: int | None = None,
) -> str:
    """A grid of a layer's channels, ``maps`` (C, H, W) tiled in ``order``.

    ``total``: the layer's channel count when ``maps`` are only its strongest few."""
    c, h, w = maps.shape
    flat = np.abs(maps.reshape(c, -1))
    means = flat.mean(1)
    which = f"the {c} strongest of {total}" if total else f"all {c}"
    how = "by channel number" if sort == "channel" else f"strongest {sort} first"
    scale = {"channel": "each tile on its own scale", "layer": "one colour scale for the layer"}.get(
        norm, "one colour scale for the whole network"
    )
    text = f"Grid of {which} channels of {layer}, each a {h}×{w} map, ordered {how}, {scale}."
    best = [int(order[i]) for i in np.argsort(-means[np.asarray(order)], kind="stable")] if total is None else []
    if best:
        text += f" Strongest on average: channels {numbers(best)}."
    silent = int((flat.max(1) == 0).sum())
    if silent:
        text += f" {silent} {'channel is' if silent == 1 else 'channels are'} zero everywhere."
    if chosen is not None:
        text += f" Channel {chosen} is outlined."
    return text


def receptive_field(unit: tuple[int, int], box: tuple[int, int, int, int], size: int) -> str:
    """The model's input with one unit's receptive field (inclusive box top, left, bottom, right) outlined."""
    top, left, bottom, right = box
    return (
        f"The model's {size}×{size} input with the receptive field of unit ({unit[0]}, {unit[1]}) outlined in "
        f"magenta: rows {top}–{bottom}, columns {left}–{right}, in the {region_of_box(box, size)}."
    )


def network(diagram, chosen: tuple[str, int] | None = None, classes: Sequence[tuple[str, float]] = ()) -> str:
    """The Network page's forward-pass diagram (a :class:`cnnviz.network.Diagram`)."""
    parts = []
    for col in diagram.columns:
        c, h, w = col.layer.out_shape[:3]
        shown = "every channel" if len(col.channels) >= c else f"strongest {numbers(col.channels)}"
        parts.append(f"{col.layer.name} ({c} channels of {h}×{w}; {shown})")
    text = f"Diagram of the forward pass, left to right: the input photo, then {len(parts)} columns: " + "; ".join(
        parts
    )
    if classes:
        text += ". Then the classes: " + ", ".join(f"{quoted(n)} {percent(p)}" for n, p in classes)
    text += "."
    if chosen is not None:
        text += f" Channel {chosen[1]} of {chosen[0]} is outlined."
    return text


def filters(layer: str, shape: tuple[int, ...], norms: np.ndarray, *, label: str, mode: str, channel: int = 0) -> str:
    """A grid of a conv layer's filters, ``shape`` (O, I, kH, kW); ``norms`` (O,) their L2 norms."""
    o, i, kh, kw = shape
    if i == 3 and mode == "average":
        drawn = "each drawn as a small colour picture (grey is zero)"
    elif i == 1:
        drawn = "in grey levels (black most negative, white most positive)"
    elif mode == "channel":
        drawn = f"their weights on input channel {channel} (blue negative, white zero, red positive)"
    else:
        drawn = "their weights averaged over the inputs (blue negative, white zero, red positive)"
    best = np.argsort(-np.asarray(norms), kind="stable")
    return (
        f"The {o} filters of {layer} ({label}), {kh}×{kw} over {i} input channel{'s' if i != 1 else ''}, {drawn}. "
        f"Largest weights: filters {numbers(best)}."
    )


# --------------------------------------------------------------------------- colour scales
# The colours at the low and high end of each colour map the app draws with.
CMAP_ENDS = {
    "viridis": ("dark purple", "yellow"),
    "inferno": ("black", "pale yellow"),
    "magma": ("black", "pale yellow"),
    "cividis": ("dark blue", "yellow"),
    "gray": ("black", "white"),
    "jet": ("dark blue", "dark red"),
    "turbo": ("dark blue", "dark red"),
    "RdBu_r": ("dark blue", "dark red"),
}


def colour_scale(cmap: str, low: str, high: str, middle: str | None = None) -> str:
    """A colour bar: "Colour scale from 0 (dark purple) to 3.2 (yellow)", the middle named for
    a diverging map ("through 0 (white)")."""
    a, b = CMAP_ENDS.get(cmap, ("the low end", "the high end"))
    mid = f" through {middle} (white)" if middle is not None else ""
    return f"Colour scale from {low} ({a}){mid} to {high} ({b})."


def qr(url: str) -> str:
    return f"QR code of the link to this view: {url}"


def examples(layer: str, ch: int, scores: Sequence[float], sources: Sequence[str]) -> list[str]:
    """The Channel page's top images, one text each."""
    n = len(scores)
    return [
        f"Image {i + 1} of {n} that excites channel {ch} of {layer} most: part of {src}, score {s:.3g}."
        for i, (s, src) in enumerate(zip(scores, sources, strict=True))
    ]
