"""The layer catalogue: every module call of a forward pass, what kind of layer it is, its
output shape and receptive field, and which layers each page can use.

Layer names are the model's own ``named_modules()`` paths. A module that runs more than
once per forward (ResNet's ``BasicBlock.relu``) gets one entry per call: ``name`` for the
first, ``name#2``, ``name#3``... after it (the keys :mod:`cnnviz.inside.capture` records under).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from cnnviz import i18n
from cnnviz.errors import ModelError
from cnnviz.inside.receptive_field import Geometry, GeometryTracer
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.trace import first_tensor, trace

# ------------------------------------------------------------------ kinds of layers
ACTIVATIONS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Hardtanh,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softmax,
    nn.Mish,
)
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
NORMS = (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm2d, nn.LocalResponseNorm)
# What the feature-map pages capture and offer: stacks of maps worth looking at. Batch-norm
# outputs are left out: each is a rescaled copy of the conv before it, so capturing them
# would add much memory and time to every capture and show nothing new.
MAP_KINDS = ("conv", "act", "pool", "block")


def layer_kind(module: nn.Module) -> str:
    """What kind of layer a module is (what :data:`MAP_KINDS` and the graph's colours go by).

    Args:
        module: any module of a model.

    Returns:
        "conv" (a Conv2d), "norm", "act", "pool", "linear", "block" (a module with
        children: a container) or "other".
    """
    if isinstance(module, nn.Conv2d):
        return "conv"
    if isinstance(module, NORMS):
        return "norm"
    if isinstance(module, ACTIVATIONS):
        return "act"
    if isinstance(module, POOLS):
        return "pool"
    if isinstance(module, nn.Linear):
        return "linear"
    if next(module.children(), None) is not None:
        return "block"
    return "other"


@dataclass(frozen=True)
class LayerInfo:
    """One call of one module in a forward pass.

    Attributes:
        name: the ``named_modules()`` path (``path#2`` for a module's second call, as in
            :func:`cnnviz.inside.capture.hooked_outputs`).
        path: the ``named_modules()`` path, without the ``#2`` of a later call.
        type: the module's class name (``Conv2d``).
        kind: its :func:`layer_kind`.
        out_shape: output without the batch axis, (C, H, W) or (F,).
        params: parameters of the module and its children.
        rf: side of the theoretical receptive field of one output unit, in input pixels.
        jump: input pixels between neighbouring output units; None once the spatial axes
            are gone (after flatten).
        start: input coordinate of the centre of unit 0 (pixel centres are integers).
        group: the block it belongs to (for grouped pickers; :func:`block_of`).
        depth: nesting level (0 = a child of the model).
    """

    name: str
    path: str
    type: str
    kind: str
    out_shape: tuple[int, ...]
    params: int
    rf: int
    jump: int | None
    start: float
    group: str
    depth: int

    @property
    def spatial(self) -> bool:
        """Whether the output has spatial axes: an ``out_shape`` of (C, H, W)."""
        return len(self.out_shape) == 3

    def as_dict(self) -> dict:
        """The CLI's JSON record of this layer.

        Returns:
            {"name", "type", "out_shape" (a list), "params", "rf", "jump"}: plain ints,
            strings and lists, ``jump`` None for a flat output.
        """
        return {
            "name": self.name,
            "type": self.type,
            "out_shape": list(self.out_shape),
            "params": self.params,
            "rf": self.rf,
            "jump": self.jump,
        }


def _is_list_like(module: nn.Module) -> bool:
    names = [n for n, _ in module.named_children()]
    return bool(names) and all(n.isdigit() for n in names)


def block_of(modules: dict[str, nn.Module], path: str) -> str:
    """The block a layer is shown under.

    Args:
        modules: the model's ``dict(named_modules())``.
        path: a layer's ``named_modules()`` path (without ``#2``).

    Returns:
        The block's path: ``layer1.0`` (ResNet), ``blocks.3`` (EfficientNet),
        ``inception3a`` (GoogLeNet), ``features`` (VGG's flat chain), or "model" for a
        top-level leaf.
    """
    parts = path.split(".")
    top = modules[parts[0]]
    if len(parts) == 1 and next(top.children(), None) is None:
        return "model"
    if _is_list_like(top) and len(parts) >= 2 and next(modules[".".join(parts[:2])].children(), None) is not None:
        return ".".join(parts[:2])
    return parts[0]


def catalogue_model(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerInfo]:
    """Every module call of one forward pass of zeros, in the order the calls start.

    The caller owns ``model`` for the duration (use :func:`catalogue` for a shared one).

    Args:
        model: the network; the zeros go to its parameters' device.
        input_shape: the input's shape, (1, C, H, W).

    Returns:
        One :class:`LayerInfo` per module call that returned a tensor, a block before its
        layers.
    """
    tracer = GeometryTracer()
    order: list[tuple[str, nn.Module]] = []
    outputs: dict[int, torch.Tensor] = {}
    open_calls: dict[str, list[int]] = {}

    def pre(name: str, module, _inputs) -> None:
        open_calls.setdefault(name, []).append(len(order))
        order.append((name, module))

    def post(name: str, _module, _inputs, output) -> None:
        out = first_tensor(output)
        i = open_calls[name].pop(0)  # calls of one module finish in the order they start
        if isinstance(out, torch.Tensor):
            outputs[i] = out

    every = [name for name, _ in model.named_modules() if name]
    x = torch.zeros(input_shape, device=next(model.parameters()).device)
    with torch.inference_mode():
        x = x.clone()
        tracer.set(x, Geometry(1, 1, 0.0))
        trace(model, x, on=every, pre=pre, forward=post, ops=[tracer])

    modules = dict(model.named_modules())
    rows: list[LayerInfo] = []
    seen: dict[str, int] = {}
    for i, (path, m) in enumerate(order):
        out = outputs.get(i)
        g = tracer.geo.get(out) if out is not None else None
        if g is None:
            continue
        seen[path] = seen.get(path, 0) + 1
        name = path if seen[path] == 1 else f"{path}#{seen[path]}"
        rows.append(
            LayerInfo(
                name=name,
                path=path,
                type=type(m).__name__,
                kind=layer_kind(m),
                out_shape=tuple(int(s) for s in out.shape[1:]),
                params=sum(p.numel() for p in m.parameters()),
                rf=int(g.rf),
                jump=None if g.jump is None else int(g.jump),
                start=float(g.start),
                group=block_of(modules, path),
                depth=path.count("."),
            )
        )
    return rows


# Per shared model, whose layers never change: every long job's memory estimate asks for it,
# and each forward with a hook on every module held a replica the class's clicks wait for.
_CATALOGUES: weakref.WeakKeyDictionary[LoadedModel, list[LayerInfo]] = weakref.WeakKeyDictionary()


def catalogue(lm: LoadedModel) -> list[LayerInfo]:
    """The layer catalogue of a shared model, for its own input size (made once per model).

    Args:
        lm: the shared model; the forward runs under ``lm.use()``.

    Returns:
        As :func:`catalogue_model`, for an input (1, channels, size, size) of
        ``lm.preprocess_spec``.
    """
    known = _CATALOGUES.get(lm)
    if known is None:
        spec = lm.preprocess_spec
        with lm.use() as model:
            known = _CATALOGUES[lm] = catalogue_model(model, (1, spec.channels, spec.size, spec.size))
    return list(known)


def find_layer(layers: list[LayerInfo], name: str) -> LayerInfo:
    """The catalogue entry of one layer name.

    Args:
        layers: a catalogue (:func:`catalogue`).
        name: a ``LayerInfo.name`` (``path`` or ``path#2``).

    Returns:
        The first entry of that name.

    Raises:
        ModelError: no layer has that name.
    """
    for layer in layers:
        if layer.name == name:
            return layer
    raise ModelError(i18n._("This model has no layer called {name}.").format(name=repr(name)))


# ------------------------------------------------------------------ which layers a page can use
def map_layers(layers: list[LayerInfo], kinds: Iterable[str] = MAP_KINDS) -> list[LayerInfo]:
    """The layers feature-map pages offer.

    Args:
        layers: a catalogue (:func:`catalogue`).
        kinds: the :func:`layer_kind` values to keep.

    Returns:
        The layers of those kinds with a (C, H, W) output, in catalogue order.
    """
    kinds = set(kinds)
    return [layer for layer in layers if layer.spatial and layer.kind in kinds]


def activation_layers(model: nn.Module) -> list[str]:
    """The activation modules of a model.

    Args:
        model: the network.

    Returns:
        Their ``named_modules()`` paths, in module-tree order (for most CNNs, forward order).
    """
    return [n for n, m in model.named_modules() if isinstance(m, ACTIVATIONS)]


def pooling_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The pooling layers of a model: max, average and adaptive.

    Args:
        model: the network.

    Returns:
        (``named_modules()`` path, module) of each, in module-tree order (for most CNNs,
        forward order).
    """
    return [(n, m) for n, m in model.named_modules() if isinstance(m, POOLS)]


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

    Args:
        model: the network.
        min_children: the conv-holding children an ``nn.Sequential`` needs to be taken
            as the main feature sequence (and expanded).

    Returns:
        ``named_modules()`` paths, early to late.
    """

    def expand(prefix: str, parent: nn.Module) -> list[str]:
        kids = list(parent.named_children())
        out: list[str] = []
        for i, (name, child) in enumerate(kids):
            if not _has_conv(child):
                continue
            pick = name
            # A bare conv is read after the layers that follow it (its ReLU); a block that
            # holds its own conv is read as it is (never the classifier after it).
            for later, m in kids[i + 1 :] if not any(True for _ in child.children()) else ():
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
    convs = [(n, c) for n, c in top if _has_conv(c)]
    if len(convs) == 1 and isinstance(convs[0][1], nn.Sequential) and len(list(convs[0][1].children())) > 1:
        # One feature sequence holding every conv (a small CNN of 1-3 blocks, LeNet): its
        # blocks are the sweep, not the sequence as a whole.
        return expand(convs[0][0] + ".", convs[0][1])
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
