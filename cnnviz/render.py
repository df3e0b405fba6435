"""Arrays to pictures: colormap lookup tables, tiling, overlays, PNG bytes.

Interactive views tile arrays with numpy and encode once (tens of ms), never a grid of
matplotlib subplots (hundreds of ms to seconds). matplotlib is used only for its
colormaps, read once into 256-entry lookup tables.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw

from cnnviz.i18n import _, significant
from cnnviz.kept import KeptBytes


@lru_cache(maxsize=32)
def colormap_lut(name: str) -> np.ndarray:
    """The lookup table of a matplotlib colormap.

    Args:
        name: the colormap's name.

    Returns:
        (256, 3) uint8 colours.
    """
    cmap = colormaps[name]
    return (cmap(np.linspace(0.0, 1.0, 256))[:, :3] * 255).round().astype(np.uint8)


def scale(arr: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Values mapped linearly so vmin→0 and vmax→1, clipped.

    Args:
        arr: array of any shape.
        vmin: the value that becomes 0.
        vmax: the value that becomes 1.

    Returns:
        float32 array of arr's shape; a flat range gives 0.5 (0 for an all-zero input).
    """
    arr = np.asarray(arr, dtype=np.float32)
    span = float(vmax) - float(vmin)
    if not np.isfinite(span) or span <= 1e-12:
        return np.full(arr.shape, 0.5 if np.any(arr) else 0.0, dtype=np.float32)
    return np.clip((arr - vmin) / span, 0.0, 1.0)


def colorize(unit: np.ndarray, cmap: str = "viridis") -> np.ndarray:
    """Colours of values already in 0..1.

    Args:
        unit: array of any shape in 0..1; NaN (the tile gap) becomes white.
        cmap: a matplotlib colormap name.

    Returns:
        (..., 3) uint8.
    """
    unit = np.asarray(unit, dtype=np.float32)
    nan = np.isnan(unit)
    idx = (np.nan_to_num(unit, nan=0.0) * 255).round().astype(np.uint8)
    rgb = colormap_lut(cmap)[idx]
    rgb[nan] = 255
    return rgb


# An indexed picture of maps: 1 byte a pixel, so a PNG of a big grid encodes several times
# faster and smaller than RGB, with the same colours. LEVELS is odd so that 0.5 (zero of a
# signed map) is a level.
LEVELS = 253
GAP, MARK = 253, 254  # palette entries: the white between tiles, the outline of a chosen tile


def palette(cmap: str, mark: tuple[int, int, int] = (255, 0, 255)) -> np.ndarray:
    """The palette of an indexed picture of maps; indices from :func:`levels`.

    Args:
        cmap: a matplotlib colormap name.
        mark: the RGB colour of entry MARK (a chosen tile's outline).

    Returns:
        (256, 3) uint8: ``cmap`` at LEVELS evenly spaced points of its 256, then white (GAP),
        then ``mark`` (MARK).
    """
    pal = np.zeros((256, 3), dtype=np.uint8)
    pal[:LEVELS] = colormap_lut(cmap)[np.round(np.arange(LEVELS) * 255 / (LEVELS - 1)).astype(int)]
    pal[GAP] = 255
    pal[MARK] = mark
    return pal


def levels(unit: np.ndarray) -> np.ndarray:
    """Palette indices of values in 0..1.

    Args:
        unit: array of any shape in 0..1; NaN (the tile gap) becomes GAP.

    Returns:
        uint8 array of unit's shape.
    """
    unit = np.asarray(unit, dtype=np.float32)
    idx = (np.nan_to_num(unit, nan=0.0) * (LEVELS - 1)).round().astype(np.uint8)
    idx[np.isnan(unit)] = GAP
    return idx


def indexed_image(index: np.ndarray, pal: np.ndarray) -> Image.Image:
    """An indexed ("P") picture.

    Args:
        index: (H, W) uint8 palette indices.
        pal: (256, 3) uint8 palette.

    Returns:
        A PIL image of mode "P".
    """
    img = Image.fromarray(np.ascontiguousarray(index), mode="L")
    img.putpalette(pal.tobytes())
    return img


