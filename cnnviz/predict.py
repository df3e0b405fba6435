"""Top-k prediction on a loaded model."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from cnnviz.zoo import LoadedModel


@dataclass(frozen=True)
class TopClass:
    index: int
    label: str
    prob: float


@dataclass(frozen=True)
class Prediction:
    """``logits`` and ``probs``: (num_classes,) float32; ``top``: best first."""

    model: str
    top: list[TopClass]
    logits: np.ndarray
    probs: np.ndarray
    seconds: float

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "top": [{"index": t.index, "label": t.label, "prob": round(t.prob, 6)} for t in self.top],
        }


def predict(lm: LoadedModel, x: torch.Tensor, *, top: int = 5) -> Prediction:
    """Classify one input ``x`` (1, C, H, W); the time covers the forward pass only."""
    with lm.use() as model, torch.inference_mode():
        start = time.perf_counter()
        logits = model(x.to(lm.device))[0].float()
        seconds = time.perf_counter() - start
    probs = torch.softmax(logits, dim=0)
    k = max(1, min(top, probs.numel()))
    values, indices = probs.topk(k)
    return Prediction(
        model=lm.name,
        top=[TopClass(int(i), lm.label(int(i)), float(v)) for v, i in zip(values, indices, strict=True)],
        logits=logits.cpu().numpy(),
        probs=probs.cpu().numpy(),
        seconds=seconds,
    )
