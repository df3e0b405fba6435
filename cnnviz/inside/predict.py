"""Top-k prediction on a loaded model: the softmax and the top-k every result shares (the
Activations page teaches the same softmax, with a temperature)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from cnnviz.errors import CnnvizError
from cnnviz.i18n import _
from cnnviz.models.loaded_model import LoadedModel


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """exp(z/T) / sum exp(z/T) over the last axis, computed stably (max subtracted first).

    T < 1 sharpens (the top class takes nearly everything), T > 1 flattens toward uniform.
    """
    if not temperature > 0:
        raise CnnvizError(_("The temperature must be greater than 0."))
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class TopClass:
    index: int
    label: str
    prob: float

    def as_dict(self) -> dict:
        """``{"index", "label", "prob"}``: the JSON the CLI prints and the pages read."""
        return {"index": self.index, "label": self.label, "prob": round(self.prob, 6)}


def top_classes(probs: np.ndarray, label: Callable[[int], str], k: int = 5) -> list[TopClass]:
    """The ``k`` most probable classes of (K,) ``probs``, best first; ties keep the lower index."""
    k = max(1, min(k, len(probs)))
    order = np.argsort(-np.asarray(probs, dtype=np.float64), kind="stable")[:k]
    return [TopClass(int(i), label(int(i)), float(probs[i])) for i in order]


@dataclass(frozen=True)
class Prediction:
    """``logits`` and ``probs``: (num_classes,) float32; ``top``: best first."""

    model: str
    top: list[TopClass]
    logits: np.ndarray
    probs: np.ndarray
    seconds: float

    def as_dict(self) -> dict:
        return {"model": self.model, "top": [t.as_dict() for t in self.top]}


def predict(lm: LoadedModel, x: torch.Tensor, *, top: int = 5) -> Prediction:
    """Classify one input ``x`` (1, C, H, W); the time covers the forward pass only, on the
    model's fast copy (:meth:`LoadedModel.fast_forward`)."""
    with lm.use() as model, torch.inference_mode():
        x = x.to(lm.device)
        start = time.perf_counter()
        logits = lm.fast_forward(model, x)[0].float().cpu().numpy()
        seconds = time.perf_counter() - start
    probs = softmax(logits)
    return Prediction(lm.name, top_classes(probs, lm.label, top), logits, probs, seconds)
