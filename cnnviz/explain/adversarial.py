"""Fooling the network: the fast gradient sign method (FGSM, Goodfellow et al., 2015) and a
targeted attack.

FGSM: every pixel moves by ±ε (in 0..1 pixel units, before normalisation) in the direction
that raises the loss of the class the model chose; the result is clipped back to 0..1. With
ε = 2/255 the change is invisible, yet the top class often flips.

Targeted (iterative FGSM / PGD towards a class, Kurakin et al., 2017; Madry et al., 2018):
small signed steps that *lower* the loss of the chosen class, each followed by a projection
back into the ε-box around the photo (and 0..1), so the picture never moves more than ε.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz.explain import ExplainError, Explanation, explain
from cnnviz.i18n import _
from cnnviz.inside.predict import TopClass, softmax, top_classes
from cnnviz.models.loaded_model import LoadedModel


@dataclass(frozen=True)
class Attack:
    """``clean``/``adversarial``: (H, W, C) float32 pixels in 0..1; ``perturbation`` =
    adversarial − clean, each value in [−eps, eps]; ``before``/``after``: top-5;
    ``cam_before``/``cam_after``: Grad-CAM of each image's own top-1 class; ``goal``: the class
    a targeted attack pushed towards (None for FGSM, which pushes away from ``target``)."""

    eps: float
    target: int
    clean: np.ndarray
    adversarial: np.ndarray
    perturbation: np.ndarray
    before: list[TopClass]
    after: list[TopClass]
    cam_before: Explanation
    cam_after: Explanation
    goal: int | None = None

    @property
    def fooled(self) -> bool:
        return self.after[0].index != self.before[0].index

    @property
    def reached(self) -> bool:
        """A targeted attack made its goal class the top-1."""
        return self.goal is not None and self.after[0].index == self.goal

    def as_dict(self) -> dict:
        return {
            "eps": self.eps,
            "attacked_class": self.target,
            "before": [t.as_dict() for t in self.before],
            "after": [t.as_dict() for t in self.after],
            "fooled": self.fooled,
            "goal": self.goal,
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


TARGETED_STEPS = 10


def targeted_pixels(
    lm: LoadedModel, p: torch.Tensor, eps: float, goal: int, *, steps: int = TARGETED_STEPS
) -> torch.Tensor:
    """Adversarial pixels (1, C, H, W) in 0..1, within ``eps`` of ``p`` (1, C, H, W) everywhere,
    pushed towards class ``goal``: ``steps`` steps of size 2.5·ε/steps against the gradient of
    the goal's cross-entropy, each projected back into the ε-box and 0..1. Stops early once
    ``goal`` is the top-1."""
    spec = lm.preprocess_spec
    clean = p.detach().to(lm.device)
    lo, hi = (clean - eps).clamp(0.0, 1.0), (clean + eps).clamp(0.0, 1.0)
    step = 2.5 * eps / max(steps, 1)
    adv = clean.clone()
    y = torch.tensor([int(goal)], device=lm.device)
    with lm.use() as model, torch.enable_grad():
        for _ in range(steps):
            adv.requires_grad_()
            logits = model(spec.normalize(adv))
            if int(logits[0].argmax()) == int(goal):
                break
            (grad,) = torch.autograd.grad(F.cross_entropy(logits, y), adv)
            adv = torch.minimum(torch.maximum(adv.detach() - step * grad.sign(), lo), hi)
    return adv.detach()


def fgsm(
    lm: LoadedModel,
    img: Image.Image,
    eps: float,
    *,
    target: int | None = None,
    layer: str | None = None,
    goal: int | None = None,
) -> Attack:
    """Attack ``img`` at ``eps`` (pixel units, e.g. 2/255): FGSM, or with ``goal`` a targeted
    attack towards that class (:func:`targeted_pixels`); top-5 and Grad-CAM before and after."""
    spec = lm.preprocess_spec
    clean = spec.pixels(img).to(lm.device)
    if goal is None:
        t, adv = fgsm_pixels(lm, clean, float(eps), target)
    else:
        if not 0 <= int(goal) < len(lm.classes):
            raise ExplainError(
                _("Class index {n} does not exist: this model has classes 0 to {last}.").format(
                    n=goal, last=len(lm.classes) - 1
                )
            )
        t, adv = int(goal), targeted_pixels(lm, clean, float(eps), int(goal))
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
        None if goal is None else int(goal),
    )


def amplified(perturbation: np.ndarray, eps: float) -> np.ndarray:
    """(H, W, 3) uint8: the perturbation stretched so −ε is black, 0 mid-grey, +ε white."""
    e = eps if eps > 0 else 1.0
    a = np.clip(0.5 + perturbation / (2 * e), 0, 1)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return (a * 255).round().astype(np.uint8)
