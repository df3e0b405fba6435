"""The base of every explanation method, the registry, and gradients at layers.

:class:`Method` times a run, checks the layer and builds the :class:`Explanation`; a family
(:mod:`.cam`, :mod:`.pixel`) implements ``run``, and each method overrides one small
function of its family. ``@register`` puts one instance of a method class into
:data:`METHODS`, the only list of methods (pages, the CLI's ``--method`` and the tests
read it).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _, number, percent
from cnnviz.inside.predict import softmax
from cnnviz.inside.progress import Progress
from cnnviz.models.zoo import LoadedModel
from cnnviz.trace import trace


class ExplainError(CnnvizError):
    """A method, layer or target that cannot be explained."""


@dataclass(frozen=True)
class Completeness:
    """Integrated Gradients' check: its attributions should add up to the score's change.

    ``total``: the sum of the attribution over every pixel and channel; ``change``: the
    score at the photo minus the score at the baseline, f(x) − f(x′); ``steps``: the path
    points used. ``total − change`` is captum's convergence delta.
    """

    total: float
    change: float
    steps: int

    @property
    def gap(self) -> float:
        """How far off the sum is, as a share of the score's change (signed; 0.05 is 5 %)."""
        return (self.total - self.change) / max(abs(self.change), 1e-6)

    def within(self, tolerance: float) -> bool:
        """Whether the sum agrees with the score's change.

        Args:
            tolerance: the largest accepted ``|gap|`` (0.05 is 5 %).

        Returns:
            True when ``abs(gap) <= tolerance``.
        """
        return abs(self.gap) <= tolerance

    def sentence(self, tolerance: float) -> str:
        """The check in one sentence, with its numbers.

        Args:
            tolerance: the ``|gap|`` under which the sentence says the two agree.

        Returns:
            The translated sentence: agreement with its gap, or the gap and a warning to read the
            map as a rough picture.
        """
        numbers = {"total": number(self.total, 2), "change": number(self.change, 2), "steps": self.steps}
        if self.within(tolerance):
            return _(
                "The attributions add up to {total} and the score changed by {change} from the black picture "
                "to yours: they agree within {gap} ({steps} steps)."
            ).format(gap=percent(abs(self.gap), 1), **numbers)
        gap = percent(self.gap, 0)
        return _(
            "The attributions add up to {total} and the score changed by {change} from the black picture "
            "to yours: the sum is off by {gap} after {steps} steps, the most this server's time allows, so "
            "read the map as a rough picture."
        ).format(gap=gap if self.gap < 0 else "+" + gap, **numbers)


@dataclass(frozen=True)
class Explanation:
    """One method's answer for one image and class.

    ``signed``: the raw map before any normalisation — (h, w) at the layer's resolution
    for CAM methods (before Grad-CAM's ReLU), (H, W) at input resolution for pixel methods.
    ``map``: what the method defines as its result — CAM methods after the ReLU, pixel
    methods as ``signed``. ``logits``: (num_classes,) of the unperturbed input.
    ``completeness``: Integrated Gradients' sum check (None for the other methods).
    """

    method: str
    target: int
    label: str
    prob: float
    layer: str | None
    signed: np.ndarray
    map: np.ndarray
    logits: np.ndarray
    seconds: float
    completeness: Completeness | None = None


def check_target(target: int | None, num_classes: int) -> None:
    """Refuse a class index the model does not have.

    Args:
        target: a class index, or None (the top-1 class, always valid).
        num_classes: how many scores the model gives.

    Raises:
        ExplainError: ``target`` is outside 0..num_classes-1.
    """
    if target is not None and not 0 <= int(target) < num_classes:
        raise ExplainError(
            _("Class index {n} does not exist: this model has classes 0 to {last}.").format(
                n=target, last=num_classes - 1
            )
        )


# Integrated Gradients' first path points: 16 intervals of the trapezoid rule. On a ReLU
# network that is often not enough for completeness (sum of the attribution = the score's
# change; docs/PERFORMANCE.md has the numbers), so the method halves the intervals until the
# sum is within IG_TOLERANCE (path.py).
IG_STEPS = 17

NO_MAP = N_(
    "Layer {layer} has no rows and columns (not a convolutional layer), so it has no map; pick a conv layer or block."
)


