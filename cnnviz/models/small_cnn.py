"""Architectures a student can build: TinyVGG and LeNet-5 presets, or their own mix.

An architecture is a plain JSON-able dict (saved in a checkpoint's metadata, so the zoo
can rebuild the network) :

``{"kind": "tinyvgg", "channels": [8, 8, 16, 16], "pool_every": 2, "kernel": 3,
"activation": "relu", "pool": "max", "batchnorm": false, "dropout": 0.0, "hidden": []}``

The network is ``features`` (conv blocks) then ``classifier``. Every block is
``features.<i>.conv`` → [``.bn``] → ``.act`` → [``.pool`` after every ``pool_every``-th
block]; the classifier is ``flatten`` → [``drop``] → ``fc1``, ``act1`` … → ``fc``. Every
activation is its own module, so each "output after this activation" has a name.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from cnnviz.errors import ModelError
from cnnviz.i18n import _

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
POOLS: dict[str, type[nn.Module]] = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}

# Presets. TinyVGG follows CNN Explainer (two conv+ReLU, pool, two conv+ReLU, pool, one
# linear layer), 8 and 16 channels: with
# light augmentation it reaches ≥ 97 % on MNIST-5k in seconds. LeNet-5 as LeCun drew
# it: 5×5 convs, tanh, average pooling, two hidden dense layers.
PRESETS: dict[str, dict] = {
    "tinyvgg": {
        "kind": "tinyvgg",
        "channels": [8, 8, 16, 16],
        "pool_every": 2,
        "kernel": 3,
        "activation": "relu",
        "pool": "max",
        "batchnorm": False,
        "dropout": 0.0,
        "hidden": [],
    },
    "lenet": {
        "kind": "lenet",
        "channels": [6, 16],
        "pool_every": 1,
        "kernel": 5,
        "activation": "tanh",
        "pool": "avg",
        "batchnorm": False,
        "dropout": 0.0,
        "hidden": [120, 84],
    },
}


def preset(kind: str, **changes) -> dict:
    """A copy of a preset architecture with some fields changed.

    Args:
        kind: a key of :data:`PRESETS`.
        **changes: fields to replace.

    Returns:
        The architecture dict.

    Raises:
        ModelError: an unknown preset.
    """
    if kind not in PRESETS:
        raise ModelError(
            _("Unknown architecture {name}; choose one of {names}.").format(name=repr(kind), names=", ".join(PRESETS))
        )
    arch = {k: (list(v) if isinstance(v, list) else v) for k, v in PRESETS[kind].items()}
    arch.update(changes)
    return arch


def _check(arch: dict) -> dict:
    """The architecture with defaults filled in, or ModelError naming the bad field."""
    base = PRESETS["tinyvgg"] if arch.get("kind") != "lenet" else PRESETS["lenet"]
    a = {**base, **arch}
    try:
        a["channels"] = [int(c) for c in a["channels"]]
        a["hidden"] = [int(h) for h in a["hidden"]]
        a["kernel"], a["pool_every"] = int(a["kernel"]), int(a["pool_every"])
        a["dropout"], a["batchnorm"] = float(a["dropout"]), bool(a["batchnorm"])
    except (TypeError, ValueError) as e:
        raise ModelError(_("The architecture description is malformed ({error}).").format(error=e)) from e
    if not a["channels"] or any(c < 1 or c > 512 for c in a["channels"]):
        raise ModelError(_("Every conv block needs between 1 and 512 channels, and there must be at least one block."))
    if a["kernel"] not in (1, 3, 5, 7):
        raise ModelError(_("The kernel size must be 1, 3, 5 or 7."))
    if a["activation"] not in ACTIVATIONS:
        raise ModelError(
            _("Unknown activation {name}; choose one of {names}.").format(
                name=repr(a["activation"]), names=", ".join(ACTIVATIONS)
            )
        )
    if a["pool"] not in POOLS:
        raise ModelError(_("Unknown pooling {name}; choose max or avg.").format(name=repr(a["pool"])))
    if not 0.0 <= a["dropout"] < 1.0:
        raise ModelError(_("Dropout must be at least 0 and below 1."))
    return a


def _pools(a: dict, n: int) -> list[bool]:
    every = a["pool_every"]
    return [every > 0 and (i + 1) % every == 0 for i in range(n)]


def feature_side(arch: dict, size: int) -> int:
    """Side of the last feature map (convs keep the size).

    Args:
        arch: an architecture description (:data:`PRESETS`).
        size: the input's side.

    Returns:
        The side in pixels.

    Raises:
        ModelError: a malformed architecture.
    """
    a = _check(arch)
    side = size
    for pooled in _pools(a, len(a["channels"])):
        if pooled:
            if side < 2:
                raise ModelError(
                    _(
                        "Too many pooling layers for {size}×{size} images: the maps would shrink below 1×1. "
                        "Use fewer blocks or pool less often."
                    ).format(size=size)
                )
            side //= 2
    return side


class Dropout(nn.Dropout):
    """``nn.Dropout`` that draws its mask from ``generator`` when one is set.

    ``fit`` sets the training run's own generator here, so training a model never draws
    from (or seeds) torch's process-wide generator, which every other session shares.
    """

    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or self.generator is None:
            return super().forward(x)
        keep = torch.empty(x.shape, device=self.generator.device).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep.to(device=x.device, dtype=x.dtype) / (1.0 - self.p)


def _init_weights(model: nn.Module, gen: torch.Generator) -> None:
    # PyTorch's default initialisation of Conv2d / Linear (kaiming-uniform weights with
    # a=√5, uniform biases in ±1/√fan_in) and BatchNorm, in module order: the same numbers
    # as building with torch.manual_seed(seed), drawn from ``gen`` instead.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
                if m.bias is not None:
                    fan_in = m.weight[0].numel()  # in_channels/groups × kernel area (in_features for Linear)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                    nn.init.uniform_(m.bias, -bound, bound, generator=gen)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


def build_model(arch: dict, in_channels: int, num_classes: int, size: int, *, seed: int = 0) -> nn.Module:
    """The network, on the CPU.

    Its initial weights come from a generator seeded with ``seed``: the process-wide torch
    generator is neither read nor changed (the modules are made on the meta device, which draws
    nothing, then filled in).

    Args:
        arch: an architecture description (:data:`PRESETS`).
        in_channels: the input's channels.
        num_classes: how many logits.
        size: the input's side.
        seed: the initial weights' seed.

    Returns:
        An ``nn.Module`` mapping (B, in_channels, size, size) to (B, num_classes) logits.

    Raises:
        ModelError: a malformed architecture.
    """
    with torch.device("meta"):
        model = _assemble(arch, in_channels, num_classes, size)
    model = model.to_empty(device="cpu")
    _init_weights(model, torch.Generator().manual_seed(seed))
    return model


def cost(arch: dict, in_channels: int, num_classes: int, size: int) -> tuple[int, int]:
    """A network's size from the architecture alone: the modules are made on the meta device, so
    nothing is allocated.

    Args:
        arch: an architecture description (:data:`PRESETS`).
        in_channels: the input's channels.
        num_classes: how many logits.
        size: the input's side.

    Returns:
        (parameters, activation values of one image through the conv blocks).

    Raises:
        ModelError: an architecture that cannot be built.
    """
    with torch.device("meta"):
        model = _assemble(arch, in_channels, num_classes, size)
    params = sum(p.numel() for p in model.parameters())
    a = _check(arch)
    side, acts = size, 0
    per_block = 3 if a["batchnorm"] else 2  # conv (+ bn) + activation outputs, each kept by a capture
    for c_out, pooled in zip(a["channels"], _pools(a, len(a["channels"])), strict=True):
        acts += per_block * c_out * side * side
        if pooled:
            side //= 2
            acts += c_out * side * side
    return params, acts


def forward_macs(arch: dict, in_channels: int, num_classes: int, size: int) -> int:
    """Multiply-adds of one image's forward pass (convs and linears), from the architecture.

    Args:
        arch: an architecture description (:data:`PRESETS`).
        in_channels: the input's channels.
        num_classes: how many logits.
        size: the input's side.

    Returns:
        The count.

    Raises:
        ModelError: a malformed architecture.
    """
    a = _check(arch)
    k2, side, c_in, macs = a["kernel"] ** 2, size, in_channels, 0
    for c_out, pooled in zip(a["channels"], _pools(a, len(a["channels"])), strict=True):
        macs += c_in * c_out * k2 * side * side
        c_in = c_out
        side = side // 2 if pooled else side
    width = c_in * side * side
    for h in [*a["hidden"], num_classes]:
        macs += width * h
        width = h
    return macs


def _assemble(arch: dict, in_channels: int, num_classes: int, size: int) -> nn.Module:
    a = _check(arch)
    if num_classes < 2:
        raise ModelError(_("A classifier needs at least two classes."))
    side = feature_side(a, size)
    act, pool = ACTIVATIONS[a["activation"]], POOLS[a["pool"]]
    blocks, c_in = [], in_channels
    for c_out, pooled in zip(a["channels"], _pools(a, len(a["channels"])), strict=True):
        layers: list[tuple[str, nn.Module]] = [
            ("conv", nn.Conv2d(c_in, c_out, a["kernel"], padding=a["kernel"] // 2, bias=not a["batchnorm"]))
        ]
        if a["batchnorm"]:
            layers.append(("bn", nn.BatchNorm2d(c_out)))
        layers.append(("act", act()))
        if pooled:
            layers.append(("pool", pool(2)))
        blocks.append(nn.Sequential(OrderedDict(layers)))
        c_in = c_out
    head: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
    width = c_in * side * side
    for i, h in enumerate(a["hidden"], start=1):
        if a["dropout"]:
            head.append((f"drop{i}", Dropout(a["dropout"])))
        head += [(f"fc{i}", nn.Linear(width, h)), (f"act{i}", act())]
        width = h
    if a["dropout"]:
        head.append(("drop", Dropout(a["dropout"])))
    head.append(("fc", nn.Linear(width, num_classes)))
    return nn.Sequential(
        OrderedDict([("features", nn.Sequential(*blocks)), ("classifier", nn.Sequential(OrderedDict(head)))])
    )


def default_layer(arch: dict) -> str:
    """The last conv block's activation: where Grad-CAM looks by default.

    Args:
        arch: an architecture description (:data:`PRESETS`).

    Returns:
        Its ``named_modules`` path.

    Raises:
        ModelError: a malformed architecture.
    """
    return f"features.{len(_check(arch)['channels']) - 1}.act"


def count_params(model: nn.Module) -> int:
    """How many numbers a network's parameters hold.

    Args:
        model: the network.

    Returns:
        The count.
    """
    return sum(p.numel() for p in model.parameters())
