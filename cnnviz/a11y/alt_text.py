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

from cnnviz.a11y.regions import in_region, percent, region_of_box, spot
from cnnviz.i18n import N_, _, ngettext, significant


def quoted(label: str) -> str:
    """A name or class in the reader's quotation marks (“tabby”, „tabby“, «tabby»)."""
    return _("“{label}”").format(label=label)


def numbers(items: Sequence[int], most: int = 3) -> str:
    """[5, 12, 3] → '5, 12 and 3' (the first ``most``)."""
    shown = [str(int(i)) for i in list(items)[:most]]
    if len(shown) == 1:
        return shown[0]
    return _("{items} and {last}").format(items=", ".join(shown[:-1]), last=shown[-1])


def guess(top: dict | None) -> str:
    """'; the model's top guess is “tabby” (52 %)' from a prediction's first entry (or '')."""
    if not top:
        return ""
    return _("; the model's top guess is {label} ({p})").format(label=quoted(top["label"]), p=percent(top["prob"]))


def photo(name: str, size: tuple[int, int], top: dict | None = None) -> str:
    """The photo a student chose: its name, its size (width, height) and the model's top guess."""
    return _("Your photo {name}, {w}×{h} pixels{guess}.").format(
        name=quoted(name), w=size[0], h=size[1], guess=guess(top)
    )


def model_input(model: str, size: int, channels: int) -> str:
    """The picture a model is fed: the crop of the photo, in grey or colour."""
    if channels == 1:
        text = _("What {model} is fed: your photo resized and centre-cropped to a {size}×{size} grey square.")
    else:
        text = _("What {model} is fed: your photo resized and centre-cropped to a {size}×{size} colour square.")
    return text.format(model=model, size=size)


# --------------------------------------------------------------------------- maps
# How a map's strong part is said: each a whole phrase with {where} (a region, from
# cnnviz.a11y.regions) and {share} (a percentage), so that translators can reorder it.
EVIDENCE = N_("the strongest evidence is {where} ({share} of the image above half strength)")
AGAINST = N_("Evidence against it is strongest {where} ({share} of the image above half strength).")
RESPONDS = {
    "units": (
        N_("it responds most strongly {where} ({share} of its units above half strength)"),
        N_("its positive values are strongest {where} ({share} of its units above half strength)"),
        N_("its negative values are strongest {where} ({share} of its units above half strength)"),
    ),
    "pooled": (
        N_("it responds most strongly {where} ({share} of the pooled map above half strength)"),
        N_("its positive values are strongest {where} ({share} of the pooled map above half strength)"),
        N_("its negative values are strongest {where} ({share} of the pooled map above half strength)"),
    ),
}


def strength(m: np.ndarray, phrase: str = EVIDENCE) -> str:
    """``phrase`` (an untranslated template with {where} and {share}) filled in for the
    positive part of ``m``, in the reader's language: 'the strongest evidence is in the upper
    left (28 % of the image above half strength)'; '' when nothing in ``m`` is above zero."""
    s = spot(m)
    if s is None:
        return ""
    return _(phrase).format(where=s.where(), share=percent(s.share))


def _head(method: str, label: str, layer: str | None) -> str:
    if layer:
        return _("{method} for {label} at {layer}, over the photo").format(
            method=method, label=quoted(label), layer=layer
        )
    return _("{method} for {label}, over the photo").format(method=method, label=quoted(label))


def explanation(method: str, label: str, layer: str | None, m: np.ndarray, *, signed: bool = False) -> str:
    """An explanation map over the photo: "Grad-CAM for “tabby” at blocks.6, over the photo: the
    strongest evidence is in the upper left (28 % of the image above half strength)."

    ``m`` (h, w) is the map as computed (its own resolution: only where and how much matter);
    ``signed``: the negative part (evidence against the class) is shown too."""
    head = _head(method, label, layer)
    pos = strength(m)
    if pos:
        text = _("{head}: {evidence}.").format(head=head, evidence=pos)
    else:
        text = _("{head}: no evidence for this class here (the map is empty).").format(head=head)
    if signed:
        neg = strength(-np.asarray(m, dtype=np.float64), AGAINST)
        text += " " + (neg or _("Nothing counts against it."))
    return text


def explanation_hidden(method: str, label: str, layer: str | None) -> str:
    """An explanation picture whose map a class's open question hides (no word of where)."""
    return _("{head}: the map is hidden until the teacher reveals the model's answer.").format(
        head=_head(method, label, layer)
    )


