"""Pooling by hand, for teaching, and the pooling layers of a real network.

``pool2d`` slides the same explicit windows as the convolution (``convolution.windows``)
and keeps the largest value (max) or the mean (average) of each. The tests check it
against ``F.max_pool2d`` / ``F.avg_pool2d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.i18n import _
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.teaching.convolution import windows
from cnnviz.trace import hooks

MODES = ("max", "avg")


def _windows(x: np.ndarray, k: int, stride: int | None, padding: int, mode: str) -> np.ndarray:
    if mode not in MODES:
        raise CnnvizError(_("Pooling is 'max' or 'avg', not '{mode}'.").format(mode=mode))
    if padding * 2 > k:
        raise CnnvizError(_("Pooling padding may be at most half the window."))
    # max pooling ignores the padding (as torch pads with -inf); average counts it as zeros
    # (torch's default count_include_pad=True).
    return windows(x, k, stride or k, padding, value=-np.inf if mode == "max" else 0.0)


def pool2d(x: np.ndarray, k: int, stride: int | None = None, mode: str = "max", padding: int = 0) -> np.ndarray:
    """Max or average of every k×k window.

    Args:
        x: (..., H, W) array.
        k: the window's side.
        stride: the step between windows; None for ``k`` (non-overlapping windows, the usual
            choice).
        mode: "max" or "avg".
        padding: pixels added on each side.

    Returns:
        (..., OH, OW) float32, OH = floor((H − k + 2·padding) / stride) + 1.

    Raises:
        CnnvizError: an unknown mode, padding over half the window, a window that does not
        fit, or a bad stride.
    """
    win = _windows(x, k, stride, padding, mode)
    out = win.max(axis=(-2, -1)) if mode == "max" else win.mean(axis=(-2, -1))
    return out.astype(np.float32)


def winners(x: np.ndarray, k: int, stride: int | None = None, padding: int = 0) -> np.ndarray:
    """The input values that max pooling keeps (the first largest of each window).

    Args:
        x: one (H, W) map.
        k: the window's side.
        stride: the step between windows; None for ``k``.
        padding: pixels added on each side.

    Returns:
        (H, W) bool mask of the kept values.

    Raises:
        CnnvizError: ``x`` is not 2-D, or a window that does not fit.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise CnnvizError(_("winners() takes one (H, W) map."))
    s = stride or k
    win = _windows(x, k, s, padding, "max")
    idx = win.reshape(*win.shape[:2], k * k).argmax(axis=-1)  # (OH, OW)
    rows = np.arange(win.shape[0])[:, None] * s - padding + idx // k
    cols = np.arange(win.shape[1])[None, :] * s - padding + idx % k
    mask = np.zeros(x.shape, dtype=bool)
    mask[rows, cols] = True
    return mask


@dataclass(frozen=True)
class PoolZoom:
    """One pooling window, in numbers: ``window`` (k, k); ``winner`` (r, c) of its max inside it."""

    row: int
    col: int
    top: int
    left: int
    window: np.ndarray
    winner: tuple[int, int]
    max: float
    mean: float


def zoom(x: np.ndarray, k: int, stride: int | None, row: int, col: int) -> PoolZoom:
    """The window behind one output of pooling a map (no padding).

    Args:
        x: one (H, W) map.
        k: the window's side.
        stride: the step between windows; None for ``k``.
        row: the output row.
        col: the output column.

    Returns:
        A PoolZoom: the (k, k) window, where it starts, and its max's (r, c) inside it.

    Raises:
        CnnvizError: a position outside the pooled map.
    """
    s = stride or k
    win = _windows(np.asarray(x, dtype=np.float32), k, s, 0, "max")
    if not (0 <= row < win.shape[0] and 0 <= col < win.shape[1]):
        raise CnnvizError(
            _("Position ({row}, {col}) is outside the {h}×{w} pooled map.").format(
                row=row, col=col, h=win.shape[0], w=win.shape[1]
            )
        )
    w = np.array(win[row, col])
    r, c = divmod(int(w.argmax()), k)
    return PoolZoom(row, col, row * s, col * s, w, (r, c), float(w.max()), float(w.mean()))


def describe(m: nn.Module) -> str:
    """A one-line description of a pooling module, in the reader's language.

    Args:
        m: an nn pooling module (max, average, or adaptive).

    Returns:
        E.g. 'MaxPool2d 3×3, stride 2, padding 1'.
    """
    kind = type(m).__name__
    if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return _("{kind} to {size} (one window per output cell, sized to fit the input)").format(
            kind=kind, size=m.output_size
        )
    return _("{kind} {k}×{k}, stride {stride}, padding {padding}").format(
        kind=kind, k=m.kernel_size, stride=m.stride, padding=m.padding
    )


def layer_io(lm: LoadedModel, x: torch.Tensor, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Input and output of one layer (its first call) for one image.

    Args:
        lm: the shared model.
        x: (1, C, H, W) preprocessed input.
        name: the layer's ``named_modules`` path.

    Returns:
        (input, output): float32 arrays without the batch axis, e.g. (1280, 7, 7) and
        (1280, 1, 1) for EfficientNet-Lite0's global ``pool``.

    Raises:
        CnnvizError: the layer did not run for this image.
    """
    store: dict[str, torch.Tensor] = {}

    def keep_first(_name: str, _module, inputs, output) -> None:
        store.setdefault("input", inputs[0].detach())
        store.setdefault("output", output.detach())

    with lm.use() as model, torch.inference_mode(), hooks(model, [name], forward=keep_first):
        model(x.to(lm.device))
    if "input" not in store:
        raise CnnvizError(_("Layer '{name}' did not run for this image.").format(name=name))
    return store["input"][0].float().cpu().numpy(), store["output"][0].float().cpu().numpy()
