"""Conv weights as pictures: first-layer filters in colour, deeper ones per input channel or
averaged, and filter norms.

Input: a conv weight (O, I, kH, kW) as numpy. Output: (H, W, 3) uint8 pictures via
cnnviz.render (numpy tiling, one colormap lookup), never matplotlib subplots.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cnnviz import hotspots as hs
from cnnviz import render
from cnnviz.errors import ModelError
from cnnviz.i18n import _
from cnnviz.trace import resolve

NORMS = ("filter", "layer")
MODES = ("average", "channel")


def conv_weight(model: nn.Module, name: str) -> np.ndarray:
    """The weight of a conv layer, copied out.

    Args:
        model: the network.
        name: the layer's ``named_modules`` path (a ``#n`` call suffix is ignored).

    Returns:
        (O, I/groups, kH, kW) float32 array.

    Raises:
        ModelError: the layer is not an ``nn.Conv2d``.
    """
    m = resolve(model, name.split("#")[0])
    if not isinstance(m, nn.Conv2d):
        raise ModelError(
            _("{layer} is a {type}, not a convolution layer: it has no filters to show.").format(
                layer=repr(name), type=type(m).__name__
            )
        )
    with torch.no_grad():
        return m.weight.detach().float().cpu().numpy().copy()


def filter_norms(w: np.ndarray) -> np.ndarray:
    """The L2 norm of each output filter.

    Args:
        w: (O, I, kH, kW) weights.

    Returns:
        (O,) float32.
    """
    return np.sqrt((w.astype(np.float64) ** 2).reshape(w.shape[0], -1).sum(1)).astype(np.float32)


def _scale_symmetric(w: np.ndarray, norm: str) -> np.ndarray:
    """``w`` (O, ...) to 0..1 with 0 → 0.5: per filter (each its own ±max) or per layer."""
    axes = tuple(range(1, w.ndim))
    m = np.abs(w).max(axis=axes, keepdims=True) if norm == "filter" else np.abs(w).max()
    return 0.5 + 0.5 * w / np.maximum(m, 1e-12)


def is_rgb_layer(w: np.ndarray) -> bool:
    """Whether a layer reads the 3 colour channels directly (the first conv of an RGB model).

    Args:
        w: (O, I, kH, kW) weights.

    Returns:
        True when I is 3.
    """
    return w.shape[1] == 3


def filter_grid(
    w: np.ndarray, *, mode: str = "average", channel: int = 0, norm: str = "filter", width: int = 560
) -> np.ndarray:
    """Every filter of a conv layer as tiles in one picture.

    3 input channels: each filter in colour (red, green, blue weights; grey = 0). 1 input
    channel: grey levels (black negative, white positive). Otherwise, in a diverging colormap
    (blue < 0 < red).

    Args:
        w: (O, I, kH, kW) weights.
        mode: "average" averages over input channels, "channel" shows input ``channel``.
        channel: the input channel for mode "channel".
        norm: "filter" scales each filter by its own largest weight, otherwise the layer's.
        width: the approximate width in pixels.

    Returns:
        (H, W, 3) uint8.
    """
    o, i, kh, kw = w.shape
    if i == 3 and mode == "average":  # colour: the (3, k, k) filter is a tiny RGB picture
        tiles = _scale_symmetric(w, norm).transpose(0, 2, 3, 1)  # (O, kH, kW, 3)
        rgb = (render.tile(tiles, pad=1, fill=1.0) * 255).round().astype(np.uint8)
    else:
        if i == 1:
            flat, cmap = w[:, 0], "gray"
        elif mode == "channel":
            if not 0 <= channel < i:
                raise ModelError(
                    _("This layer has {n} input channels; channel {channel} does not exist.").format(
                        n=i, channel=channel
                    )
                )
            flat, cmap = w[:, channel], "RdBu_r"
        else:
            flat, cmap = w.mean(axis=1), "RdBu_r"
        rgb = render.colorize(render.tile(_scale_symmetric(flat, norm), pad=1), cmap)
    return render.upscale(rgb, _zoom(w.shape, width))


def _zoom(shape: tuple[int, ...], width: int) -> int:
    o, _, _, kw = shape
    ncols = int(np.ceil(np.sqrt(o)))
    return render.fit_factor(ncols * (kw + 1), width)


def filter_at(pixel: tuple[int, int], shape: tuple[int, ...], width: int = 560) -> int | None:
    """The filter under a pixel of :func:`filter_grid`'s picture.

    Args:
        pixel: (row, col) in the picture.
        shape: (O, I, kH, kW) of the weights drawn.
        width: the width the picture was drawn at.

    Returns:
        The filter (output channel) index, or None in a gap or outside.
    """
    o, _, kh, kw = shape
    f = _zoom(shape, width)
    ncols = max(1, min(int(np.ceil(np.sqrt(o))), o))
    cell = ((kh + 1) * f, (kw + 1) * f)
    if pixel[0] % cell[0] >= kh * f or pixel[1] % cell[1] >= kw * f:
        return None  # the 1-pixel gap between two filters
    index = render.tile_at(pixel, cell, (int(np.ceil(o / ncols)), ncols))
    return index if index is not None and index < o else None


def filter_hotspots(shape: tuple[int, ...], width: int = 560) -> hs.Grid:
    """The filters of :func:`filter_grid`'s picture as keyboard hotspots, labelled "filter N"
    (a key press picks a filter's centre).

    Args:
        shape: (O, I, kH, kW) of the weights drawn.
        width: the width the picture was drawn at.

    Returns:
        A hotspots Grid, one cell per filter.
    """
    o, _inputs, kh, kw = shape
    f = _zoom(shape, width)
    ncols = max(1, min(int(np.ceil(np.sqrt(o))), o))
    return hs.Grid(-(-o // ncols), ncols, ((kh + 1) * f, (kw + 1) * f), count=o, template=_("filter {i}"))