def sweep(label: str, layers: Sequence[str], maps: Sequence[np.ndarray]) -> list[str]:
    """One text per thumbnail of the Grad-CAM layer sweep (early → late)."""
    out = []
    for layer, m in zip(layers, maps, strict=True):
        where = strength(m, N_("strongest {where} ({share} of the image above half strength)"))
        where = where or _("empty, no evidence at this block")
        out.append(
            _("Grad-CAM for {label} at {layer} ({h}×{w}): {where}.").format(
                label=quoted(label), layer=layer, h=m.shape[0], w=m.shape[1], where=where
            )
        )
    return out


def responds(m: np.ndarray, of: str = "units") -> str:
    """Where one feature map responds: signed maps name their positive and negative places.
    ``of``: "units" (a feature map's) or "pooled" (the pooled map's share)."""
    a = np.asarray(m, dtype=np.float64)
    if not np.any(a):
        return _("it is zero everywhere on this image")
    most, positive, negative = RESPONDS[of]
    if a.min() >= 0:
        return strength(a, most)
    return "; ".join(p for p in (strength(a, positive), strength(-a, negative)) if p)


def channel(layer: str, ch: int, m: np.ndarray, unit: tuple[int, int] | None = None) -> str:
    """One channel's map: "Channel 12 of blocks.3, a 28×28 map: it responds most strongly in the
    upper left (15 % of its units above half strength). The chosen unit (3, 4) is marked."."""
    text = _("Channel {ch} of {layer}, a {h}×{w} map: {where}.").format(
        ch=ch, layer=layer, h=m.shape[0], w=m.shape[1], where=responds(m)
    )
    if unit is not None:
        text += " " + _("The chosen unit ({row}, {col}) is marked in magenta.").format(row=unit[0], col=unit[1])
    return text


# The feature grid's orders and colour scales (keys: cnnviz.inside.featuremaps.SORTS and NORMS).
GRID_ORDERS = {
    "channel": N_("ordered by channel number"),
    "mean": N_("ordered strongest mean first"),
    "max": N_("ordered strongest max first"),
}
GRID_SCALES = {
    "channel": N_("each tile on its own scale"),
    "layer": N_("one colour scale for the layer"),
    "global": N_("one colour scale for the whole network"),
}


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
    if total:
        grid = _("Grid of the {c} strongest of {total} channels of {layer}, each a {h}×{w} map")
    else:
        grid = _("Grid of all {c} channels of {layer}, each a {h}×{w} map")
    text = _("{grid}, {order}, {scale}.").format(
        grid=grid.format(c=c, total=total, layer=layer, h=h, w=w),
        order=_(GRID_ORDERS[sort]) if sort in GRID_ORDERS else sort,
        scale=_(GRID_SCALES.get(norm, GRID_SCALES["global"])),
    )
    best = [int(order[i]) for i in np.argsort(-means[np.asarray(order)], kind="stable")] if total is None else []
    if best:
        text += " " + _("Strongest on average: channels {channels}.").format(channels=numbers(best))
    silent = int((flat.max(1) == 0).sum())
    if silent:
        text += " " + ngettext("{n} channel is zero everywhere.", "{n} channels are zero everywhere.", silent).format(
            n=silent
        )
    if chosen is not None:
        text += " " + _("Channel {ch} is outlined.").format(ch=chosen)
    return text


def receptive_field(unit: tuple[int, int], box: tuple[int, int, int, int], size: int) -> str:
    """The model's input with one unit's receptive field (inclusive box top, left, bottom, right) outlined."""
    top, left, bottom, right = box
    return _(
        "The model's {size}×{size} input with the receptive field of unit ({row}, {col}) outlined in "
        "magenta: rows {top}–{bottom}, columns {left}–{right}, {where}."
    ).format(
        size=size,
        row=unit[0],
        col=unit[1],
        top=top,
        bottom=bottom,
        left=left,
        right=right,
        where=in_region(region_of_box(box, size)),
    )


