"""A model's preprocessing taken apart into the steps a student can look at.

``steps(spec, img)`` runs the picture through the model's own pipeline one step at a time
(colour mode → resize of the shorter side → centre crop → inversion → numbers → channel
order and scale → normalisation) and keeps every intermediate. Its ``tensor`` is computed
here in numpy from those intermediates, and equals ``spec(img)`` (what ``predict`` feeds
the model) element for element: ``tests/unit/test_preprocess_steps.py`` checks it for an
RGB model, a one-channel digits model and SqueezeNet's Caffe pipeline.

The same pipeline with a mistake in it is ``cnnviz.teaching.preprocess_mistakes``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.models.preprocess import Preprocess


@dataclass(frozen=True)
class FileInfo:
    """What the uploaded file itself says (header only, nothing decoded)."""

    format: str
    mode: str
    size: tuple[int, int]


def file_info(data: bytes) -> FileInfo | None:
    """Format, colour mode and size from the file's header; None when PIL cannot tell."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return FileInfo(str(im.format or "?"), str(im.mode), (int(im.width), int(im.height)))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


@dataclass(frozen=True)
class Steps:
    """Every intermediate of one image through one model's preprocessing.

    Pictures are PIL images; arrays are numpy. ``pixels``: (size, size, C) uint8 in RGB (or
    grey) order, the cropped picture as numbers. ``scaled``: (C, size, size) float32 in the
    model's channel order and pixel range (0..1 or 0..255), before mean/std. ``tensor``:
    (1, C, size, size) float32, what the model is fed.
    """

    spec: Preprocess
    original: Image.Image  # the decoded image (RGB)
    converted: Image.Image  # RGB, or L for a one-channel model
    resized: Image.Image  # shorter side = spec.resize
    box: tuple[int, int, int, int]  # (left, top, right, bottom) of the crop in ``resized``
    cropped: Image.Image  # size×size, before inversion
    final: Image.Image  # size×size: ``cropped``, inverted when the model wants it
    pixels: np.ndarray
    scaled: np.ndarray
    tensor: np.ndarray

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Names of the fed channels in order: ("R", "G", "B"), ("B", "G", "R") or ("grey",)."""
        if self.spec.channels == 1:
            return ("grey",)
        return ("B", "G", "R") if self.spec.bgr else ("R", "G", "B")

    def pixel(self, row: int, col: int) -> list[dict]:
        """One pixel through the last steps, a row per fed channel:
        {"channel", "pixel" (0..255), "scaled", "mean", "std", "fed"}."""
        order = _order(self.spec)
        raw = self.pixels[row, col].reshape(-1)[order]
        return [
            {
                "channel": name,
                "pixel": int(raw[c]),
                "scaled": float(self.scaled[c, row, col]),
                "mean": float(self.spec.mean[c]),
                "std": float(self.spec.std[c]),
                "fed": float(self.tensor[0, c, row, col]),
            }
            for c, name in enumerate(self.channel_names)
        ]


def _order(spec: Preprocess) -> list[int]:
    """Indices of the fed channels in the picture's own (RGB) order."""
    return [2, 1, 0] if spec.bgr and spec.channels == 3 else list(range(spec.channels))


def normalise(spec: Preprocess, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scaled, fed): (C, H, W) float32 each, from (H, W[, C]) uint8 pixels in RGB order.

    scaled = pixels / (255 / scale), channels reordered; fed = (scaled − mean) / std,
    computed in float32 in the same order of operations as the model's own pipeline."""
    arr = np.asarray(pixels, dtype=np.float32) / np.float32(255.0 / spec.scale)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    scaled = np.ascontiguousarray(arr.transpose(2, 0, 1)[_order(spec)])
    mean = np.asarray(spec.mean, dtype=np.float32)[:, None, None]
    std = np.asarray(spec.std, dtype=np.float32)[:, None, None]
    return scaled, (scaled - mean) / std


def steps(spec: Preprocess, img: Image.Image) -> Steps:
    """Run ``img`` through ``spec`` step by step (see :class:`Steps`)."""
    converted = img.convert("RGB" if spec.channels == 3 else "L")
    resized = converted.resize(spec.resized_size(*converted.size), spec.resample, reducing_gap=None)
    box = spec.crop_box(*resized.size)
    cropped = resized.crop(box)
    final = Image.eval(cropped, _invert) if spec.invert else cropped
    pixels = np.asarray(final, dtype=np.uint8)
    scaled, fed = normalise(spec, pixels)
    return Steps(spec, img, converted, resized, box, cropped, final, pixels, scaled, fed[None])


def _invert(v: int) -> int:
    return 255 - v


def enlarge(picture: Image.Image, side: int = 300) -> Image.Image:
    """``picture`` (RGB) scaled up by a whole factor with nearest-neighbour, so a 28×28 input
    shows its pixels as squares instead of a browser's blur; big pictures are left alone."""
    k = max(1, side // max(picture.size))
    pic = picture.convert("RGB")
    return pic.resize((pic.width * k, pic.height * k), Image.NEAREST) if k > 1 else pic


def border_view(resized: Image.Image, box: tuple[int, int, int, int], *, dim: float = 0.35) -> np.ndarray:
    """(H, W, 3) uint8: the resized picture (enlarged when small) with what the crop discards
    dimmed and the kept square outlined in magenta."""
    big = enlarge(resized)
    k = big.width // resized.width
    rgb = np.asarray(big, dtype=np.float32)
    out = rgb * dim + 255 * (1 - dim) * 0.15
    left, top, right, bottom = (v * k for v in box)
    out[top:bottom, left:right] = rgb[top:bottom, left:right]
    pic = Image.fromarray(out.clip(0, 255).astype(np.uint8))
    width = max(2, round(max(big.size) / 150))
    ImageDraw.Draw(pic).rectangle((left, top, right - 1, bottom - 1), outline=(255, 0, 255), width=width)
    return np.asarray(pic)


def mark_pixel(picture: Image.Image, row: int, col: int, *, width: int = 448) -> np.ndarray:
    """(width, width, 3) uint8: the picture enlarged (nearest) with one pixel ringed in magenta."""
    pic = picture.convert("RGB").resize((width, width), Image.NEAREST)
    k = width / picture.width
    r = max(4.0, k)
    cx, cy = (col + 0.5) * k, (row + 0.5) * k
    ImageDraw.Draw(pic).ellipse((cx - r, cy - r, cx + r, cy + r), outline=(255, 0, 255), width=3)
    return np.asarray(pic)


def histograms(arr: np.ndarray, names: tuple[str, ...], bins: int = 48) -> list[dict]:
    """Per-channel histograms of (C, H, W) values on one shared set of bins:
    rows {"channel", "start", "end", "count"}."""
    lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    rows = []
    for c, name in enumerate(names):
        counts, _ = np.histogram(arr[c], bins=edges)
        rows += [
            {"channel": name, "start": float(a), "end": float(b), "count": int(n)}
            for a, b, n in zip(edges[:-1], edges[1:], counts, strict=True)
        ]
    return rows
