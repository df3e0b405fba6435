"""Feature visualisation: an input optimised to excite one channel (activation maximisation).

The recipe of Lucid/Lucent (Olah et al., "Feature Visualization", Distill 2017) in plain torch:

* the picture is parametrised in Fourier space, each frequency scaled by 1/f, so that
  Adam's steps change all frequencies alike instead of piling up high-frequency noise;
* RGB pictures are built in a decorrelated colour space (the square root of ImageNet's
  colour covariance), then squashed to 0..1 by a sigmoid and normalised like any photo;
* every step sees the picture slightly jittered, scaled and rotated, so the result must
  excite the channel robustly, not through a pixel-exact pattern;
* the forward pass stops at the target layer: nothing after it is computed.

The objective is the channel's spatial mean activation (a unit's value for a flat layer,
e.g. a class logit). Everything random comes from ``seed``, so one
(model, weights, layer, channel, size, steps, seed) always gives the same picture; results
are cached on disk by that key.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.channels.fourier_image import FourierImage, random_affine
from cnnviz.channels.redirected_relu import redirect_relus, set_redirect
from cnnviz.errors import CnnvizError, ModelError, Stopped
from cnnviz.i18n import _
from cnnviz.inside import work_memory
from cnnviz.inside.catalogue import LayerInfo, catalogue, find_layer
from cnnviz.models.fast_copy import light_copy, make_fast_copy
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.models.preprocess import Preprocess
from cnnviz.serving import diskcache, memguard
from cnnviz.trace import first_tensor, hooks

MAX_SIZE = 512
MAX_STEPS = 2048
LR = 0.1  # Adam on the spectrum; twice Lucid's 0.05, so small nets' channels get there in few steps
# Redirected ReLU gradients for the first part of the run only: they wake channels that start
# dead; afterwards native ReLUs, since a Python backward per ReLU makes every step much dearer
REDIRECT_FRACTION = 0.25


@dataclass(frozen=True)
class Request:
    """What decides the picture. ``size``: side in pixels (None: the model's own input size)."""

    layer: str
    channel: int
    size: int | None = None
    steps: int = 256
    seed: int = 0


@dataclass
class Result:
    """``x``: (C, H, W) float32, the optimised input exactly as the model is fed it (normalised);
    ``picture``: (H, W, 3) or (H, W) uint8, the same input as the model sees it before
    normalisation; ``activation``: the channel's spatial mean for ``x``; ``curve``: the
    objective at each step (on the transformed picture); ``seconds``: optimisation time
    (0 for a cache hit)."""

    layer: str
    channel: int
    x: np.ndarray
    picture: np.ndarray
    activation: float
    curve: np.ndarray
    seconds: float
    cached: bool = False


def check_target(layers: list[LayerInfo], name: str, channel: int) -> LayerInfo:
    """The layer a feature visualisation targets, checked.

    Args:
        layers: the model's layer catalogue.
        name: the layer's name.
        channel: one of its channels (or units of a linear layer).

    Returns:
        The layer's LayerInfo.

    Raises:
        ModelError: an unknown layer, one without channels to visualise, or a channel it
            does not have.
    """
    layer = find_layer(layers, name)
    if not layer.spatial and layer.kind != "linear":
        raise ModelError(
            _("{layer} ({type}) has no channels to visualise; pick a conv, activation or pooling layer.").format(
                layer=layer.name, type=layer.type
            )
        )
    n = layer.out_shape[0]
    if not 0 <= channel < n:
        text = (
            _("{layer} has {n} units (0 to {last}); there is no number {channel}.")
            if not layer.spatial
            else _("{layer} has {n} channels (0 to {last}); there is no number {channel}.")
        )
        raise ModelError(text.format(layer=layer.name, n=n, last=n - 1, channel=channel))
    return layer


# ------------------------------------------------------------------ the cut forward
class _Cut(Exception):
    """Raised by the hook at the target layer: the rest of the network is not run."""


class CutModel:
    """``model`` run only up to the ``call``-th output of the layer; returns that output.

    ``with CutModel(model, layer) as cut: out = cut(x)``: the hook lives for the block only.
    """

    def __init__(self, model: nn.Module, layer: LayerInfo):
        self.model = model
        self.path = layer.path
        self.call = int(layer.name.partition("#")[2] or 1)
        self._n = 0
        self._out: torch.Tensor | None = None
        self._hooks = None

    def _hook(self, _name, _module, _inputs, output):
        self._n += 1
        if self._n == self.call:
            self._out = first_tensor(output)
            raise _Cut

    def __enter__(self) -> CutModel:
        self._hooks = hooks(self.model, [self.path], forward=self._hook)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self._n, self._out = 0, None
        try:
            self.model(x)
        except _Cut:
            out, self._out = self._out, None
            return out
        raise ModelError(_("The forward pass never reached the chosen layer."))


def channel_objective(out: torch.Tensor, channel: int) -> torch.Tensor:
    """The quantity a feature visualisation raises.

    Args:
        out: (B, C, H, W) or (B, F) layer output.
        channel: the channel (or unit).

    Returns:
        (B,): the channel's spatial mean per batch item, or the unit itself.
    """
    c = out[:, channel]
    return c.flatten(1).mean(1) if c.ndim > 1 else c


def private_copy(lm: LoadedModel, layer: str | None = None) -> nn.Module:
    """An eval-mode copy of the shared model with frozen parameters and redirected ReLUs, for
    long optimisations that must not hold the model's lock (other sessions keep using theirs).

    BatchNorm is folded into the convs and weights are channels_last (:mod:`cnnviz.models.fast_copy`:
    less CPU per step, the same image), unless ``layer`` is a conv whose output the folding
    changes.

    Args:
        lm: the shared model.
        layer: the layer the optimisation reads, or None.

    Returns:
        The private ``nn.Module``.
    """
    with lm.use() as model:
        fast = make_fast_copy(model, lm.blank_input(), pack=False)  # every step needs the input's gradient
        local = light_copy(model) if layer in fast.folded else fast.model
    local.eval()
    for p in local.parameters():
        p.requires_grad_(False)
    return redirect_relus(local)


# ------------------------------------------------------------------ optimisation
def optimise(
    model: nn.Module,
    layer: LayerInfo,
    spec: Preprocess,
    req: Request,
    *,
    device: torch.device | str = "cpu",
    on_step: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Result:
    """Optimise an input for one channel.

    Args:
        model: the network, owned by the caller for the duration.
        layer: the target layer.
        spec: the model's preprocessing.
        req: what decides the picture (layer, channel, size, steps, seed).
        device: where to run.
        on_step: called as ``on_step(step, steps, objective)`` after each step.
        should_stop: asked before each step.

    Returns:
        The Result (see it for the arrays' shapes).

    Raises:
        Stopped: ``should_stop()`` said yes.
    """
    size = req.size or spec.size
    gen = torch.Generator().manual_seed(req.seed)
    rng = random.Random(req.seed)
    param = FourierImage(spec.channels, size, gen).to(device)
    opt = torch.optim.Adam(param.parameters(), lr=LR)
    curve = np.zeros(req.steps, np.float32)
    t0 = time.perf_counter()
    try:
        with CutModel(model, layer) as cut, torch.enable_grad():
            for step in range(req.steps):
                set_redirect(model, step < req.steps * REDIRECT_FRACTION)
                if should_stop is not None and should_stop():
                    raise Stopped(_("The feature visualisation was stopped before it finished; nothing was saved."))
                opt.zero_grad(set_to_none=True)
                x = spec.normalize(random_affine(param(), rng))
                loss = -channel_objective(cut(x), req.channel).sum()
                loss.backward()
                opt.step()
                curve[step] = -loss.item()
                if on_step is not None:
                    on_step(step + 1, req.steps, curve[step])
            seconds = time.perf_counter() - t0
            with torch.no_grad():
                img = param()  # (1, C, H, W) in 0..1
                x = spec.normalize(img)
                activation = float(channel_objective(cut(x), req.channel)[0])
    except RuntimeError as e:  # e.g. a size the layers after a flatten cannot take
        raise ModelError(
            _("{layer} cannot be visualised at {size}×{size} pixels ({error}).").format(
                layer=layer.name, size=size, error=str(e).splitlines()[0]
            )
        ) from e
    picture = (img[0].permute(1, 2, 0).cpu().numpy() * 255).round().clip(0, 255).astype(np.uint8)
    return Result(
        layer.name,
        req.channel,
        x[0].cpu().numpy().astype(np.float32),
        picture[:, :, 0] if picture.shape[2] == 1 else picture,
        activation,
        curve,
        seconds,
    )


def cache_key(lm: LoadedModel, req: Request) -> str:
    """The disk cache's key of a request: the model's name and weights, the request and
    the input size.

    Args:
        lm: the shared model.
        req: the request.

    Returns:
        A hex digest.
    """
    size = req.size or lm.preprocess_spec.size
    with lm.use() as model:
        weights = diskcache.model_digest(model)
    return diskcache.digest(
        {
            "kind": "featvis/1",
            "model": lm.name,
            "weights": weights,
            "layer": req.layer,
            "channel": req.channel,
            "size": size,
            "steps": req.steps,
            "seed": req.seed,
        }
    )


def cached(lm: LoadedModel, req: Request) -> Result | None:
    """The stored result of a request.

    Args:
        lm: the shared model.
        req: the request.

    Returns:
        The Result, or None.
    """
    z = diskcache.load_arrays(diskcache.path_for("featvis", cache_key(lm, req)))
    if z is None:
        return None
    return Result(req.layer, req.channel, z["x"], z["picture"], float(z["activation"]), z["curve"], 0.0, cached=True)


def validate(lm: LoadedModel, req: Request) -> LayerInfo:
    """Check a request.

    Args:
        lm: the shared model.
        req: the request.

    Returns:
        Its target layer.

    Raises:
        CnnvizError: steps or size out of range, or a layer or channel the model lacks.
    """
    if not 1 <= req.steps <= MAX_STEPS:
        raise CnnvizError(_("Steps must be between 1 and {n}.").format(n=MAX_STEPS))
    if req.size is not None and not 8 <= req.size <= MAX_SIZE:
        raise CnnvizError(_("The picture size must be between 8 and {n} pixels.").format(n=MAX_SIZE))
    return check_target(catalogue(lm), req.layer, req.channel)


def memory_estimate(lm: LoadedModel, req: Request) -> int:
    """Bytes the optimisation of a request may allocate (:func:`cnnviz.inside.work_memory.featvis`).

    Args:
        lm: the shared model.
        req: the request.

    Returns:
        The byte count.
    """
    spec = lm.preprocess_spec
    with lm.use() as model:
        params = sum(p.numel() for p in model.parameters())
    return work_memory.featvis(catalogue(lm), req.layer, req.size or spec.size, spec.size, params)


def visualize(
    lm: LoadedModel,
    req: Request,
    *,
    on_step: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Result:
    """The feature visualisation of a request for a shared model: from the disk cache, or
    optimised on a private copy of the model and then stored (only when it finished).

    The optimisation holds its memory with the guard while it runs.

    Args:
        lm: the shared model.
        req: the request.
        on_step: called as ``on_step(step, steps, objective)`` after each step.
        should_stop: asked before each step.

    Returns:
        The Result.

    Raises:
        CnnvizError: a bad request.
        ServerBusy: the server cannot hold the optimisation now.
        Stopped: ``should_stop()`` said yes.
    """
    layer = validate(lm, req)
    hit = cached(lm, req)
    if hit is not None:
        return hit
    with memguard.reserve(memory_estimate(lm, req), "this feature visualisation"):
        res = optimise(
            private_copy(lm, layer.name),
            layer,
            lm.preprocess_spec,
            req,
            device=lm.device,
            on_step=on_step,
            should_stop=should_stop,
        )
    arrays = {"x": res.x, "picture": res.picture, "activation": np.float64(res.activation), "curve": res.curve}
    diskcache.save_arrays(diskcache.path_for("featvis", cache_key(lm, req)), arrays)
    return res
