"""CAM methods: channels of a layer's output, weighted and summed, at the layer's resolution.

One forward with the layer's output kept in the graph and one ``torch.autograd.grad`` of
the class score down to that layer (:func:`.core.layer_acts_and_grads`): parameters keep
``requires_grad=False``, so the backward stops at the layer - about the cost of one
forward. A method overrides :meth:`CamMethod.weights`.
"""

from __future__ import annotations

import numpy as np
import torch

from cnnviz.explain.core import Method, layer_acts_and_grads, register
from cnnviz.i18n import N_


class CamMethod(Method):
    """Channels of a layer's output, weighted and summed: an (h, w) map at the layer's
    resolution; its result keeps the positive part (the ReLU of Grad-CAM)."""

    kind = "cam"
    uses_layer = True

    def run(self, lm, x, target, layer, *, ig_steps, progress=None):
        t, logits, ag = layer_acts_and_grads(lm, x, [layer], target)
        return t, logits, self.cam(*ag[layer]), None

    def cam(self, acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
        """The signed class activation map (before the ReLU) at one layer.

        Args:
            acts: (1, C, h, w) activations of the layer.
            grads: (1, C, h, w) gradients of the class score with respect to them.

        Returns:
            (h, w): the channels summed, each weighted by :meth:`weights`.
        """
        return (self.weights(acts, grads) * acts).sum(dim=1)[0]

    def weights(self, acts: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
        """Each channel's weight in the map.

        Args:
            acts: (1, C, h, w) activations of the layer.
            grads: (1, C, h, w) gradients of the class score with respect to them.

        Returns:
            (1, C, 1, 1) channel weights.
        """
        raise NotImplementedError

    def final(self, signed: np.ndarray) -> np.ndarray:
        return np.maximum(signed, 0)


@register
class GradCAM(CamMethod):
    name = "gradcam"
    title = N_("Grad-CAM")
    about = N_(
        "Weights each channel of a layer by the average gradient of the class score, sums, keeps the positive part."
    )

    def weights(self, acts, grads):
        return grads.mean(dim=(2, 3), keepdim=True)


@register
class GradCAMPlusPlus(CamMethod):
    """Chattopadhyay et al. 2018, eq. 19, with exp(score) so that 2nd/3rd derivatives are
    powers of the first, as pytorch-grad-cam does: alpha = g² / (2g² + Σ_hw(A)·g³),
    weights = Σ_hw alpha·relu(g)."""

    name = "gradcampp"
    title = N_("Grad-CAM++")
    about = N_("Like Grad-CAM, but weights each position's gradient, so several objects of a class all light up.")

    def weights(self, acts, grads):
        g2 = grads.pow(2)
        sum_a = acts.sum(dim=(2, 3), keepdim=True)
        alpha = g2 / (2 * g2 + sum_a * g2 * grads + 1e-6)
        alpha = torch.where(grads != 0, alpha, torch.zeros_like(alpha))
        return (alpha * grads.clamp(min=0)).sum(dim=(2, 3), keepdim=True)
