"""Looking inside a forward pass: capture layer outputs with hooks that never outlive the call.

Layer names are the model's own ``named_modules()`` paths. A module that runs more than
once per forward (ResNet's ``BasicBlock.relu``) gets one entry per call: ``name`` for the
first, ``name#2``, ``name#3``... after it, so no call overwrites another.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnviz.errors import ModelError
from cnnviz.hooks import first_tensor, hooks, resolve
from cnnviz.zoo import LoadedModel

__all__ = ["resolve"]  # re-exported: filters, pooling, bench import it from here


_INPLACE_DUNDERS = frozenset(
    {
        "__iadd__",
        "__isub__",
        "__imul__",
        "__itruediv__",
        "__ifloordiv__",
        "__ipow__",
        "__iand__",
        "__ior__",
        "__ixor__",
        "__setitem__",
    }
)


def _writes_in_place(func, args, kwargs) -> list[torch.Tensor]:
    """The tensors an op is about to overwrite: ``x.add_(...)``, ``x += y``, ``F.relu(x, inplace=True)``, ``out=``."""
    name = getattr(func, "__name__", "")
    hit = name in _INPLACE_DUNDERS or (name.endswith("_") and not name.endswith("__")) or kwargs.get("inplace") is True
    targets = [args[0]] if hit and args and isinstance(args[0], torch.Tensor) else []
    out = kwargs.get("out")
    if isinstance(out, torch.Tensor):
        targets.append(out)
    return targets


class _CopyBeforeWrite(TorchFunctionMode):
    """Copies a recorded output before an op overwrites it in place.

    ResNet's ``out += identity`` and GoogLeNet's ``F.relu(x, inplace=True)`` write into the
    tensor a hook has just recorded; without this, ``bn2`` would read as ``bn2 + identity``.
    Only the recorded tensors that actually get overwritten are copied.
    """

    def __init__(self, store: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.store = store
        self.copied: set[str] = set()  # layer paths whose outputs got overwritten

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for t in _writes_in_place(func, args, kwargs):
            ptr = t.data_ptr()
            for key, v in self.store.items():
                if v.data_ptr() == ptr:  # our record aliases the memory about to change
                    self.store[key] = v.clone()
                    self.copied.add(key.partition("#")[0])
        return func(*args, **kwargs)


@dataclass
class _InPlaceMemo:
    """What earlier guarded passes learned about one model: which layers were watched, and
    which of their outputs the model overwrites in place. That is a property of the
    forward code (ResNet's ``out += identity`` runs for every input), so once every wanted
    layer has been watched, later passes clone just those outputs in the hook and skip the
    per-op guard (~6 ms of a 17 ms EfficientNet-Lite0 forward)."""

    watched: set[str]
    overwritten: set[str]


_MEMOS: weakref.WeakKeyDictionary[nn.Module, _InPlaceMemo] = weakref.WeakKeyDictionary()


@contextmanager
def hooked_outputs(model: nn.Module, names: Iterable[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Forward hooks recording the outputs of ``names`` into the yielded dict.

    The hooks are removed when the block exits, also on error. Outputs are detached
    tensors (the first tensor of a tuple output); repeated calls get ``#2``, ``#3`` keys.
    An output that the model later overwrites in place is copied first, so every record
    is the value the module returned.
    """
    store: dict[str, torch.Tensor] = {}

    def record(name: str, _module, _inputs, output) -> None:
        out = first_tensor(output)
        if not isinstance(out, torch.Tensor):
            return
        key, n = name, 1
        while key in store:
            n += 1
            key = f"{name}#{n}"
        store[key] = out.detach().clone() if name in clone_now else out.detach()

    names = list(names)
    memo = _MEMOS.setdefault(model, _InPlaceMemo(set(), set()))
    learned = set(names) <= memo.watched
    clone_now = memo.overwritten if learned else set()
    with hooks(model, names, forward=record):
        if learned:
            yield store
        else:
            guard = _CopyBeforeWrite(store)
            with guard:
                yield store
            if all(n in store for n in names):  # learn only from a pass that ran through every layer
                memo.overwritten |= guard.copied
                memo.watched |= set(names)


def capture(lm: LoadedModel, x: torch.Tensor, names: Iterable[str]) -> dict[str, np.ndarray]:
    """One forward pass of ``x`` (1, C, H, W); the outputs of ``names`` for that image.

    Returns name -> float32 array without the batch axis: (C, H, W) for conv-like layers,
    (F,) for flat ones. Runs under ``lm.use()``, so concurrent sessions never see each
    other's activations.
    """
    names = list(names)
    with lm.use() as model, torch.inference_mode(), hooked_outputs(model, names) as store:
        model(x.to(lm.device))
    return {k: v[0].float().cpu().numpy() for k, v in store.items()}


# ------------------------------------------------------------------ layer catalogue
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
# outputs are left out: a rescaled copy of the conv before them that would add ~50 % memory
# (EfficientNet-Lite0: 52 MB instead of 76 MB per image) and time to every capture.
MAP_KINDS = ("conv", "act", "pool", "block")


def layer_kind(module: nn.Module) -> str:
    """ "conv" | "norm" | "act" | "pool" | "linear" | "block" (a container) | "other"."""
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
class Geometry:
    """Where one output unit looks in the input, along one axis (kernels here are square).

    ``rf``: side of the theoretical receptive field in input pixels; ``jump``: input pixels
    between neighbouring units (None once the spatial axes are gone, e.g. after flatten);
    ``start``: input coordinate of the centre of unit 0 (pixel centres are integers).
    """

    rf: int
    jump: int | None
    start: float


def _pair(v) -> int:
    return int(v[0] if isinstance(v, (tuple, list)) else v)


def _arg(args, kwargs, i: int, name: str, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _spatial(t: torch.Tensor) -> tuple[int, int] | None:
    return tuple(t.shape[-2:]) if t.ndim >= 3 else None


def _window(g: Geometry, k: int, s: int, pad: int, d: int = 1) -> Geometry:
    """A k×k window (dilation d) with stride s and ``pad`` zeros before the first pixel."""
    keff = d * (k - 1) + 1
    return Geometry(g.rf + (keff - 1) * g.jump, g.jump * s, g.start + ((keff - 1) / 2 - pad) * g.jump)


def _adaptive(g: Geometry, n_in: int, n_out: int) -> Geometry:
    # Adaptive pooling windows are about ceil(n_in/n_out) wide, floor(n_in/n_out) apart.
    k, s = -(-n_in // n_out), max(1, n_in // n_out)
    return _window(g, k, s, 0)


class _GeometryTracer(TorchFunctionMode):
    """Follows every torch op of one forward pass and gives each tensor its Geometry.

    Ops that keep the spatial size (elementwise, norm, cat, add) take the largest receptive
    field over their inputs, which is how branches (ResNet skips, Inception) merge.
    """

    def __init__(self) -> None:
        super().__init__()
        self.geo: dict[int, Geometry] = {}
        self._alive: list[torch.Tensor] = []  # keeps ids unique while the pass runs

    def set(self, t: torch.Tensor, g: Geometry) -> None:
        self._alive.append(t)
        self.geo[id(t)] = g

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        flat = [a for a in args if isinstance(a, torch.Tensor)]
        for a in args:
            if isinstance(a, (list, tuple)):
                flat += [t for t in a if isinstance(t, torch.Tensor)]
        known = [(t, self.geo[id(t)]) for t in flat if id(t) in self.geo]
        outs = out if isinstance(out, (tuple, list)) else (out,)
        if not known:
            return out
        x, gx = known[0]
        name = getattr(func, "__name__", "")
        for o in outs:
            if isinstance(o, torch.Tensor):
                self.set(o, self._rule(name, args, kwargs, x, gx, known, o))
        return out

    def _rule(self, name, args, kwargs, x, gx, known, out) -> Geometry:
        if name == "conv2d":
            w = _arg(args, kwargs, 1, "weight")
            pad = _arg(args, kwargs, 4, "padding", 0)
            k, d = w.shape[-1], _pair(_arg(args, kwargs, 5, "dilation", 1))
            if isinstance(pad, str):  # "same" pads (k_eff-1)//2 before, "valid" none
                pad = (d * (k - 1)) // 2 if pad == "same" else 0
            return _window(gx, k, _pair(_arg(args, kwargs, 3, "stride", 1)), _pair(pad), d)
        if name in ("max_pool2d", "avg_pool2d", "max_pool2d_with_indices"):
            k = _pair(_arg(args, kwargs, 1, "kernel_size"))
            s = _arg(args, kwargs, 2, "stride", None)
            s = k if s is None or s == [] or s == () else _pair(s)
            d = _pair(_arg(args, kwargs, 4, "dilation", 1)) if name.startswith("max") else 1
            return _window(gx, k, s, _pair(_arg(args, kwargs, 3, "padding", 0)), d)
        if name == "pad":
            pads = _arg(args, kwargs, 1, "pad")
            top = pads[2] if len(pads) >= 4 else pads[0]
            return Geometry(gx.rf, gx.jump, gx.start - top * gx.jump)
        so = _spatial(out)
        same = [(t, g) for t, g in known if _spatial(t) == so]
        rf = max(g.rf for _, g in known)
        if same and so is not None:
            ref = max(same, key=lambda tg: tg[1].rf)[1]
            return Geometry(rf, ref.jump, ref.start)
        si = _spatial(x)
        if si is None or gx.jump is None:  # (N, F) in, (N, F) out: nothing spatial left
            return Geometry(rf, None, gx.start)
        if so is None:  # flatten/linear: every output mixes every position
            g = _window(gx, si[0], 1, 0)
            return Geometry(max(rf, g.rf), None, g.start)
        g = _adaptive(gx, si[0], so[0])  # adaptive pooling and other resamplings
        return Geometry(max(rf, g.rf), g.jump, g.start)


@dataclass(frozen=True)
class LayerInfo:
    """One call of one module in a forward pass.

    ``name``: the ``named_modules()`` path (``path#2`` for a module's second call, as in
    :func:`hooked_outputs`); ``out_shape``: output without the batch axis, (C, H, W) or
    (F,); ``params``: parameters of the module and its children; ``group``: the block it
    belongs to (for grouped pickers); ``depth``: nesting level (0 = a child of the model).
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
        return len(self.out_shape) == 3

    def as_dict(self) -> dict:
        """The CLI's JSON record."""
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
    """The block a layer is shown under: ``layer1.0`` (ResNet), ``blocks.3`` (EfficientNet),
    ``inception3a`` (GoogLeNet), ``features`` (VGG's flat chain), "model" for top-level leaves.
    ``modules``: the model's ``dict(named_modules())``."""
    parts = path.split(".")
    top = modules[parts[0]]
    if len(parts) == 1 and next(top.children(), None) is None:
        return "model"
    if _is_list_like(top) and len(parts) >= 2 and next(modules[".".join(parts[:2])].children(), None) is not None:
        return ".".join(parts[:2])
    return parts[0]


def catalogue_model(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerInfo]:
    """Every module call of one forward pass of zeros shaped ``input_shape`` (1, C, H, W),
    in the order the calls start (a block before its layers).

    The caller owns ``model`` for the duration (use :func:`catalogue` for a shared one).
    """
    tracer = _GeometryTracer()
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
    with hooks(model, every, pre=pre, forward=post):
        x = torch.zeros(input_shape, device=next(model.parameters()).device)
        with torch.inference_mode():
            x = x.clone()
            tracer.set(x, Geometry(1, 1, 0.0))
            with tracer:
                model(x)

    modules = dict(model.named_modules())
    rows: list[LayerInfo] = []
    seen: dict[str, int] = {}
    for i, (path, m) in enumerate(order):
        out = outputs.get(i)
        g = tracer.geo.get(id(out)) if out is not None else None
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


def catalogue(lm: LoadedModel) -> list[LayerInfo]:
    """The layer catalogue of a shared model, for its own input size (see catalogue_model)."""
    spec = lm.preprocess_spec
    with lm.use() as model:
        return catalogue_model(model, (1, spec.channels, spec.size, spec.size))


def find_layer(layers: list[LayerInfo], name: str) -> LayerInfo:
    for layer in layers:
        if layer.name == name:
            return layer
    raise ModelError(f"This model has no layer called {name!r}.")


def unit_box(layer: LayerInfo, row: int, col: int, size: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), inclusive input-pixel bounds of the receptive field of
    unit (row, col) of ``layer``, clipped to a ``size``×``size`` input."""
    if layer.jump is None:
        return 0, 0, size - 1, size - 1
    half = (layer.rf - 1) / 2
    cy, cx = layer.start + row * layer.jump, layer.start + col * layer.jump

    def clip(v: float) -> int:
        return int(min(max(v, 0), size - 1))

    return clip(cy - half), clip(cx - half), clip(cy + half), clip(cx + half)


# ------------------------------------------------------------------ capture for pages
def map_layers(layers: list[LayerInfo], kinds: Iterable[str] = MAP_KINDS) -> list[LayerInfo]:
    """Layers with a (C, H, W) output of the given kinds: what feature-map pages offer."""
    kinds = set(kinds)
    return [layer for layer in layers if layer.spatial and layer.kind in kinds]


def capture_layers(lm: LoadedModel, x: torch.Tensor, layers: list[LayerInfo]) -> dict[str, np.ndarray]:
    """One forward pass; the outputs of ``layers`` (keys: LayerInfo.name) as read-only
    float32 arrays (C, H, W).

    A container's output that is its last child's output is stored once: both names map
    to the same array, so the memory is that of distinct tensors only.
    """
    wanted = {layer.name for layer in layers}
    paths = list(dict.fromkeys(layer.path for layer in layers))
    with lm.use() as model, torch.inference_mode(), hooked_outputs(model, paths) as store:
        model(x.to(lm.device))
        by_storage: dict[tuple, np.ndarray] = {}
        result: dict[str, np.ndarray] = {}
        for key, t in store.items():
            if key not in wanted:
                continue
            ident = (t.data_ptr(), tuple(t.shape), t.stride(), t.storage_offset())
            if ident not in by_storage:
                arr = t[0].float().cpu().numpy()
                arr.flags.writeable = False
                by_storage[ident] = arr
            result[key] = by_storage[ident]
    return result


def captured_bytes(maps: dict[str, np.ndarray]) -> int:
    """Memory held by a capture (arrays shared between names count once)."""
    return sum(a.nbytes for a in {id(a): a for a in maps.values()}.values())
