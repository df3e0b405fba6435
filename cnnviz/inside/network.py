"""The whole forward pass on one picture: input → one column per layer or stage → classes.

Pure numpy/PIL on a capture (name -> (C, H, W), see cnnviz.inside.capture.capture_layers) and the
layer catalogue. Small models (≤ ``SMALL_LAYERS`` conv/act/pool layers, e.g. TinyVGG) get a
column per layer with every channel, as CNN Explainer does; big ones a column per block or
stage output with its ``n`` strongest channels.

How one unit of a conv layer was computed is ``cnnviz.teaching.unit_math``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cnnviz import render
from cnnviz.hotspots import Boxes
from cnnviz.i18n import _, percent, pgettext
from cnnviz.inside.catalogue import LayerInfo, map_layers
from cnnviz.inside.featuremaps import DIVERGING, SEQUENTIAL, value_range

SMALL_LAYERS = 12  # up to this many conv/act/pool layers, every layer is a column
MAX_COLUMNS = 12  # a big model with more block outputs than this gets one column per stage
MAX_ROWS = 8  # thumbnails stacked in one column before it gets a second sub-column


def is_small(layers: list[LayerInfo]) -> bool:
    """True for a model with at most SMALL_LAYERS conv/act/pool layers (a column per layer)."""
    return len([la for la in map_layers(layers) if la.kind != "block"]) <= SMALL_LAYERS


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def columns(layers: list[LayerInfo]) -> list[LayerInfo]:
    """The layers shown as columns, in the order their outputs appear.

    Small models: every conv/act/pool layer. Big ones: the output of each innermost block
    (ResNet's ``layer1.0``, EfficientNet's ``blocks.3``, GoogLeNet's ``inception3a``), and
    where a block is a flat chain (VGG's ``features``) or at the top level, each pooling
    layer of that chain. More than MAX_COLUMNS of those: the last block of each run of
    blocks with the same output shape (a stage), as EfficientNet's blocks.1-2 → blocks.2.
    """
    maps = map_layers(layers)
    if is_small(layers):
        return [la for la in maps if la.kind != "block"]
    blocks = {la.name for la in maps if la.kind == "block" and la.name == la.group}
    pooled_groups = {la.group for la in maps if la.kind == "pool" and _parent(la.path) in (la.group, "")}
    chosen: list[tuple[int, LayerInfo]] = []
    for i, la in enumerate(maps):
        if la.name in blocks and la.name not in pooled_groups:
            if any(b.startswith(la.name + ".") for b in blocks):
                continue  # a container of other blocks (ResNet's layer1): its blocks are shown
            end = max(j for j, o in enumerate(maps) if o.path == la.path or o.path.startswith(la.path + "."))
            chosen.append((end, la))
        elif la.kind == "pool" and _parent(la.path) in (la.group, ""):
            chosen.append((i, la))
        elif la.group in pooled_groups and la.group != "model" and la.kind != "block":
            rest = [o for o in maps[i + 1 :] if o.group == la.group and o.kind != "block"]
            if not rest and la.kind != "pool":  # the chain's last layer, after its last pool
                chosen.append((i, la))
    chosen.sort(key=lambda t: t[0])
    cols = [la for _, la in chosen] or [la for la in maps if la.kind != "block"]  # no blocks nor pools: layers
    if len(cols) > MAX_COLUMNS:  # a stage: a run of blocks with one output shape; show its last block
        cols = [
            la for la, nxt in zip(cols, [*cols[1:], None], strict=True) if nxt is None or nxt.out_shape != la.out_shape
        ]
    return cols


def strongest(maps: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` channels of (C, H, W) ``maps`` with the largest mean |value|, strongest first."""
    score = np.abs(maps.reshape(maps.shape[0], -1)).mean(1)
    return np.argsort(-score, kind="stable")[:n]


def column_units(
    maps: np.ndarray, channels: np.ndarray, *, norm: str = "layer", global_range: tuple[float, float] | None = None
) -> tuple[list[np.ndarray], str, float | None, float | None]:
    """The colours of one column's tiles: ``channels`` of (C, H, W) ``maps`` scaled to 0..1.

    A layer with negative values gets the diverging colormap, symmetric about 0 (white: 0),
    the others the sequential one from 0. ``norm``: "layer" one scale for the column,
    "channel" each tile its own, "global" ``global_range``.

    Returns:
        (units: one (H, W) array in 0..1 per channel, colormap name, vmin, vmax; both None
        for "channel").
    """
    signed = bool(np.min(maps) < 0)
    cmap = DIVERGING if signed else SEQUENTIAL
    sel = maps[channels]
    if norm == "channel":
        return [render.scale(t, *value_range([t], signed)) for t in sel], cmap, None, None
    vmin, vmax = global_range if norm == "global" and global_range else value_range([sel], signed)
    if signed:
        top = max(abs(vmin), abs(vmax))
        vmin, vmax = -top, top
    else:
        vmin = 0.0
    return [render.scale(t, vmin, vmax) for t in sel], cmap, vmin, vmax


@dataclass(frozen=True)
class Thumb:
    """Where one channel's thumbnail sits in the diagram: (top, left, bottom, right) pixels, exclusive end."""

    column: int
    channel: int
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class Column:
    """One column of the diagram: its layer, the channels shown, colormap and value range
    (None when each thumbnail has its own: per-channel normalisation)."""

    layer: LayerInfo
    channels: tuple[int, ...]
    cmap: str
    vmin: float | None
    vmax: float | None
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class Diagram:
    """The picture (H, W, 3) uint8, its columns, and every thumbnail's place (for clicks)."""

    rgb: np.ndarray
    columns: tuple[Column, ...]
    thumbs: tuple[Thumb, ...]
    thumb: int  # side of one thumbnail in pixels

    def at(self, pixel: tuple[int, int], slack: int = 6) -> tuple[str, int] | None:
        """(layer name, channel) of the thumbnail under ``pixel`` = (row, col), or of the nearest
        one within ``slack`` pixels (a click in the gap between tiles); None elsewhere."""
        y, x = pixel
        best, best_d = None, slack + 1
        for t in self.thumbs:
            top, left, bottom, right = t.box
            d = max(top - y, y - (bottom - 1), left - x, x - (right - 1), 0)
            if d < best_d:
                best, best_d = t, d
        return None if best is None else (self.columns[best.column].layer.name, best.channel)

    @cached_property
    def hotspots(self) -> Boxes:
        """The thumbnails as hotspots for the keyboard, labelled "layer, channel N" (in the language
        it is first read in: a cached diagram is one language's, as its drawn words are); computed
        once per diagram (the diagram is cached, its neighbour table with it)."""
        said = _("{layer}, channel {channel}")
        return Boxes(
            tuple(t.box for t in self.thumbs),
            tuple(said.format(layer=self.columns[t.column].layer.name, channel=t.channel) for t in self.thumbs),
        )

    def index_of(self, layer: str, channel: int) -> int | None:
        """The position in ``thumbs`` (and in :attr:`hotspots`) of (layer, channel)'s thumbnail."""
        return next(
            (
                i
                for i, t in enumerate(self.thumbs)
                if t.channel == channel and self.columns[t.column].layer.name == layer
            ),
            None,
        )

    def outlined(self, layer: str, channel: int, color=(255, 0, 255)) -> np.ndarray:
        """A copy of ``rgb`` with the thumbnail of (layer, channel) outlined."""
        for t in self.thumbs:
            if self.columns[t.column].layer.name == layer and t.channel == channel:
                top, left, bottom, right = t.box
                img = Image.fromarray(self.rgb.copy())
                ImageDraw.Draw(img).rectangle([left - 2, top - 2, right + 1, bottom + 1], outline=color, width=3)
                return np.asarray(img)
        return self.rgb


def readable_width(d: Diagram, tap: int = 28) -> int:
    """The narrowest width (CSS px) at which ``d`` stays usable on a phone: labels at least
    their drawn size (``label_font``, 11 px by default) and every thumbnail at least ``tap``
    px, above WCAG 2.5.8's 24 × 24 px target size. Narrower screens scroll it sideways."""
    return int(np.ceil(d.rgb.shape[1] * max(1.0, tap / d.thumb)))


def short_name(layer: LayerInfo, small: bool) -> str:
    """A column title: the last part of a small model's layer path (``0.conv``), a big model's block."""
    name = layer.name
    if small and name.count(".") >= 2:
        name = ".".join(name.split(".")[-2:])
    return name


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError, ValueError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, room: float, keep_end: bool = True) -> str:
    """``text`` shortened to fit ``room`` px: from the left (keeping the end, e.g. a block
    number) or, with ``keep_end=False``, from the right."""
    if draw.textlength(text, font=font) <= room:
        return text
    while len(text) > 2 and draw.textlength("…" + text, font=font) > room:
        text = text[1:] if keep_end else text[:-1]
    return "…" + text if keep_end else text + "…"


def diagram(
    image: Image.Image,
    maps: dict[str, np.ndarray],
    cols: list[LayerInfo],
    *,
    n: int = 8,
    every_channel: bool = False,
    norm: str = "layer",
    global_range: tuple[float, float] | None = None,
    classes: list[tuple[str, float]] | None = None,
    width: int = 820,
    max_height: int = 360,
    label_font: int = 11,
) -> Diagram:
    """Draw the forward pass: ``image`` (the model's crop), then for each layer of ``cols``
    its channels from ``maps`` as thumbnails stacked in a column (at most MAX_ROWS high,
    then a second sub-column), then ``classes`` = [(name, probability)] as bars; one
    picture about ``width`` px wide and at most about ``max_height`` px of thumbnails high.

    ``every_channel``: all channels (small models) instead of the ``n`` strongest.
    ``norm``: "layer" one colour scale per column, "channel" each thumbnail its own,
    "global" ``global_range`` for every column. Signed columns use a diverging colormap
    centred on 0, the others viridis from 0. Its words are drawn in the current language
    (:mod:`cnnviz.i18n`): a cache of diagrams keys them by language.
    """
    picks = []
    for la in cols:
        m = maps[la.name]
        ch = np.arange(m.shape[0]) if every_channel else strongest(m, n)
        picks.append((la, m, ch))
    rows = min(MAX_ROWS, max(len(ch) for _, _, ch in picks)) if picks else 1
    subcols = [int(np.ceil(len(ch) / rows)) for _, _, ch in picks]
    gap, inner, lh = 10, 2, label_font + 3
    label_h = 2 * lh + 4  # titles alternate between two lines so neighbours never collide
    in_cols = 2  # the input image is two thumbnails wide
    class_w = 110 if classes else 0
    total = in_cols + sum(subcols)
    room = width - class_w - gap * (len(picks) + 1) - inner * total
    thumb = int(max(12, min(96, room // max(total, 1), (max_height - inner * (rows - 1)) // rows)))
    col_w = [k * thumb + (k - 1) * inner for k in subcols]
    body_h = rows * thumb + (rows - 1) * inner
    in_w = in_cols * thumb + inner
    w = in_w + sum(col_w) + gap * (len(picks) + 1) + class_w
    h = label_h + body_h + 2 * lh + 4
    canvas = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(canvas)
    font, small_font = _font(label_font), _font(max(8, label_font - 1))

    side = min(in_w, body_h)
    canvas.paste(image.convert("RGB").resize((side, side), Image.BILINEAR), (0, label_h + (body_h - side) // 2))
    draw.text((0, 2), pgettext("network", "input"), fill="black", font=font)
    draw.text((0, label_h + body_h + 3), f"{image.width}x{image.height}", fill="#555", font=small_font)

    out_cols, thumbs = [], []
    x = in_w + gap
    for ci, ((la, m, ch), cw) in enumerate(zip(picks, col_w, strict=True)):
        units, cmap, vmin, vmax = column_units(m, ch, norm=norm, global_range=global_range)
        for j, (c, u) in enumerate(zip(ch, units, strict=True)):
            r, s = j % rows, j // rows
            top, left = label_h + r * (thumb + inner), x + s * (thumb + inner)
            pic = Image.fromarray(render.colorize(u, cmap)).resize((thumb, thumb), Image.NEAREST)
            canvas.paste(pic, (left, top))
            thumbs.append(Thumb(ci, int(c), (top, left, top + thumb, left + thumb)))
        ay = label_h + body_h // 2  # an arrow from the previous column
        draw.line([x - gap + 2, ay, x - 3, ay], fill="#888", width=1)
        draw.polygon([(x - 3, ay), (x - 7, ay - 3), (x - 7, ay + 3)], fill="#888")
        title = short_name(la, every_channel)
        draw.text((x, 2 + (ci % 2) * lh), _fit(draw, title, font, 2 * (cw + gap) - 4), fill="black", font=font)
        draw.text(
            (x, label_h + body_h + 3),
            _fit(draw, pgettext("diagram: channels, short", "{n}ch").format(n=m.shape[0]), small_font, cw + gap - 2),
            fill="#555",
            font=small_font,
        )
        draw.text(
            (x, label_h + body_h + 3 + lh),
            _fit(draw, pgettext("diagram: receptive field, short", "rf{n}").format(n=la.rf), small_font, cw + gap - 2),
            fill="#555",
            font=small_font,
        )
        out_cols.append(Column(la, tuple(int(c) for c in ch), cmap, vmin, vmax, (label_h, x, label_h + body_h, x + cw)))
        x += cw + gap
    if classes:
        draw.text((x, 2), pgettext("network", "classes"), fill="black", font=font)
        bar_h = max(lh + 6, min(40, body_h // max(len(classes), 1)))
        for i, (name, p) in enumerate(classes):
            y = label_h + i * bar_h
            draw.rectangle([x, y + lh, x + int((class_w - 6) * max(0.0, min(1.0, p))), y + lh + 5], fill="#c2410c")
            draw.text(
                (x, y),
                # the drawing font has no no-break space (Spanish and German write "26 %")
                f"{percent(p, 0).replace(chr(0xA0), ' ')} "
                + _fit(draw, name, small_font, class_w - 34, keep_end=False),
                fill="black",
                font=small_font,
            )
    return Diagram(np.asarray(canvas), tuple(out_cols), tuple(thumbs), thumb)
