"""Grad-CAM at every block, early to late, from one forward and one backward (the sweep)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cnnviz.explain.cam import GradCAM
from cnnviz.explain.core import layer_acts_and_grads, softmax
from cnnviz.inside.catalogue import sweep_layers
from cnnviz.models.zoo import LoadedModel


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
