"""The one instrumented forward: every hook and every op tracer of this project is made here.

Activation capture, the layer catalogue and its receptive fields, the dataflow graph,
conv-BatchNorm pairing, progress counting, gradients at a layer and guided backpropagation
all look inside a forward pass through :func:`tracing` (a block during which the caller runs
the model) or :func:`trace` (one forward inside such a block). No other module registers a
hook or defines a ``TorchFunctionMode`` (``tests/unit/test_one_trace.py`` parses
``cnnviz/`` to hold this). The same rules hold for every one of them:

- **Always removed.** A hook left on a shared model fires on every later forward of every
  session, so every handle made here is removed in ``finally``: after success, after an
  error inside the block, and after an error while registering (a bad layer name).
- **Per call.** All state lives in what one call creates (a :class:`Trace`, the caller's
  listeners). The model is held by the caller alone (``LoadedModel.use()``), and a
  ``TorchFunctionMode`` sees the ops of its own thread only.
- **Kept alive.** Op tracers know tensors by ``id()``; an :class:`Ids` map holds every
  tensor it was given until the trace ends, so no id is reused by a new tensor meanwhile.
- **One flattening.** The tensors inside arguments and outputs are :func:`tensors`.

Hook functions take the layer's name first, then PyTorch's usual arguments::

    forward(name, module, inputs, output) -> None | replacement output
    pre(name, module, inputs) -> None | replacement inputs
    backward(name, module, grad_input, grad_output) -> None | replacement grad_input

Names are ``named_modules()`` paths ("" is the model itself), resolved against one dict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnviz.errors import ModelError
from cnnviz.i18n import _

Hook = Callable[..., object]


# ------------------------------------------------------------------ names and tensors
def modules_by_name(model: nn.Module, names: Iterable[str]) -> dict[str, nn.Module]:
    """The submodules of some ``named_modules()`` paths, in the given order.

    Args:
        model: the network.
        names: the paths.

    Returns:
        {name: submodule}.

    Raises:
        ModelError: naming the first unknown path.
    """
    every = dict(model.named_modules())
    found: dict[str, nn.Module] = {}
    for name in names:
        if name not in every:
            raise ModelError(_("This model has no layer called {name}.").format(name=repr(name)))
        found[name] = every[name]
    return found


def resolve(model: nn.Module, name: str) -> nn.Module:
    """The submodule at a ``named_modules()`` path.

    Args:
        model: the network.
        name: the path.

    Returns:
        The submodule.

    Raises:
        ModelError: no such layer.
    """
    return modules_by_name(model, [name])[name]


def leaf_names(model: nn.Module) -> list[str]:
    """Paths of the modules without children (the layers that compute), in module order.

    Args:
        model: the network.

    Returns:
        The paths.
    """
    return [n for n, m in model.named_modules() if n and next(m.children(), None) is None]


def first_tensor(output):
    """A module's output, or the first element of a tuple/list output (GoogLeNet's aux heads,
    LSTM-style returns).

    Args:
        output: what a module returned.

    Returns:
        The output or its first element.
    """
    return output[0] if isinstance(output, (tuple, list)) else output


def tensors(obj) -> list[torch.Tensor]:
    """Every tensor in an object, in order: the one flattening of op arguments and module
    outputs.

    Args:
        obj: a tensor, or lists, tuples (named ones too) and dict values of them, nested.

    Returns:
        The tensors; [] for anything else.
    """
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        obj = tuple(obj.values())
    elif not isinstance(obj, (list, tuple)):
        return []
    found = []
    for o in obj:  # most arguments are tensors or plain numbers: no call for those
        if isinstance(o, torch.Tensor):
            found.append(o)
        elif isinstance(o, (list, tuple, dict)):
            found += tensors(o)
    return found


class Ids:
    """A map keyed by tensors' identity that keeps every key alive as long as the map lives:
    during a forward a freed tensor's ``id`` is soon reused, and a new tensor would inherit
    the old one's value."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[torch.Tensor, object]] = {}

    def __setitem__(self, t: torch.Tensor, value) -> None:
        self._by_id[id(t)] = (t, value)

    def __contains__(self, t: torch.Tensor) -> bool:
        return id(t) in self._by_id

    def get(self, t: torch.Tensor, default=None):
        """The value kept for a tensor.

        Args:
            t: the tensor (by identity).
            default: returned when it has none.

        Returns:
            Its value, or ``default``.
        """
        hit = self._by_id.get(id(t))
        return default if hit is None else hit[1]


