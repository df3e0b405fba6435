"""How one unit of a conv layer was computed (the Network page's click on a tile): its input
window times the kernel, channel by channel, plus the bias, then the norm and activation
that follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.i18n import _
from cnnviz.inside.catalogue import LayerInfo
from cnnviz.teaching.convolution import step


@dataclass(frozen=True)
class UnitMath:
    """How output (channel, row, col) of a conv layer was computed.

    ``windows`` (C_in, k, k): the input under the kernel (padding zeros included);
    ``kernel`` (C_in, k, k); ``sums`` (C_in,): each input channel's sum(window × kernel);
    ``value`` = sums.sum() + ``bias``: the conv's output. ``after``: the layers right after
    it that act on this value alone (batch norm, activation) as (name, type, value), in order.
    """

    layer: str
    channel: int
    row: int
    col: int
    windows: np.ndarray
    kernel: np.ndarray
    sums: np.ndarray
    bias: float
    value: float
    after: tuple[tuple[str, str, float], ...]


def following(layers: list[LayerInfo], name: str) -> list[LayerInfo]:
    """The norm/activation layers applied right after layer ``name`` (same shape, in order)."""
    names = [la.name for la in layers]
    i = names.index(name)
    out = []
    for la in layers[i + 1 :]:
        if la.kind == "block":
            continue
        if la.kind not in ("norm", "act") or la.out_shape != layers[i].out_shape:
            break
        out.append(la)
    return out


def _apply_elementwise(module: nn.Module, v: float, channel: int, channels: int) -> float:
    """``module`` (a norm in eval mode or an activation) applied to value ``v`` in ``channel``."""
    tensors = [*module.parameters(), *module.buffers()]
    x = torch.zeros(1, channels, 1, 1, device=tensors[0].device if tensors else "cpu")
    x[0, channel, 0, 0] = v
    with torch.inference_mode():
        return float(module(x)[0, channel, 0, 0])


def unit_math(
    model: nn.Module, layers: list[LayerInfo], name: str, x: np.ndarray, channel: int, row: int, col: int
) -> UnitMath:
    """Trace output (``channel``, ``row``, ``col``) of conv layer ``name`` from its input ``x``
    (C_in, H, W), then through the batch norm / activation that follow it.

    The caller owns ``model`` (``with lm.use() as model``). Raises CnnvizError for a layer
    that is not a plain (ungrouped, undilated, square-stride) Conv2d.
    """
    modules = dict(model.named_modules())
    path = name.partition("#")[0]
    conv = modules.get(path)
    if (
        not isinstance(conv, nn.Conv2d)
        or conv.groups != 1
        or conv.dilation != (1, 1)
        or conv.stride[0] != conv.stride[1]
    ):
        raise CnnvizError(_("{layer} is not a plain convolution, so its arithmetic is not shown.").format(layer=name))
    if isinstance(conv.padding, str):
        raise CnnvizError(
            _("{layer} uses '{padding}' padding, so its arithmetic is not shown.").format(
                layer=name, padding=conv.padding
            )
        )
    ph, pw = conv.padding
    w = conv.weight.detach().float().cpu().numpy()[channel]  # (C_in, k, k)
    b = float(conv.bias.detach()[channel]) if conv.bias is not None else 0.0
    st = step(np.asarray(x, dtype=np.float32), w, conv.stride[0], (pw, pw, ph, ph), row, col, bias=b)
    sums = st.products.reshape(st.products.shape[0], -1).sum(1)
    v, after = st.value, []
    channels = conv.out_channels
    for la in following(layers, name):
        v = _apply_elementwise(modules[la.path], v, channel, channels)
        after.append((la.name, la.type, v))
    return UnitMath(name, channel, row, col, st.window, st.kernel, sums, b, st.value, tuple(after))
