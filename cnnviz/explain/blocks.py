"""Grad-CAM at every block, early to late, from one forward and one backward (the sweep)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.explain.cam import GradCAM
from cnnviz.explain.core import layer_acts_and_grads, softmax
from cnnviz.probe import POOLS
from cnnviz.zoo import LoadedModel


def _has_conv(m: nn.Module) -> bool:
    return any(isinstance(s, nn.Conv2d) for s in m.modules())


# where a feature sequence stops being a chain of maps
_STOPS = (*POOLS, nn.Flatten, nn.Linear, nn.Dropout)


def sweep_layers(model: nn.Module, *, min_children: int = 4) -> list[str]:
    """The model's blocks, early to late: one Grad-CAM per entry makes the sweep.

    Walks the top-level children in order. A child holding a conv is one block, unless it
    is a container with at least ``min_children`` conv-holding children (the main feature
    sequence: EfficientNet's ``blocks``, VGG's ``features``): then each conv-holding child
    counts, represented by the last module before the next conv that is not a pooling
    (so VGG's ``features.0`` conv is read after its ReLU ``features.1``). A model made of
    bare layers (a tiny CNN) is handled the same way at the top level.
    EfficientNet-Lite0 → stem, blocks.0..15, head; ResNet → conv1, layer1..layer4.
    """

    def expand(prefix: str, parent: nn.Module) -> list[str]:
        kids = list(parent.named_children())
        out: list[str] = []
        for i, (name, child) in enumerate(kids):
            if not _has_conv(child):
                continue
            pick = name
            for later, m in kids[i + 1 :]:
                if _has_conv(m) or isinstance(m, _STOPS):
                    break
                pick = later
            out.append(prefix + pick)
        return out

    def is_sequence(m: nn.Module) -> bool:
        # Only plain sequences: a custom block (Inception, MBConv) has its own forward and
        # its children run side by side, not one after the other.
        return isinstance(m, nn.Sequential) and sum(_has_conv(k) for k in m.children()) >= min_children

    top = list(model.named_children())
    if not any(is_sequence(c) for _, c in top):
        return expand("", model)
    names: list[str] = []
    for name, child in top:
        if not _has_conv(child):
            continue
        if is_sequence(child):
            names.extend(expand(name + ".", child))
        else:
            names.append(name)
    return names


@dataclass(frozen=True)
class Sweep:
    """Grad-CAM at every block for one class. ``maps[i]``: (h_i, w_i) after the ReLU."""

    target: int
    label: str
    prob: float
    layers: list[str]
    maps: list[np.ndarray]
    seconds: float


def sweep(lm: LoadedModel, x: torch.Tensor, *, target: int | None = None, layers: Sequence[str] | None = None) -> Sweep:
    """Grad-CAM at each of ``layers`` (default :func:`sweep_layers`) in one forward + one backward."""
    layers = list(layers) if layers is not None else sweep_layers(lm.model)
    start = time.perf_counter()
    t, logits, ag = layer_acts_and_grads(lm, x, layers, target)
    gradcam = GradCAM()
    maps = [gradcam.cam(*ag[n]).clamp(min=0).float().cpu().numpy() for n in layers]
    seconds = time.perf_counter() - start
    return Sweep(t, lm.label(t), float(softmax(logits)[t]), layers, maps, seconds)