# ------------------------------------------------------------------ hooks and op tracers
@contextmanager
def hooks(
    model: nn.Module,
    names: Iterable[str],
    *,
    forward: Hook | None = None,
    pre: Hook | None = None,
    backward: Hook | None = None,
) -> Iterator[dict[str, nn.Module]]:
    """Hooks on some modules for the duration of the block.

    Each given function is registered on every named module with the name bound as its first
    argument. On exit - normal or by exception - every handle registered here is removed; hooks
    registered by others are left alone.

    Args:
        model: the network.
        names: ``named_modules()`` paths.
        forward: a forward hook ``(name, module, inputs, output)``, or None.
        pre: a forward-pre hook ``(name, module, inputs)``, or None.
        backward: a full backward hook ``(name, module, grad_in, grad_out)``, or None.

    Yields:
        {name: module}.

    Raises:
        ModelError: an unknown path.
    """
    modules = modules_by_name(model, names)
    handles = []
    try:
        for name, module in modules.items():
            if pre is not None:
                handles.append(module.register_forward_pre_hook(partial(pre, name)))
            if forward is not None:
                handles.append(module.register_forward_hook(partial(forward, name)))
            if backward is not None:
                handles.append(module.register_full_backward_hook(partial(backward, name)))
        yield modules
    finally:
        for h in handles:
            h.remove()


class OpTracer:
    """Told about every torch call of a traced forward on this thread, functional ones
    included (``out += identity``, ``torch.cat``, ``F.relu``). Override either method."""

    def before(self, func, args: tuple, kwargs: dict) -> None:
        """Called before a torch call runs.

        Args:
            func: the torch function.
            args: its positional arguments.
            kwargs: its keyword arguments.
        """

    def after(self, func, args: tuple, kwargs: dict, out) -> None:
        """Called with a torch call's result.

        Args:
            func: the torch function.
            args: its positional arguments.
            kwargs: its keyword arguments.
            out: its result.
        """


class _Ops(TorchFunctionMode):
    """The one ``TorchFunctionMode``: hands each call to the tracers. Thread-local, unlike
    ``torch.fx`` tracing, which patches ``nn.Module.__call__`` for every thread at once."""

    def __init__(self, tracers: Iterable[OpTracer]) -> None:
        super().__init__()
        tracers = list(tracers)
        self.before = [t.before for t in tracers if type(t).before is not OpTracer.before]
        self.after = [t.after for t in tracers if type(t).after is not OpTracer.after]

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for f in self.before:
            f(func, args, kwargs)
        out = func(*args, **kwargs)
        for f in self.after:
            f(func, args, kwargs, out)
        return out


_INPLACE_DUNDERS = frozenset(
    f"__i{op}__" for op in ["add", "sub", "mul", "truediv", "floordiv", "pow", "and", "or", "xor"]
) | {"__setitem__"}


def _writes_in_place(func, args, kwargs) -> list[torch.Tensor]:
    """The tensors an op is about to overwrite: ``x.add_(...)``, ``x += y``, ``F.relu(x, inplace=True)``, ``out=``."""
    name = getattr(func, "__name__", "")
    hit = name in _INPLACE_DUNDERS or (name.endswith("_") and not name.endswith("__")) or kwargs.get("inplace") is True
    targets = [args[0]] if hit and args and isinstance(args[0], torch.Tensor) else []
    out = kwargs.get("out")
    if isinstance(out, torch.Tensor):
        targets.append(out)
    return targets


class _CopyBeforeWrite(OpTracer):
    """Copies a kept output before an op overwrites it in place.

    ResNet's ``out += identity`` and GoogLeNet's ``F.relu(x, inplace=True)`` write into the
    tensor a hook has just recorded; without this, ``bn2`` would read as ``bn2 + identity``.
    Only the records that actually get overwritten are copied.
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def before(self, func, args, kwargs) -> None:
        store = self.trace.outputs
        for t in _writes_in_place(func, args, kwargs):
            ptr = t.data_ptr()
            for key, v in store.items():
                if v.data_ptr() == ptr:  # our record aliases the memory about to change
                    store[key] = v.clone()
                    self.trace.overwritten.add(key.partition("#")[0])


# ------------------------------------------------------------------ the traced forward
class StopForward(Exception):
    """Raised out of a traced forward once every output in ``stop_after`` is kept: the rest of
    the forward is not needed (a page showing an early layer pays for the layers up to it)."""


@dataclass
class Trace:
    """What a traced forward recorded; filled while the model runs.

    ``outputs``: detached output (first tensor of a tuple) of each call of a ``keep`` layer,
    keyed ``path``, ``path#2``, ``path#3``... per call. ``leaves``: per ``grad_at`` layer, its
    first call's output as a tensor that requires grad (``autograd.grad`` at it).
    ``overwritten``: ``keep`` paths whose output the model later wrote over in place (seen
    only with ``in_place=None``). ``modules``: {path: module} for ``on``. ``output``: the
    model's return value (:func:`trace`; None when stopped early)."""

    outputs: dict[str, torch.Tensor] = field(default_factory=dict)
    leaves: dict[str, torch.Tensor] = field(default_factory=dict)
    overwritten: set[str] = field(default_factory=set)
    modules: dict[str, nn.Module] = field(default_factory=dict)
    output: object = None


