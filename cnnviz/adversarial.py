"""Fooling the network: the fast gradient sign method (FGSM, Goodfellow et al., 2015).

Every pixel moves by ±ε (in 0..1 pixel units, before normalisation) in the direction that
raises the loss of the class the model chose; the result is clipped back to 0..1. With
ε = 2/255 the change is invisible, yet the top class often flips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz.activations import softmax
from cnnviz.explain import Explanation, explain
from cnnviz.predict import TopClass, top_classes
from cnnviz.zoo import LoadedModel


@dataclass(frozen=True)
class Attack:
    """``clean``/``adversarial``: (H, W, C) float32 pixels in 0..1; ``perturbation`` =
    adversarial − clean, each value in [−eps, eps]; ``before``/``after``: top-5;
    ``cam_before``/``cam_after``: Grad-CAM of each image's own top-1 class."""

    eps: float
    target: int
    clean: np.ndarray
    adversarial: np.ndarray
    perturbation: np.ndarray
    before: list[TopClass]
    after: list[TopClass]
    cam_before: Explanation
    cam_after: Explanation

    @property
    def fooled(self) -> bool:
        return self.after[0].index != self.before[0].index

    def as_dict(self) -> dict:
        return {
            "eps": self.eps,
            "attacked_class": self.target,
            "before": [t.as_dict() for t in self.before],
            "after": [t.as_dict() for t in self.after],
            "fooled": self.fooled,
        }


def fgsm_pixels(lm: LoadedModel, p: torch.Tensor, eps: float, target: int | None = None) -> tuple[int, torch.Tensor]:
    """(attacked class, adversarial pixels (1, C, H, W) in 0..1) for pixels ``p`` (1, C, H, W).

    ``target`` None attacks the model's own top-1 class. Only the input requires grad.
    """
    spec = lm.preprocess_spec
    p = p.detach().to(lm.device).clone().requires_grad_()
    with lm.use() as model, torch.enable_grad():
        logits = model(spec.normalize(p))
        t = int(logits[0].argmax()) if target is None else int(target)
        loss = F.cross_entropy(logits, torch.tensor([t], device=lm.device))
        (grad,) = torch.autograd.grad(loss, p)
    return t, (p.detach() + eps * grad.sign()).clamp(0.0, 1.0)


def fgsm(
    lm: LoadedModel, img: Image.Image, eps: float, *, target: int | None = None, layer: str | None = None
) -> Attack:
    """Attack ``img`` with FGSM at ``eps`` (pixel units, e.g. 2/255); top-5 and Grad-CAM before and after."""
    spec = lm.preprocess_spec
    clean = spec.pixels(img).to(lm.device)
    t, adv = fgsm_pixels(lm, clean, float(eps), target)
    cam_before = explain(lm, spec.normalize(clean), "gradcam", layer=layer)
    cam_after = explain(lm, spec.normalize(adv), "gradcam", layer=layer)

    def hwc(q: torch.Tensor) -> np.ndarray:
        return q[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)

    return Attack(
        float(eps),
        t,
        hwc(clean),
        hwc(adv),
        hwc(adv - clean),
        top_classes(softmax(cam_before.logits), lm.label),
        top_classes(softmax(cam_after.logits), lm.label),
        cam_before,
        cam_after,
    )


def amplified(perturbation: np.ndarray, eps: float) -> np.ndarray:
    """(H, W, 3) uint8: the perturbation stretched so −ε is black, 0 mid-grey, +ε white."""
    e = eps if eps > 0 else 1.0
    a = np.clip(0.5 + perturbation / (2 * e), 0, 1)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return (a * 255).round().astype(np.uint8)