def tile(maps: np.ndarray, ncols: int | None = None, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tile arrays into one grid, row-major, with a gap between them.

    Args:
        maps: (N, H, W) or (N, H, W, C).
        ncols: columns of the grid; None for about a square.
        pad: the gap in pixels.
        fill: the value of gaps and of missing tiles (NaN renders white through
            :func:`colorize`).

    Returns:
        (rows*(H+pad)-pad, cols*(W+pad)-pad[, C]) array of maps' dtype.
    """
    maps = np.asarray(maps)
    n, h, w = maps.shape[:3]
    extra = maps.shape[3:]
    if ncols is None:
        ncols = int(np.ceil(np.sqrt(n)))
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    dtype = np.float32 if np.issubdtype(maps.dtype, np.floating) or np.isnan(fill) else maps.dtype
    grid = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad, *extra), fill, dtype=dtype)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = maps[i]
    return grid


def tile_at(pixel: tuple[int, int], cell: tuple[int, int], shape: tuple[int, int]) -> int | None:
    """Row-major index of the tile under a pixel (the inverse of :func:`tile` after
    :func:`upscale`).

    Args:
        pixel: (row, col) in the picture.
        cell: (height, width) of one tile including its gap, in pixels.
        shape: (rows, cols) of tiles.

    Returns:
        The tile's index, or None outside the grid.
    """
    r, c = pixel[0] // cell[0], pixel[1] // cell[1]
    if not (0 <= r < shape[0] and 0 <= c < shape[1]):
        return None
    return int(r * shape[1] + c)


def upscale(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlarge by an integer factor (keeps pixels crisp on a projector).

    Args:
        rgb: (H, W[, C]) array.
        factor: the zoom; 1 or less returns ``rgb`` itself.

    Returns:
        (H·factor, W·factor[, C]) array.
    """
    if factor <= 1:
        return rgb
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def fit_factor(side: int, target: int = 512, most: int = 16) -> int:
    """The integer zoom that brings ``side`` pixels closest to ``target`` without passing it.

    Args:
        side: the picture's side in pixels.
        target: the wanted side.
        most: the largest zoom.

    Returns:
        A zoom in 1..most.
    """
    return int(max(1, min(most, target // max(1, side))))


# Recently encoded pictures, by content (cnnviz.kept): hashing the pixels takes a tenth of
# encoding them.
_encoded = KeptBytes(32 << 20)


def _content_key(picture: np.ndarray | Image.Image, how: str) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    if isinstance(picture, Image.Image):
        h.update(f"{how} {picture.mode} {picture.size}".encode())
        h.update(picture.tobytes())
    else:
        h.update(f"{how} {picture.dtype} {picture.shape}".encode())
        h.update(picture.data)
    return h.digest()


def _encoded_once(picture: np.ndarray | Image.Image, how: str, encode: Callable[[], bytes]) -> bytes:
    """``encode()``'s bytes, remembered by the picture's content and ``how`` it is encoded."""
    key = _content_key(picture, how)
    if (found := _encoded.get(key)) is None:
        found = encode()
        _encoded.put(key, found)
    return found


def _save(img: Image.Image, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, **options)
    return buf.getvalue()


def to_png(rgb: np.ndarray | Image.Image, compress_level: int = 1) -> bytes:
    """PNG bytes of a picture, encoded once per content.

    Args:
        rgb: (H, W[, 3]) uint8 array or PIL image.
        compress_level: zlib level; 1 takes about half the time of the default, for a file a
            little larger.

    Returns:
        The PNG file's bytes.
    """
    if not isinstance(rgb, Image.Image):
        rgb = np.ascontiguousarray(rgb)
    img = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    return _encoded_once(rgb, f"png {compress_level}", lambda: _save(img, format="PNG", compress_level=compress_level))


def photo_bytes(img: Image.Image, quality: int = 88, largest: int = 1280) -> bytes:
    """A photo's bytes for showing it, encoded once per content.

    Streamlit encodes a PIL image as a quality-100 JPEG: several times the bytes for no
    visible gain.

    Args:
        img: the photo.
        quality: JPEG quality.
        largest: the longest side kept, in pixels (no page shows a photo wider; Streamlit would
            decode, shrink and re-encode a wider one on every run).

    Returns:
        JPEG bytes, or PNG when the photo is small (a 28×28 digit keeps its crisp pixels).
    """
    if min(img.size) < 128:
        return to_png(img)

    def encode() -> bytes:
        shown = img
        if max(img.size) > largest:
            shown = img.copy()
            shown.thumbnail((largest, largest), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return _save(shown.convert("RGB"), format="JPEG", quality=quality)

    return _encoded_once(img, f"jpeg {quality} {largest}", encode)


def resize_map(heat: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a float map.

    Args:
        heat: (h, w) map.
        size: (W, H) wanted, as PIL orders it.

    Returns:
        (H, W) float32.
    """
    img = Image.fromarray(np.asarray(heat, dtype=np.float32), mode="F")
    return np.asarray(img.resize(size, Image.BILINEAR), dtype=np.float32)


def overlay(
    image: Image.Image | np.ndarray,
    heat: np.ndarray,
    *,
    alpha: float = 0.5,
    cmap: str = "jet",
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Blend a colour-mapped map over an image.

    Args:
        image: PIL image or (H, W[, C]) array, 0..255 or 0..1.
        heat: (h, w) map, resized bilinearly to the image.
        alpha: the map's opacity.
        cmap: a matplotlib colormap name.
        vmin: the value drawn as the colormap's start; None for the map's minimum.
        vmax: the value drawn as its end; None for the map's maximum.

    Returns:
        (H, W, 3) uint8.
    """
    base = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image, dtype=np.float32)
    if base.ndim == 2:
        base = np.repeat(base[:, :, None], 3, axis=2)
    if base.max() <= 1.0:
        base = base * 255.0
    h, w = base.shape[:2]
    heat = resize_map(heat, (w, h))
    lo = float(np.min(heat)) if vmin is None else vmin
    hi = float(np.max(heat)) if vmax is None else vmax
    col = colorize(scale(heat, lo, hi), cmap).astype(np.float32)
    return (base * (1 - alpha) + col * alpha).round().clip(0, 255).astype(np.uint8)


def gradient_css(cmap: str, stops: int = 33) -> str:
    """A colour scale drawn by the browser: crisp at any width, no picture to send.

    Args:
        cmap: a matplotlib colormap name.
        stops: how many evenly spaced colours of its lookup table.

    Returns:
        A CSS ``linear-gradient(to right, ...)``, the low end at the left.
    """
    lut = colormap_lut(cmap)
    idx = np.round(np.linspace(0, 255, stops)).astype(int)
    parts = [f"#{r:02x}{g:02x}{b:02x} {100 * i / (stops - 1):.2f}%" for i, (r, g, b) in enumerate(lut[idx])]
    return "linear-gradient(to right, " + ", ".join(parts) + ")"


def map_rgb(
    arr: np.ndarray, *, signed: bool | None = None, cmap: str | None = None, limit: float | None = None
) -> np.ndarray:
    """The picture of one map.

    Signed maps use a diverging colormap centred on 0 (blue negative, white 0, red positive)
    from −limit to +limit, so 0 always looks the same; non-negative maps use grey 0..limit.

    Args:
        arr: (H, W) map.
        signed: force the signed view; None for "when any value is below 0".
        cmap: a colormap name instead of the default for the view.
        limit: the scale's end; None for the largest |value|.

    Returns:
        (H, W, 3) uint8.
    """
    arr = np.asarray(arr, dtype=np.float32)
    if signed is None:
        signed = bool(np.nanmin(arr) < 0) if arr.size else False
    top = float(np.nanmax(np.abs(arr))) if limit is None and arr.size else float(limit or 0.0)
    if signed:
        return colorize(scale(arr, -top, top), cmap or "RdBu_r")
    return colorize(scale(arr, 0.0, top), cmap or "gray")


def draw_box(
    rgb: np.ndarray,
    top: int,
    left: int,
    height: int,
    width: int,
    *,
    factor: int = 1,
    color: tuple[int, int, int] = (255, 196, 0),
    thickness: int = 2,
) -> np.ndarray:
    """An enlarged copy of a picture with a rectangle outlining some source pixels.

    Args:
        rgb: (H, W, 3) uint8.
        top: the first row of the box.
        left: the first column.
        height: rows in the box.
        width: columns in the box.
        factor: the zoom (nearest-neighbour).
        color: the outline's RGB colour.
        thickness: the outline's width in pixels.

    Returns:
        (H·factor, W·factor, 3) uint8, the box clipped to the picture.
    """
    big = Image.fromarray(np.ascontiguousarray(upscale(rgb, factor)))
    h, w = rgb.shape[:2]
    y0, x0 = max(0, top) * factor, max(0, left) * factor
    y1, x1 = min(h, top + height) * factor - 1, min(w, left + width) * factor - 1
    if y1 >= y0 and x1 >= x0:
        ImageDraw.Draw(big).rectangle([x0, y0, x1, y1], outline=color, width=thickness)
    return np.asarray(big)


# ---------------------------------------------------------------- explanation maps
@dataclass(frozen=True)
class Display:
    """How to colour a map: the values, their range and a colormap, plus a legend."""

    heat: np.ndarray
    vmin: float
    vmax: float
    cmap: str
    legend: str  # in the language of the call that made it (display() is never cached)


def display(map_: np.ndarray, *, signed: bool = False, cmap: str = "jet", robust: bool = False) -> Display:
    """How to colour an explanation map: the normalised view (0 … max of the positive part)
    or the signed view (−m … +m, m = max |value|).

    The signed view keeps the real scale, so two maps of the same model compare; its colours
    are a diverging map where white is zero. NaN becomes 0.

    Args:
        map_: (h, w) map.
        signed: the signed view.
        cmap: the normalised view's colormap.
        robust: the normalised view's scale ends at the 99.5th percentile, so that a few
            extreme pixels saturate instead of leaving everything else near black.

    Returns:
        A Display: the values to draw, their range, colormap and a legend sentence in the
        current language.
    """
    a = np.asarray(map_, dtype=np.float32)
    a = np.where(np.isfinite(a), a, 0.0).astype(np.float32)  # NaN weights: blank, not a crash
    if signed:
        m = float(np.abs(a).max()) or 1.0
        legend = _("red: evidence for the class, blue: against it, white: none (scale ±{m})").format(m=significant(m))
        return Display(a, -m, m, "RdBu_r", legend)
    pos = np.maximum(a, 0)
    # robust: pixel maps have a few extreme values; the top 0.5 % saturate instead of
    # leaving everything else near black
    top = float(np.percentile(pos[pos > 0], 99.5)) if robust and pos.any() else float(pos.max())
    return Display(
        pos,
        0.0,
        top or 1.0,
        cmap,
        _("the strongest evidence for the class at the right end of the scale, none at the left"),
    )


def overlay_png(image: Image.Image | np.ndarray, d: Display, *, alpha: float = 0.5) -> bytes:
    """A map blended over an image, as PNG, blended and encoded once per content (the page
    redraws it on every slider move elsewhere).

    Args:
        image: PIL image or (H, W[, C]) array.
        d: the map and its colouring (:func:`display`), resized bilinearly to the image.
        alpha: the map's opacity.

    Returns:
        The PNG file's bytes.
    """
    if not isinstance(image, Image.Image):
        image = np.ascontiguousarray(image)
    heat = np.ascontiguousarray(d.heat)
    how = f"overlay {alpha!r} {d.cmap} {d.vmin!r} {d.vmax!r} {heat.dtype} {heat.shape} {_content_key(heat, '').hex()}"
    return _encoded_once(
        image,
        how,
        lambda: _save(
            Image.fromarray(overlay(image, d.heat, alpha=alpha, cmap=d.cmap, vmin=d.vmin, vmax=d.vmax)),
            format="PNG",
            compress_level=1,
        ),
    )


# ---------------------------------------------------------------- small helpers of the compute pages
def robust_limit(arr: np.ndarray, q: float = 99.0) -> float:
    """The colour scale's end, so that a few extreme pixels do not wash every other one
    out to white.

    Args:
        arr: a map; NaN and infinities are ignored.
        q: the percentile of |values|.

    Returns:
        The q-th percentile of |values| (their max, or 1.0, when that is 0).
    """
    a = np.abs(arr[np.isfinite(arr)])  # NaN weights leave NaN maps: scale by what is finite
    if not a.size:
        return 1.0
    return float(np.percentile(a, q)) or float(a.max()) or 1.0


def grey_rgb(grey: np.ndarray) -> np.ndarray:
    """A grey picture as RGB.

    Args:
        grey: (H, W) values in 0..1 (clipped).

    Returns:
        (H, W, 3) uint8.
    """
    g = (np.clip(grey, 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(g[:, :, None], 3, axis=2)
