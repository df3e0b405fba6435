"""Two models side by side: layers at comparable depth, the classes both know.

Plain functions over layer catalogues and class lists; the Compare-models page calls them
once per model and lays the results out in two columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.inside.catalogue import LayerInfo, map_layers

# What "depth" counts: the outputs a student reads as feature maps, after each activation.
DEPTH_KINDS = ("act",)
MAX_CHANNELS = 32  # channels shown per model: the strongest, so two columns stay readable


def depth_layers(layers: list[LayerInfo]) -> list[LayerInfo]:
    """The spatial layers depth is measured along: activations, or every map layer for a
    model without separate activation modules."""
    return map_layers(layers, DEPTH_KINDS) or map_layers(layers)


def layer_at_depth(layers: list[LayerInfo], fraction: float) -> LayerInfo:
    """The layer ``fraction`` (0 = first, 1 = last) of the way through ``depth_layers``.

    Raises ValueError for a model with no spatial layers."""
    cands = depth_layers(layers)
    if not cands:
        raise ValueError("this model has no layers with feature maps")
    i = round(min(max(fraction, 0.0), 1.0) * (len(cands) - 1))
    return cands[i]


def relative_depth(layers: list[LayerInfo], name: str) -> float | None:
    """Where layer ``name`` sits in ``depth_layers`` (0..1), or None if it is not one of them."""
    names = [la.name for la in depth_layers(layers)]
    if name not in names:
        return None
    return names.index(name) / max(1, len(names) - 1)


def first_conv(layers: list[LayerInfo]) -> LayerInfo | None:
    """The first convolution in forward order (the one that reads the pixels)."""
    return next((la for la in layers if la.kind == "conv"), None)


@dataclass(frozen=True)
class SharedClass:
    """A class both models know: its name and its index in each model's output."""

    label: str
    index_a: int
    index_b: int


def shared_classes(classes_a: list[str], classes_b: list[str]) -> list[SharedClass]:
    """Classes with the same name in both lists, in model A's order (a name listed twice in
    a model counts once, at its first index)."""
    where_b: dict[str, int] = {}
    for i, c in enumerate(classes_b):
        where_b.setdefault(c, i)
    seen: set[str] = set()
    out = []
    for i, c in enumerate(classes_a):
        if c in where_b and c not in seen:
            seen.add(c)
            out.append(SharedClass(c, i, where_b[c]))
    return out


def best_shared(shared: list[SharedClass], probs_a: np.ndarray, probs_b: np.ndarray) -> int:
    """Position in ``shared`` of the class the two models believe in most together
    (largest sum of probabilities); 0 when ``shared`` is empty."""
    if not shared:
        return 0
    scores = [float(probs_a[s.index_a]) + float(probs_b[s.index_b]) for s in shared]
    return int(np.argmax(scores))


def strongest_channels(maps: np.ndarray, k: int = MAX_CHANNELS) -> np.ndarray:
    """(min(k, C), H, W): the ``k`` channels of ``maps`` (C, H, W) with the largest mean, strongest
    first (ties by channel number)."""
    means = maps.reshape(maps.shape[0], -1).mean(axis=1)
    order = np.lexsort((np.arange(len(means)), -means))[:k]
    return maps[order]


def gradcam_layer(default_layer: str, layers: list[LayerInfo]) -> str | None:
    """The model's own Grad-CAM layer, else its last layer with feature maps (a saved model
    may name none); None when it has no spatial layer at all."""
    if default_layer:
        return default_layer
    cands = depth_layers(layers)
    return cands[-1].name if cands else None