# ---------------------------------------------------------------- the base class and the registry
class Method:
    """One explanation method. Subclasses set the class attributes and implement ``run``
    (families do) and the small function their family asks for.

    ``title`` and ``about`` are marked for the catalogue (``N_``): translate them where shown.
    ``kind``: "cam" (layer resolution) | "pixel" (input resolution); ``slow``: seconds on
    a CPU, run on request only; ``uses_layer``: explains at a layer (default: the model's
    ``info.default_layer``).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    kind: ClassVar[str]
    about: ClassVar[str]
    slow: ClassVar[bool] = False
    uses_layer: ClassVar[bool] = False

    def __call__(
        self,
        lm: LoadedModel,
        x: torch.Tensor,
        *,
        target: int | None = None,
        layer: str | None = None,
        ig_steps: int = IG_STEPS,
        progress: Progress | None = None,
    ) -> Explanation:
        """Explain the score of class ``target`` (default: the top-1) on ``x`` (1, C, H, W).

        ``progress(fraction, text)`` is called as the method's forward passes go by.
        """
        x = x.detach().to(lm.device)
        layer_name = None
        if self.uses_layer:
            layer_name = layer or lm.info.default_layer
            if not layer_name:
                raise ExplainError(_("This model names no default layer for Grad-CAM; pick one."))
        start = time.perf_counter()
        t, logits, signed, check = self.run(lm, x, target, layer_name, ig_steps=ig_steps, progress=progress)
        seconds = time.perf_counter() - start
        signed_np = signed.detach().float().cpu().numpy()
        prob = float(softmax(logits)[t])
        return Explanation(
            self.name, t, lm.label(t), prob, layer_name, signed_np, self.final(signed_np), logits, seconds, check
        )

    def run(
        self,
        lm: LoadedModel,
        x: torch.Tensor,
        target: int | None,
        layer: str | None,
        *,
        ig_steps: int,
        progress: Progress | None = None,
    ) -> tuple[int, np.ndarray, torch.Tensor, Completeness | None]:
        """The family's way through the model: one image, one class, one signed map.

        Args:
            lm: the shared model; implementations hold a replica with ``lm.use()``.
            x: (1, C, H, W) preprocessed input on ``lm.device``.
            target: the class index to explain; None for the top-1 class of this forward.
            layer: a ``named_modules`` path, for methods with ``uses_layer``; else ignored.
            ig_steps: Integrated Gradients' first path points (other methods ignore it).
            progress: called as ``progress(fraction, text)`` during slow methods.

        Returns:
            (target, logits, signed, completeness): the class explained; (K,) float logits of
            the unperturbed input; the signed map, (h, w) at the layer for CAM methods or (H, W)
            at the input for pixel methods; Integrated Gradients' check, None for the others.

        Raises:
            ExplainError: a class index or layer that cannot be explained.
        """
        raise NotImplementedError

    def final(self, signed: np.ndarray) -> np.ndarray:
        """The method's result from its signed map (default: the signed map itself).

        Args:
            signed: the map :meth:`run` returned, as an array.

        Returns:
            The map the method defines as its result, of the same shape.
        """
        return signed


METHODS: dict[str, Method] = {}


def register(cls: type[Method]) -> type[Method]:
    """Class decorator: one instance of ``cls`` joins :data:`METHODS` under ``cls.name``.

    Args:
        cls: a Method subclass with ``name``, ``title`` and ``about``.

    Returns:
        ``cls`` unchanged.
    """
    METHODS[cls.name] = cls()
    return cls


def get_method(name: str) -> Method:
    """The registered method called ``name``.

    Args:
        name: a key of :data:`METHODS`, e.g. "gradcam".

    Returns:
        Its Method instance.

    Raises:
        ExplainError: no method has that name.
    """
    if name not in METHODS:
        raise ExplainError(
            _("Unknown method {name}; choose one of: {methods}.").format(name=repr(name), methods=", ".join(METHODS))
        )
    return METHODS[name]


def explain(
    lm: LoadedModel,
    x: torch.Tensor,
    method: str = "gradcam",
    *,
    target: int | None = None,
    layer: str | None = None,
    ig_steps: int = IG_STEPS,
    progress: Progress | None = None,
) -> Explanation:
    """Explain the model's score for one class on one image.

    Args:
        lm: the shared model.
        x: (1, C, H, W) preprocessed input.
        method: the name of a registered method (:data:`METHODS`).
        target: the class index to explain; None for the model's top-1 class.
        layer: a ``named_modules`` path, for methods with ``uses_layer`` (default: the
            method's own choice).
        ig_steps: Integrated Gradients' first path points (refined until the sum checks out).
        progress: called as ``progress(fraction, text)`` during slow methods; see
            :mod:`cnnviz.inside.progress`.

    Returns:
        An Explanation; see it for the maps' shapes: ``signed`` and ``map`` are (h, w) float
        arrays at the layer for CAM methods, (H, W) at the input for pixel methods.

    Raises:
        ExplainError: an unknown method, class index, or a layer without a map.
    """
    return get_method(method)(lm, x, target=target, layer=layer, ig_steps=ig_steps, progress=progress)


# ---------------------------------------------------------------- one forward, gradients at layers
def layer_acts_and_grads(
    lm: LoadedModel, x: torch.Tensor, layers: Sequence[str], target: int | None = None
) -> tuple[int, np.ndarray, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """One forward and one ``autograd.grad``: activations and score gradients at ``layers``.

    Args:
        lm: the shared model.
        x: (1, C, H, W) preprocessed input.
        layers: ``named_modules`` paths of layers with a spatial output.
        target: the class whose score is differentiated; None for the top-1 class of this
            forward.

    Returns:
        (target, logits, maps): the class used; (K,) float logits; per layer, its
        (activation (1, C, h, w), gradient (1, C, h, w)), detached (a layer the score does
        not depend on gets a zero gradient).

    Raises:
        ExplainError: a bad class index, a layer that did not run, or one with no rows and
            columns.
    """
    with lm.use() as held, torch.enable_grad():
        x = x.to(lm.device)
        model = lm.fast_copy(held, layers, x)  # same outputs up to float rounding, less CPU
        if model is not held and x.dim() == 4:  # the copy's layout: no reorder at the first conv
            x = x.contiguous(memory_format=torch.channels_last)
        traced = trace(model, x, grad_at=layers)
        store, logits = traced.leaves, traced.output  # leaves: the layers' outputs, requiring grad; (1, K)
        check_target(target, logits.shape[1])
        t = int(logits[0].argmax()) if target is None else int(target)
        missing = [n for n in layers if n not in store]
        if missing:
            raise ExplainError(
                _("Layer {layer} did not run for this input, so it has no map.").format(layer=repr(missing[0]))
            )
        flat = [n for n in layers if store[n].dim() != 4]
        if flat:
            raise ExplainError(_(NO_MAP).format(layer=repr(flat[0])))
        grads = torch.autograd.grad(logits[0, t], [store[n] for n in layers], allow_unused=True)
        out = {
            n: (store[n].detach(), (g if g is not None else torch.zeros_like(store[n])).detach())
            for n, g in zip(layers, grads, strict=True)
        }
    return t, logits[0].detach().float().cpu().numpy(), out
