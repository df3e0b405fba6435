"""One channel's own weights: the convolution that computes it, wherever the channel is read.

A channel of an activation, pooling or block output is made by the last convolution before
it with as many output channels (the activation and pooling act channel by channel).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from cnnviz.inside.catalogue import LayerInfo
from cnnviz.inside.filters import conv_weight


def source_conv(layers: list[LayerInfo], layer: LayerInfo) -> LayerInfo | None:
    """The conv layer whose filter ``channel`` of ``layer`` comes from, or None (e.g. a
    ResNet block output that adds two branches is still credited to its last conv)."""
    if not layer.spatial:
        return None
    end = next(i for i, la in enumerate(layers) if la.name == layer.name)
    for la in reversed(layers[: end + 1]):
        if la.kind == "conv" and la.out_shape[0] == layer.out_shape[0]:
            return la
    return None


def channel_filter(model: nn.Module, conv: LayerInfo, channel: int) -> np.ndarray:
    """(I, kH, kW) float32: the filter of output ``channel`` of ``conv``."""
    return conv_weight(model, conv.name)[channel]


def most_active(maps: np.ndarray) -> int:
    """The channel with the highest mean over positions of ``maps`` (C, H, W) or (C,): the one
    a first look at a layer should show (the first channel is often all zero on a photo)."""
    means = maps.reshape(maps.shape[0], -1).astype(np.float64).mean(axis=1)
    return int(np.argmax(means))


def input_norms(w: np.ndarray) -> np.ndarray:
    """(I,) L2 norm of a filter (I, kH, kW) per input channel: how much each input channel counts."""
    return np.sqrt((w.astype(np.float64) ** 2).reshape(w.shape[0], -1).sum(1)).astype(np.float32)
