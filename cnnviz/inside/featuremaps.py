"""Feature maps as pictures: channel order, normalisation, the grid, one channel's stats.

Pure numpy on captured (C, H, W) arrays (see cnnviz.inside.capture.capture_layers); the page only
picks options and shows the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from cnnviz import hotspots as hs
from cnnviz import render
from cnnviz.i18n import N_, _

SORTS = ("channel", "mean", "max")
NORMS = ("channel", "layer", "global")
DIVERGING = "RdBu_r"  # blue < 0 < red, white at 0: for signed maps (before an activation)
SEQUENTIAL = "viridis"


def channel_order(maps: np.ndarray, by: str = "channel") -> np.ndarray:
    """Channel indices (C,) in display order: as stored, or by mean / max activation, largest first."""
    if by == "channel":
        return np.arange(maps.shape[0])
    flat = maps.reshape(maps.shape[0], -1)
    score = flat.mean(1) if by == "mean" else flat.max(1)
    return np.argsort(-score, kind="stable")


def is_signed(maps: np.ndarray) -> bool:
    """True when the maps take negative values (e.g. a conv or batch-norm output)."""
    return bool(np.min(maps) < 0)


def value_range(arrays, signed: bool) -> tuple[float, float]:
    """(vmin, vmax) over arrays; symmetric about 0 when ``signed`` so white means 0."""
    lo = min(float(np.min(a)) for a in arrays)
    hi = max(float(np.max(a)) for a in arrays)
    if signed:
        m = max(abs(lo), abs(hi))
        return -m, m
    return min(lo, 0.0), hi


@dataclass(frozen=True)
class Grid:
    """A tiled picture of a layer: ``index`` (H, W) uint8 into ``palette`` (256, 3) (see
    :func:`cnnviz.render.levels`), channel ``order`` (C,), ``ncols``, the colormap, and the
    value range the colours span (None per channel: each tile its own)."""

    index: np.ndarray
    palette: np.ndarray
    order: np.ndarray
    ncols: int
    cmap: str
    vmin: float | None
    vmax: float | None
    tile: int  # tile width in pixels with its gap (after the zoom), for locating a channel
    tile_h: int = 0  # tile height likewise (0: same as ``tile``)

    @property
    def rgb(self) -> np.ndarray:
        """(H, W, 3) uint8 colours of the grid."""
        return self.palette[self.index]

    def png(self) -> bytes:
        """The grid's colours as PNG bytes (a download: encoded when asked, not on each run)."""
        return render.to_png(self.rgb)

    def picture(self, channel: int | None = None) -> Image.Image:
        """The grid as an indexed ("P") image, ``channel``'s tile outlined (a small, fast PNG)."""
        index = self.index if channel is None else self._box(self.index, channel, render.MARK)
        return render.indexed_image(index, self.palette)

    def channel_at(self, pixel: tuple[int, int]) -> int | None:
        """The channel whose tile holds ``pixel`` = (row, col) of ``rgb``, or None (a gap past the end)."""
        cell = (self.tile_h or self.tile, self.tile)
        i = render.tile_at(pixel, cell, (-(-len(self.order) // self.ncols), self.ncols))
        return int(self.order[i]) if i is not None and i < len(self.order) else None

    def hotspots(self, prefix: str = "") -> hs.Grid:
        """The tiles as keyboard hotspots in the grid's order, labelled "``prefix``channel N"
        ("channel N" in the current language; ``prefix``: a layer's name and a comma, or "")."""
        th = self.tile_h or self.tile
        n = len(self.order)
        text = _("channel {n}")
        labels = tuple(prefix + text.format(n=int(c)) for c in self.order)
        return hs.Grid(-(-n // self.ncols), self.ncols, (th, self.tile), count=n, labels=labels)

    def position(self, channel: int) -> int | None:
        """Where ``channel``'s tile is in the grid's order (its hotspot), None if it is not shown."""
        hits = np.nonzero(self.order == channel)[0]
        return int(hits[0]) if hits.size else None

    def outlined(self, channel: int, color: tuple[int, int, int] = (255, 0, 255), thickness: int = 3) -> np.ndarray:
        """A copy of ``rgb`` with ``channel``'s tile outlined (the selected channel)."""
        return self._box(self.rgb, channel, color, thickness)

    def _box(self, pic: np.ndarray, channel: int, color, thickness: int = 3) -> np.ndarray:
        hits = np.nonzero(self.order == channel)[0]
        if not hits.size:
            return pic
        r, c = divmod(int(hits[0]), self.ncols)
        th = self.tile_h or self.tile
        return render.draw_box(pic, r * th, c * self.tile, th - 1, self.tile - 1, color=color, thickness=thickness)


def feature_grid(
    maps: np.ndarray,
    *,
    sort: str = "channel",
    norm: str = "channel",
    global_range: tuple[float, float] | None = None,
    width: int = 1100,
) -> Grid:
    """All channels of ``maps`` (C, H, W) tiled, coloured and zoomed to about ``width`` px.

    ``norm``: "channel" scales each map by its own range, "layer" by the layer's range,
    "global" by ``global_range`` (e.g. over every layer of the capture). Signed maps use a
    diverging colormap centred on 0.
    """
    c, h, w = maps.shape
    order = channel_order(maps, sort)
    signed = is_signed(maps)
    cmap = DIVERGING if signed else SEQUENTIAL
    ordered = maps[order]
    if norm == "channel":
        per = [value_range([m], signed) for m in ordered]
        lo = np.array([p[0] for p in per], dtype=np.float32)[:, None, None]
        hi = np.array([p[1] for p in per], dtype=np.float32)[:, None, None]
        unit = np.clip((ordered - lo) / np.maximum(hi - lo, 1e-12), 0, 1)
        vmin = vmax = None
    else:
        vmin, vmax = global_range if norm == "global" and global_range else value_range([maps], signed)
        if signed:  # keep 0 in the middle of the diverging colormap
            m = max(abs(vmin), abs(vmax))
            vmin, vmax = -m, m
        else:  # non-negative maps start at 0 whatever other layers do
            vmin = 0.0
        unit = render.scale(ordered, vmin, vmax)
    ncols = int(np.ceil(np.sqrt(c * 16 / 9)))  # a landscape grid suits a projector
    ncols = max(1, min(ncols, c))
    zoom = render.fit_factor(w * ncols, target=width)
    grid = render.tile(unit, ncols=ncols, pad=1)
    index = render.upscale(render.levels(grid), zoom)
    return Grid(index, render.palette(cmap), order, ncols, cmap, vmin, vmax, (w + 1) * zoom, (h + 1) * zoom)


# channel_stats' keys as a table shows them (translated where shown)
STAT_LABELS = {"min": N_("min"), "max": N_("max"), "mean": N_("mean"), "std": N_("std"), "positive %": N_("positive %")}


def channel_stats(m: np.ndarray) -> dict[str, float]:
    """Summary numbers of one (H, W) map."""
    return {
        "min": float(m.min()),
        "max": float(m.max()),
        "mean": float(m.mean()),
        "std": float(m.std()),
        "positive %": float((m > 0).mean() * 100),
    }


def channel_view(m: np.ndarray, *, cmap: str, vmin: float, vmax: float, width: int = 448) -> np.ndarray:
    """One (H, W) map as (H', W', 3) uint8, zoomed to about ``width`` pixels, unit grid crisp."""
    return render.upscale(render.colorize(render.scale(m, vmin, vmax), cmap), render.fit_factor(m.shape[1], width))


def draw_box(
    img: Image.Image, box: tuple[int, int, int, int], *, width: int = 400, color: tuple[int, int, int] = (255, 0, 255)
) -> Image.Image:
    """The image enlarged to ``width`` with the inclusive pixel box (top, left, bottom, right)
    outlined, plus a dot at its centre."""
    w, h = img.size
    k = width / w
    big = img.convert("RGB").resize((width, round(h * k)), Image.NEAREST)
    top, left, bottom, right = box
    d = ImageDraw.Draw(big)
    d.rectangle([left * k, top * k, (right + 1) * k - 1, (bottom + 1) * k - 1], outline=color, width=3)
    cy, cx = (top + bottom + 1) / 2 * k, (left + right + 1) / 2 * k
    d.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill=color)
    return big


def capture_range(maps: dict[str, np.ndarray]) -> tuple[float, float]:
    """(min, max) over every captured layer: the scale of "global" normalisation."""
    arrays = list({id(a): a for a in maps.values()}.values())
    return min(float(a.min()) for a in arrays), max(float(a.max()) for a in arrays)