def _keeper(t: Trace, clone: set[str], stop_after: set[str] | None) -> Hook:
    def keep(name: str, _module, _inputs, output) -> None:
        out = first_tensor(output)
        if not isinstance(out, torch.Tensor):
            return
        key, n = name, 1
        while key in t.outputs:
            n += 1
            key = f"{name}#{n}"
        t.outputs[key] = out.detach().clone() if name in clone else out.detach()
        if stop_after is not None and stop_after <= t.outputs.keys():
            raise StopForward

    return keep


def _leaf_maker(t: Trace) -> Hook:
    # Parameters do not require grad, so the first hooked output is made a leaf that does:
    # gradients then flow back only as far as the earliest requested layer.
    def leaf(name: str, _module, _inputs, output):
        out = first_tensor(output)
        if name in t.leaves:
            return None
        if not out.requires_grad:
            t.leaves[name] = out.detach().requires_grad_()
            # The rest of the forward builds on a copy of this leaf: an in-place op after the
            # layer (ResNet's `out += identity` after bn2, an inplace ReLU) may not write a leaf.
            return t.leaves[name].clone()
        t.leaves[name] = out
        return None

    return leaf


@contextmanager
def tracing(
    model: nn.Module,
    *,
    keep: Iterable[str] = (),
    in_place: set[str] | None = frozenset(),
    stop_after: Iterable[str] | None = None,
    grad_at: Iterable[str] = (),
    on: Iterable[str] = (),
    pre: Hook | None = None,
    forward: Hook | None = None,
    ops: Iterable[OpTracer] = (),
) -> Iterator[Trace]:
    """Instruments ``model`` for the block; the caller runs it (once or many times).

    Every hook is removed and every tracer stopped on exit.

    Args:
        model: the network.
        keep: layer paths whose outputs go to ``Trace.outputs`` (every call).
        in_place: the ``keep`` paths whose outputs the model overwrites in place (copied when
            kept); None when not known: every op is then watched and a record copied just
            before a write (slower), and the paths found go to ``Trace.overwritten``.
        stop_after: ``Trace.outputs`` keys; once all are kept, :class:`StopForward` is raised
            out of the forward (:func:`trace` catches it).
        grad_at: layer paths whose first output becomes a ``Trace.leaves`` tensor.
        on: paths of the modules the hook functions go on.
        pre: a forward-pre hook (name first) on the modules ``on``.
        forward: a forward hook (name first) on the modules ``on``.
        ops: tracers told about every torch call.

    Yields:
        The :class:`Trace`, filled while the model runs.
    """
    t = Trace()
    tracers = list(ops)
    if in_place is None:
        tracers.append(_CopyBeforeWrite(t))
    stop = None if stop_after is None else set(stop_after)
    with ExitStack() as stack:
        keep = list(keep)
        if keep:
            stack.enter_context(hooks(model, keep, forward=_keeper(t, set(in_place or ()), stop)))
        if grad_at:
            stack.enter_context(hooks(model, grad_at, forward=_leaf_maker(t)))
        if pre is not None or forward is not None:
            t.modules = stack.enter_context(hooks(model, on, pre=pre, forward=forward))
        if tracers:
            stack.enter_context(_Ops(tracers))
        yield t


def trace(model: nn.Module, x: torch.Tensor, **kwargs) -> Trace:
    """One forward under :func:`tracing`.

    Args:
        model: the network.
        x: its input, e.g. (1, C, H, W).
        **kwargs: :func:`tracing`'s keyword arguments.

    Returns:
        The :class:`Trace`; ``output`` is ``model(x)``, or None for a forward stopped by
        ``stop_after``.
    """
    with tracing(model, **kwargs) as t, suppress(StopForward):
        t.output = model(x)
    return t


# ------------------------------------------------------------------ guided backpropagation
GUIDED = (nn.ReLU, nn.ReLU6)


@contextmanager
def guided_relus(model: nn.Module) -> Iterator[None]:
    """Guided backpropagation's rule on every ``nn.ReLU`` and ``nn.ReLU6`` of a model for the
    block: the gradient a unit passes back to its input is clamped at 0 (Springenberg et al.).

    Done as captum's ``GuidedBackprop`` does it for ``nn.ReLU``, so its numbers are captum's: a
    hook on the module's input tensor, the module given a copy (an in-place ReLU then writes
    the copy; a full backward hook refuses in-place modules). ReLU6 takes the same rule
    (EfficientNet, MobileNet), which captum leaves out. Functional ReLUs are not guided.

    Args:
        model: the network.

    Yields:
        None, with the rule in place.
    """
    seen: dict[str, bool] = {}  # per module: a gradient reached its output (captum's rule)

    def pre(name: str, _module, inputs):
        def guide(grad: torch.Tensor):
            return F.relu(grad) if seen.get(name) else None

        (x,) = inputs
        x.register_hook(guide)
        return x.clone()

    def post(name: str, _module, _inputs, output) -> None:
        def mark(_grad: torch.Tensor) -> None:
            seen[name] = True

        first_tensor(output).register_hook(mark)

    names = [n for n, m in model.named_modules() if isinstance(m, GUIDED)]
    with hooks(model, names, pre=pre, forward=post):
        yield
