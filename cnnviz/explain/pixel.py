"""Pixel methods: one value per input pixel (H, W), from a captum attribution (1, C, H, W).

:class:`PixelMethod` runs the plain forward (logits and the top-1), then the method's
``attribute`` on a fresh copy of the input (captum makes it require grad) and its
``reduce``, which says how the C colour channels become one map.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext

import torch
from captum.attr import LayerAttribution, LayerGradCam, Occlusion, Saliency
from torch import nn

from cnnviz.explain.core import NO_MAP, ExplainError, Method, check_target, register
from cnnviz.explain.path import IG_BATCH, IG_MAX_STEPS, integrated_gradients
from cnnviz.i18n import N_, _
from cnnviz.inside import work_memory
from cnnviz.inside.catalogue import catalogue
from cnnviz.inside.progress import counting_forwards
from cnnviz.models.zoo import Preprocess
from cnnviz.serving import memguard
from cnnviz.trace import first_tensor, guided_relus, tracing

# captum warns that it switched on requires_grad of the input, which is what we want.
warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")


class PixelMethod(Method):
    """A method that gives one value per input pixel; subclasses implement ``attribute`` and
    ``reduce``, and slow ones ``forwards`` and ``memory``."""

    kind = "pixel"

    def run(self, lm, x, target, layer, *, ig_steps, progress=None):
        need = self.memory(lm, x, ig_steps)  # slow methods hold their memory with the guard while they run
        with memguard.reserve(need, _(self.title)) if need else nullcontext(), lm.use() as model:
            with torch.inference_mode():
                logits = model(x)[0].float()  # (K,)
            check_target(target, logits.numel())
            t = int(logits.argmax()) if target is None else int(target)
            with counting_forwards(model, self.forwards(x, ig_steps), self.title, progress):
                attr = self.attribute(model, x.clone(), t, layer=layer, spec=lm.preprocess_spec, ig_steps=ig_steps)
        return t, logits.cpu().numpy(), self.reduce(attr.detach()[0]), None

    def forwards(self, x: torch.Tensor, ig_steps: int) -> int:
        """How many pictures (batch rows) ``attribute`` runs through the model.

        Args:
            x: the input, (1, C, H, W).
            ig_steps: the path points asked for Integrated Gradients.

        Returns:
            The progress bar's total (1 here: one forward).
        """
        return 1

    def memory(self, lm, x: torch.Tensor, ig_steps: int) -> int:
        """Bytes ``attribute`` may allocate, reserved with the memory guard while it runs.

        Args:
            lm: the shared model (its layer catalogue and input size).
            x: the input, (1, C, H, W).
            ig_steps: the path points asked for Integrated Gradients.

        Returns:
            The estimate in bytes; 0 (here) for a fast method, which reserves none.
        """
        return 0

    def attribute(
        self, model: nn.Module, x: torch.Tensor, target: int, *, layer: str | None, spec: Preprocess, ig_steps: int
    ) -> torch.Tensor:
        """Attribute class ``target``'s score to the pixels of ``x``.

        Args:
            model: the replica to run (held under ``lm.use()``).
            x: a fresh copy of the input, (1, C, H, W) float32.
            target: the class index explained.
            layer: the layer a layer-based method explains at; None for the others.
            spec: the model's preprocessing (its mean and std).
            ig_steps: the path points asked for Integrated Gradients.

        Returns:
            The attribution, (1, C, H, W) float32.

        Raises:
            ExplainError: where a method cannot explain at ``layer`` (Guided Grad-CAM at a
                layer whose output has no rows and columns).
        """
        raise NotImplementedError

    def reduce(self, attr: torch.Tensor) -> torch.Tensor:
        """Make the C colour channels of an attribution one map.

        Args:
            attr: one input's attribution, (C, H, W) float32.

        Returns:
            The signed map, (H, W) float32.
        """
        raise NotImplementedError


@register
class GuidedGradCAM(PixelMethod):
    name = "guided_gradcam"
    title = N_("Guided Grad-CAM")
    about = N_("Grad-CAM times guided backpropagation: where (Grad-CAM) and which fine edges (guided gradients).")
    uses_layer = True

    def attribute(self, model, x, target, *, layer, spec, ig_steps):
        """captum's ``GuidedGradCam`` (Grad-CAM at ``layer``, ReLU'd, upsampled to the input by
        nearest neighbour, times the guided gradient), with ReLU6 guided too (:func:`guided_relus`)."""
        dims: list[int] = []

        def ndim(_name: str, _m, _i, out) -> None:
            dims.append(first_tensor(out).dim())

        with tracing(model, on=[layer], forward=ndim) as t:
            cam = LayerGradCam(model, t.modules[layer]).attribute(x, target=target, relu_attributions=True)
        if not dims or dims[0] != 4:  # a map needs rows and columns: a linear layer has none
            raise ExplainError(_(NO_MAP).format(layer=repr(layer)))
        with guided_relus(model):
            guided = Saliency(model).attribute(x, target=target, abs=False)  # the guided gradient
        return guided * LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="nearest")

    def reduce(self, attr):
        return attr.abs().amax(dim=0)  # a fine gradient image: its sign flips with every edge


@register
class SaliencyMap(PixelMethod):
    name = "saliency"
    title = N_("Saliency")
    about = N_("How strongly the score changes when one pixel changes: the gradient's size, per pixel.")

    def attribute(self, model, x, target, *, layer, spec, ig_steps):
        return Saliency(model).attribute(x, target=target, abs=True)

    def reduce(self, attr):
        return attr.abs().amax(dim=0)  # Simonyan et al.: max |gradient| over colour channels


def _area(lm, x: torch.Tensor) -> float:
    """The input's area over the model's own (its layer catalogue's) input area."""
    return x.shape[-2] * x.shape[-1] / lm.preprocess_spec.size**2


def black_input(spec: Preprocess, like: torch.Tensor) -> torch.Tensor:
    """The all-black picture in normalised space: (0 − mean) / std per channel.

    Args:
        spec: the model's preprocessing (its mean and std).
        like: a normalised input, (1, C, H, W).

    Returns:
        The black picture, shaped and typed like ``like``.
    """
    return spec.normalize(torch.zeros_like(like))


@register
class IntegratedGradientsMap(PixelMethod):
    name = "ig"
    title = N_("Integrated Gradients")
    about = N_(
        "Gradients averaged along a path from a black image to yours; the values should add up to "
        "the score's change (checked below)."
    )
    slow = True

    def run(self, lm, x, target, layer, *, ig_steps, progress=None):
        """Integrated Gradients from the black picture, refined (:mod:`.path`) until the sum of
        the attribution is within IG_TOLERANCE of the score's change or out of time."""
        with memguard.reserve(self.memory(lm, x, ig_steps), _(self.title)), lm.use() as model:
            with torch.inference_mode():
                logits = model(x)[0].float()  # (K,)
            check_target(target, logits.numel())
            t = int(logits.argmax()) if target is None else int(target)
            # the model's fast copy (folded batch norms, channels_last): path steps are the
            # bulk of the work, and the copy makes them cheaper while keeping the same sum
            fast = lm.fast_copy(model, [], x)
            if fast is not model and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            attr, check = integrated_gradients(
                fast, x, black_input(lm.preprocess_spec, x), t, ig_steps, progress=progress, what=self.title
            )
        return t, logits.cpu().numpy(), self.reduce(attr[0]), check

    def memory(self, lm, x, ig_steps):
        # the refinement may add points up to IG_MAX_STEPS, each keeping its gradient picture
        steps = max(ig_steps, IG_MAX_STEPS)
        return work_memory.integrated_gradients(catalogue(lm), x[0].numel(), steps, IG_BATCH, _area(lm, x))

    def reduce(self, attr):
        return attr.sum(dim=0)  # completeness: the sum over pixels and channels is the score's change


OCCLUSION_BATCH = 32  # hidden copies per forward


def occlusion_window(size: int) -> tuple[int, int]:
    """Occlusion's patch size and step for a square input.

    A 7×7 grid of half-overlapping patches at 224 (49 forwards): a finer grid costs more
    forwards without showing more.

    Args:
        size: the input's side, in pixels.

    Returns:
        (window, stride) in pixels.
    """
    stride = max(1, size // 8)
    return 2 * stride, stride


def occlusion_patches(size: int) -> int:
    """How many patches :func:`occlusion_window` hides on a square input.

    Args:
        size: the input's side, in pixels.

    Returns:
        The number of patches, one forward each.
    """
    window, stride = occlusion_window(size)
    per_side = max(0, (size - window) // stride + 1)
    return per_side * per_side


@register
class OcclusionMap(PixelMethod):
    name = "occlusion"
    title = N_("Occlusion")
    about = N_("Hides one patch at a time behind grey and records how much the score drops.")
    slow = True

    def attribute(self, model, x, target, *, layer, spec, ig_steps):
        window, stride = occlusion_window(x.shape[-1])
        c = x.shape[1]
        return Occlusion(model).attribute(
            x,
            sliding_window_shapes=(c, window, window),
            strides=(c, stride, stride),
            baselines=0.0,
            target=target,
            perturbations_per_eval=OCCLUSION_BATCH,
        )

    def forwards(self, x, ig_steps):
        return 1 + occlusion_patches(x.shape[-1])  # captum first scores the unhidden picture

    def memory(self, lm, x, ig_steps):
        return work_memory.occlusion(catalogue(lm), x[0].numel(), OCCLUSION_BATCH, _area(lm, x))

    def reduce(self, attr):
        return attr.mean(dim=0)  # the same drop is written into every channel


__all__ = [
    "PixelMethod",
    "GuidedGradCAM",
    "SaliencyMap",
    "IntegratedGradientsMap",
    "OcclusionMap",
]
