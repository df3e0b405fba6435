"""Why the model said it: Grad-CAM and friends, and Grad-CAM at every block (the sweep).

Every method runs inside ``with lm.use() as model:`` (captum registers hooks on the shared
model; the lock keeps one session's hooks out of another's forward) and returns plain
numpy in an :class:`Explanation`.

Two families:

* CAM methods (``gradcam``, ``gradcampp``) give one map at a layer's resolution
  (h, w): channels of the layer's output weighted by how much the class score's gradient
  says each channel matters.
* pixel methods (``guided_gradcam``, ``ig``, ``saliency``, ``occlusion``) give one value
  per input pixel (H, W).

Grad-CAM goes through captum's ``LayerGradCam``. Parameters keep ``requires_grad=False``;
captum makes the layer's output require grad, so the backward pass stops at that layer
(about the cost of one forward). Grad-CAM++ and the sweep use the same trick with our own
hooks: one forward, one ``torch.autograd.grad`` for every layer at once.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.activations import softmax
from cnnviz.errors import CnnvizError
from cnnviz.hooks import first_tensor, hooks
from cnnviz.probe import POOLS
from cnnviz.zoo import LoadedModel

# captum warns on every GuidedBackprop call that it sets (and removes) ReLU hooks.
warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU activations")
# ... and that it switched on requires_grad of the input, which is what we want.
warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")


class ExplainError(CnnvizError):
    """A method, layer or target that cannot be explained."""


@dataclass(frozen=True)
class Method:
    """A registered explanation method. ``slow``: seconds on a CPU, run on request only."""

    name: str
    title: str
    kind: str  # "cam" (layer resolution) | "pixel" (input resolution)
    slow: bool
    about: str


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "gradcam",
            "Grad-CAM",
            "cam",
            False,
            "Weights each channel of a layer by the average gradient of the class score, sums, keeps the positive part.",
        ),
        Method(
            "gradcampp",
            "Grad-CAM++",
            "cam",
            False,
            "Like Grad-CAM, but weights each position's gradient, so several objects of a class all light up.",
        ),
        Method(
            "guided_gradcam",
            "Guided Grad-CAM",
            "pixel",
            False,
            "Grad-CAM times guided backpropagation: where (Grad-CAM) and which fine edges (guided gradients).",
        ),
        Method(
            "saliency",
            "Saliency",
            "pixel",
            False,
            "How strongly the score changes when one pixel changes: the gradient's size, per pixel.",
        ),
        Method(
            "ig",
            "Integrated Gradients",
            "pixel",
            True,
            "Gradients averaged along a path from a black image to yours; the values add up to the score's change.",
        ),
        Method(
            "occlusion",
            "Occlusion",
            "pixel",
            True,
            "Hides one patch at a time behind grey and records how much the score drops.",
        ),
    )
}

# How a pixel method's (C, H, W) attribution becomes one (H, W) map.
_REDUCE = {
    "guided_gradcam": "absmax",  # fine gradient image; its sign flips with every edge
    "saliency": "absmax",  # Simonyan et al.: max |gradient| over colour channels
    "ig": "sum",  # completeness: the sum over pixels and channels is the score's change
    "occlusion": "mean",  # the same drop is written into every channel
}


@dataclass(frozen=True)
class Explanation:
    """One method's answer for one image and class.

    ``signed``: the raw map before any normalisation — (h, w) at the layer's resolution
    for CAM methods (before Grad-CAM's ReLU), (H, W) at input resolution for pixel methods.
    ``map``: what the method defines as its result — CAM methods after the ReLU, pixel
    methods as ``signed``. ``logits``: (num_classes,) of the unperturbed input.
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


# ---------------------------------------------------------------- layers
def conv_layers(model: nn.Module) -> list[str]:
    """Names of every nn.Conv2d, in module order (any of them can host Grad-CAM)."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


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


@contextmanager
def _spatial(model: nn.Module, layer: str) -> Iterator[nn.Module]:
    """The module ``layer``; after the block, a clear error unless its output was (N, C, h, w).

    A map needs rows and columns: a linear layer or a flattened output has none.
    """
    dims: list[int] = []

    def ndim(_name: str, _m, _i, out) -> None:
        dims.append(first_tensor(out).dim())

    with hooks(model, [layer], forward=ndim) as found:
        yield found[layer]
    if not dims or dims[0] != 4:
        raise ExplainError(
            f"Layer {layer!r} has no rows and columns (not a convolutional layer), so it has no map; "
            "pick a conv layer or block."
        )


def _check_target(target: int | None, num_classes: int) -> None:
    if target is not None and not 0 <= int(target) < num_classes:
        raise ExplainError(f"Class index {target} does not exist: this model has classes 0 to {num_classes - 1}.")


# ---------------------------------------------------------------- one forward, gradients at layers
@contextmanager
def _grad_at(model: nn.Module, layers: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Forward hooks that keep each layer's output in the graph (first call per module).

    Parameters do not require grad, so the first hooked output is made a leaf that does:
    gradients then flow back only as far as the earliest requested layer.
    """
    store: dict[str, torch.Tensor] = {}

    def keep(name: str, _m, _inp, out):
        out = first_tensor(out)
        if name in store:
            return None
        if not out.requires_grad:
            out = out.detach().requires_grad_()
            store[name] = out
            return out  # the rest of the forward builds on this leaf
        store[name] = out
        return None

    with hooks(model, layers, forward=keep):
        yield store


def layer_acts_and_grads(
    lm: LoadedModel, x: torch.Tensor, layers: Sequence[str], target: int | None = None
) -> tuple[int, np.ndarray, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """One forward and one ``autograd.grad``: activations and score gradients at ``layers``.

    Returns (target, logits (K,), {layer: (activation (1, C, h, w), gradient (1, C, h, w))}),
    detached. ``target`` None means the top-1 class of this forward.
    """
    with lm.use() as model, torch.enable_grad(), _grad_at(model, layers) as store:
        logits = model(x.to(lm.device))  # (1, K)
        _check_target(target, logits.shape[1])
        t = int(logits[0].argmax()) if target is None else int(target)
        missing = [n for n in layers if n not in store]
        if missing:
            raise ExplainError(f"Layer {missing[0]!r} did not run for this input, so it has no map.")
        flat = [n for n in layers if store[n].dim() != 4]
        if flat:
            raise ExplainError(
                f"Layer {flat[0]!r} has no rows and columns (not a convolutional layer), so it has "
                "no map; pick a conv layer or block."
            )
        grads = torch.autograd.grad(logits[0, t], [store[n] for n in layers], allow_unused=True)
        out = {
            n: (store[n].detach(), (g if g is not None else torch.zeros_like(store[n])).detach())
            for n, g in zip(layers, grads, strict=True)
        }
    return t, logits[0].detach().float().cpu().numpy(), out


def cam_from(acts: torch.Tensor, grads: torch.Tensor, plus: bool = False) -> torch.Tensor:
    """(h, w) signed CAM (before the ReLU) from (1, C, h, w) activations and gradients.

    Grad-CAM: channel weights = spatial mean of the gradient.
    Grad-CAM++ (Chattopadhyay et al. 2018, eq. 19, with exp(score) so that 2nd/3rd
    derivatives are powers of the first, as pytorch-grad-cam does):
    alpha = g² / (2g² + Σ_hw(A)·g³), weights = Σ_hw alpha·relu(g).
    """
    if plus:
        g2 = grads.pow(2)
        sum_a = acts.sum(dim=(2, 3), keepdim=True)
        alpha = g2 / (2 * g2 + sum_a * g2 * grads + 1e-6)
        alpha = torch.where(grads != 0, alpha, torch.zeros_like(alpha))
        weights = (alpha * grads.clamp(min=0)).sum(dim=(2, 3), keepdim=True)
    else:
        weights = grads.mean(dim=(2, 3), keepdim=True)
    return (weights * acts).sum(dim=1)[0]


# ---------------------------------------------------------------- the methods
class _Scorer(nn.Module):
    """The model's logit for ``target`` (the top-1 of the first call when None), (N,).

    Lets captum's Grad-CAM pick the top-1 class from its own forward: no extra pass.
    """

    def __init__(self, model: nn.Module, target: int | None):
        super().__init__()
        self.model, self.target, self.logits = model, target, None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)
        if self.logits is None:
            self.logits = logits[0].detach()
            _check_target(self.target, logits.shape[1])
            if self.target is None:
                self.target = int(self.logits.argmax())
        return logits[:, self.target]


def _guided_gradcam(model: nn.Module, layer: nn.Module):
    """captum's GuidedGradCam, its guided backprop also covering ReLU6 (EfficientNet, MobileNet).

    captum hooks only nn.ReLU; the guided rule (pass only positive gradients where the
    unit was active) is the same for ReLU6, so it gets the same backward hook.
    """
    from captum.attr import GuidedBackprop, GuidedGradCam

    class _Guided(GuidedBackprop):
        def _register_hooks(self, module: nn.Module) -> None:
            if isinstance(module, (nn.ReLU, nn.ReLU6)):
                from captum.attr._core.guided_backprop_deconvnet import _register_backward_hook

                self.backward_hooks.extend(_register_backward_hook(module, self._backward_hook, self))

    ggc = GuidedGradCam(model, layer)
    ggc.guided_backprop = _Guided(model)
    return ggc


def occlusion_window(size: int) -> tuple[int, int]:
    """(window, stride) in pixels: a 9×9 grid of half-overlapping patches at 224 (81 forwards)."""
    stride = max(1, size // 10)
    return 2 * stride, stride


def _reduce(attr: torch.Tensor, how: str) -> torch.Tensor:
    """(1, C, H, W) → (H, W)."""
    a = attr[0]
    if how == "absmax":
        return a.abs().amax(dim=0)
    if how == "mean":
        return a.mean(dim=0)
    return a.sum(dim=0)


def explain(
    lm: LoadedModel,
    x: torch.Tensor,
    method: str = "gradcam",
    *,
    target: int | None = None,
    layer: str | None = None,
    ig_steps: int = 24,
) -> Explanation:
    """Explain the model's score for class ``target`` (default: its top-1) on ``x`` (1, C, H, W).

    ``layer`` (CAM methods and Guided Grad-CAM): a ``named_modules`` path, default the
    model's ``info.default_layer``. See :class:`Explanation` for the maps' shapes.
    """
    if method not in METHODS:
        raise ExplainError(f"Unknown method {method!r}; choose one of: {', '.join(METHODS)}.")
    x = x.detach().to(lm.device)
    info = METHODS[method]
    layer_name = None
    if info.kind == "cam" or method == "guided_gradcam":
        layer_name = layer or lm.info.default_layer
        if not layer_name:
            raise ExplainError("This model names no default layer for Grad-CAM; pick one.")
    start = time.perf_counter()
    if method == "gradcampp":
        t, logits, ag = layer_acts_and_grads(lm, x, [layer_name], target)
        signed = cam_from(*ag[layer_name], plus=True)
    else:
        with lm.use() as model:
            if method == "gradcam":
                from captum.attr import LayerGradCam

                scorer = _Scorer(model, target)
                with _spatial(model, layer_name) as module:
                    signed = LayerGradCam(scorer, module).attribute(x, relu_attributions=False)[0, 0]
                t, logits = int(scorer.target), scorer.logits.float().cpu().numpy()
            else:
                with torch.inference_mode():
                    logits_t = model(x)[0].float()
                _check_target(target, logits_t.numel())
                t = int(logits_t.argmax()) if target is None else int(target)
                logits = logits_t.cpu().numpy()
                attr = _pixel_attr(model, x, method, t, layer_name, ig_steps, lm.preprocess_spec)
                signed = _reduce(attr.detach(), _REDUCE[method])
    seconds = time.perf_counter() - start
    signed_np = signed.detach().float().cpu().numpy()
    final = np.maximum(signed_np, 0) if info.kind == "cam" else signed_np
    probs = softmax(logits)
    return Explanation(method, t, lm.label(t), float(probs[t]), layer_name, signed_np, final, logits, seconds)


def _pixel_attr(
    model: nn.Module, x: torch.Tensor, method: str, t: int, layer: str | None, ig_steps: int, spec
) -> torch.Tensor:
    """(1, C, H, W) captum attribution; the input (a fresh copy) is what requires grad."""
    from captum.attr import IntegratedGradients, Occlusion, Saliency

    x = x.clone()
    if method == "guided_gradcam":
        with _spatial(model, layer) as module:
            return _guided_gradcam(model, module).attribute(x, target=t)
    if method == "saliency":
        return Saliency(model).attribute(x, target=t, abs=True)
    if method == "ig":
        black = black_input(spec, x)
        return IntegratedGradients(model).attribute(
            x, baselines=black, target=t, n_steps=ig_steps, internal_batch_size=16
        )
    window, stride = occlusion_window(x.shape[-1])
    c = x.shape[1]
    return Occlusion(model).attribute(
        x,
        sliding_window_shapes=(c, window, window),
        strides=(c, stride, stride),
        baselines=0.0,
        target=t,
        perturbations_per_eval=32,
    )


def black_input(spec, like: torch.Tensor) -> torch.Tensor:
    """The all-black picture in normalised space, (0 − mean) / std per channel, shaped like ``like``."""
    return spec.normalize(torch.zeros_like(like))


# ---------------------------------------------------------------- the sweep
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
    maps = [cam_from(*ag[n]).clamp(min=0).float().cpu().numpy() for n in layers]
    seconds = time.perf_counter() - start
    return Sweep(t, lm.label(t), float(softmax(logits)[t]), layers, maps, seconds)


# ---------------------------------------------------------------- showing a map
@dataclass(frozen=True)
class Display:
    """How to colour a map: the values, their range and a colormap, plus a legend."""

    heat: np.ndarray
    vmin: float
    vmax: float
    cmap: str
    legend: str


def display(map_: np.ndarray, *, signed: bool = False, cmap: str = "jet", robust: bool = False) -> Display:
    """Normalised view (0 … max of the positive part) or signed view (−m … +m, m = max |value|).

    The signed view keeps the real scale, so two maps of the same model compare; its
    colours are a diverging map where white is zero.
    """
    a = np.asarray(map_, dtype=np.float32)
    if signed:
        m = float(np.abs(a).max()) or 1.0
        return Display(
            a, -m, m, "RdBu_r", f"red: evidence for the class, blue: against it, white: none (scale ±{m:.3g})"
        )
    pos = np.maximum(a, 0)
    # robust: pixel maps have a few extreme values; the top 0.5 % saturate instead of
    # leaving everything else near black
    top = float(np.percentile(pos[pos > 0], 99.5)) if robust and pos.any() else float(pos.max())
    return Display(
        pos, 0.0, top or 1.0, cmap, "strongest evidence for the class at the top of the scale, none at the bottom"
    )


def overlay_png(image, map_: np.ndarray, *, signed: bool = False, alpha: float = 0.5, cmap: str = "jet") -> bytes:
    """PNG bytes of the map (resized bilinearly) blended over ``image`` (PIL or (H, W[, C]))."""
    from cnnviz import render

    d = display(map_, signed=signed, cmap=cmap)
    return render.to_png(render.overlay(image, d.heat, alpha=alpha, cmap=d.cmap, vmin=d.vmin, vmax=d.vmax))