def network(diagram, chosen: tuple[str, int] | None = None, classes: Sequence[tuple[str, float]] = ()) -> str:
    """The Network page's forward-pass diagram (a :class:`cnnviz.inside.network.Diagram`)."""
    parts = []
    for col in diagram.columns:
        c, h, w = col.layer.out_shape[:3]
        if len(col.channels) >= c:
            shown = _("every channel")
        else:
            shown = _("strongest {channels}").format(channels=numbers(col.channels))
        parts.append(
            ngettext("{name} ({c} channel of {h}×{w}; {shown})", "{name} ({c} channels of {h}×{w}; {shown})", c).format(
                name=col.layer.name, c=c, h=h, w=w, shown=shown
            )
        )
    columns = "; ".join(parts)
    if classes:
        listed = ", ".join(f"{quoted(n)} {percent(p)}" for n, p in classes)
        text = ngettext(
            "Diagram of the forward pass, left to right: the input photo, then {n} column: {columns}. "
            "Then the classes: {classes}.",
            "Diagram of the forward pass, left to right: the input photo, then {n} columns: {columns}. "
            "Then the classes: {classes}.",
            len(parts),
        ).format(n=len(parts), columns=columns, classes=listed)
    else:
        text = ngettext(
            "Diagram of the forward pass, left to right: the input photo, then {n} column: {columns}.",
            "Diagram of the forward pass, left to right: the input photo, then {n} columns: {columns}.",
            len(parts),
        ).format(n=len(parts), columns=columns)
    if chosen is not None:
        text += " " + _("Channel {ch} of {layer} is outlined.").format(ch=chosen[1], layer=chosen[0])
    return text


def filters(layer: str, shape: tuple[int, ...], norms: np.ndarray, *, label: str, mode: str, channel: int = 0) -> str:
    """A grid of a conv layer's filters, ``shape`` (O, I, kH, kW); ``norms`` (O,) their L2 norms."""
    o, i, kh, kw = shape
    if i == 3 and mode == "average":
        drawn = _("each drawn as a small colour picture (grey is zero)")
    elif i == 1:
        drawn = _("in grey levels (black most negative, white most positive)")
    elif mode == "channel":
        drawn = _("their weights on input channel {channel} (blue negative, white zero, red positive)").format(
            channel=channel
        )
    else:
        drawn = _("their weights averaged over the inputs (blue negative, white zero, red positive)")
    best = np.argsort(-np.asarray(norms), kind="stable")
    return ngettext(
        "The {o} filters of {layer} ({label}), {kh}×{kw} over {i} input channel, {drawn}. "
        "Largest weights: filters {best}.",
        "The {o} filters of {layer} ({label}), {kh}×{kw} over {i} input channels, {drawn}. "
        "Largest weights: filters {best}.",
        i,
    ).format(o=o, layer=layer, label=label, kh=kh, kw=kw, i=i, drawn=drawn, best=numbers(best))


# --------------------------------------------------------------------------- colour scales
# The colours at the low and high end of each colour map the app draws with (keys: the
# colour map names; the words are translated where they are said).
CMAP_ENDS = {
    "viridis": (N_("dark purple"), N_("yellow")),
    "inferno": (N_("black"), N_("pale yellow")),
    "magma": (N_("black"), N_("pale yellow")),
    "cividis": (N_("dark blue"), N_("yellow")),
    "gray": (N_("black"), N_("white")),
    "jet": (N_("dark blue"), N_("dark red")),
    "turbo": (N_("dark blue"), N_("dark red")),
    "RdBu_r": (N_("dark blue"), N_("dark red")),
}


def colour_scale(cmap: str, low: str, high: str, middle: str | None = None) -> str:
    """A colour bar: "Colour scale from 0 (dark purple) to 3.2 (yellow)", the middle named for
    a diverging map ("through 0 (white)")."""
    a, b = CMAP_ENDS.get(cmap, (N_("the low end"), N_("the high end")))
    if middle is None:
        return _("Colour scale from {low} ({low_colour}) to {high} ({high_colour}).").format(
            low=low, low_colour=_(a), high=high, high_colour=_(b)
        )
    return _("Colour scale from {low} ({low_colour}) through {middle} (white) to {high} ({high_colour}).").format(
        low=low, low_colour=_(a), middle=middle, high=high, high_colour=_(b)
    )


def qr(url: str) -> str:
    return _("QR code of the link to this view: {url}").format(url=url)


def examples(layer: str, ch: int, scores: Sequence[float], sources: Sequence[str]) -> list[str]:
    """The Channel page's top images, one text each."""
    n = len(scores)
    return [
        _("Image {i} of {n} that excites channel {ch} of {layer} most: part of {source}, score {score}.").format(
            i=i + 1, n=n, ch=ch, layer=layer, source=src, score=significant(s)
        )
        for i, (s, src) in enumerate(zip(scores, sources, strict=True))
    ]
