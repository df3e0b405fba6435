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
    """The conv layer whose filters make the channels of ``layer``.

    A ResNet block output that adds two branches is still credited to its last conv.

    Args:
        layers: the model's layer catalogue, in forward order.
        layer: a layer of it.

    Returns:
        The last conv at or before ``layer`` with as many output channels, or None (no such
        conv, or a layer without rows and columns).
    """
    if not layer.spatial:
        return None
    end = next(i for i, la in enumerate(layers) if la.name == layer.name)
    for la in reversed(layers[: end + 1]):
        if la.kind == "conv" and la.out_shape[0] == layer.out_shape[0]:
            return la
    return None


def channel_filter(model: nn.Module, conv: LayerInfo, channel: int) -> np.ndarray:
    """The filter of one output channel of a conv layer.

    Args:
        model: the network.
        conv: the conv layer's catalogue entry.
        channel: the output channel.

    Returns:
        (I, kH, kW) float32 weights.
    """
    return conv_weight(model, conv.name)[channel]


def most_active(maps: np.ndarray) -> int:
    """The channel a first look at a layer should show: the highest mean over positions
    (the first channel is often all zero on a photo).

    Args:
        maps: (C, H, W) or (C,) activations.

    Returns:
        The channel's index.
    """
    means = maps.reshape(maps.shape[0], -1).astype(np.float64).mean(axis=1)
    return int(np.argmax(means))


def input_norms(w: np.ndarray) -> np.ndarray:
    """How much each input channel counts in a filter.

    Args:
        w: (I, kH, kW) filter.

    Returns:
        (I,) float32 L2 norm per input channel.
    """
    return np.sqrt((w.astype(np.float64) ** 2).reshape(w.shape[0], -1).sum(1)).astype(np.float32)
