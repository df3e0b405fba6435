"""Every private torch name this project relies on, in one place (Streamlit's are in
:mod:`cnnviz.ui.compat`; captum's private helpers are no longer used).

Each is here because no public API does the same at the same speed, and each is checked
against the pinned versions by ``tests/unit/test_compat_torch.py``, which names the thing
that moved when an upgrade breaks one.

- oneDNN's convolution on a weight reordered once (``torch.ops.mkldnn``): the public
  ``F.conv2d`` reorders the weight on every call (a quarter of a ResNet-18 forward on CPU).
- A module's own hook dictionaries: torch has no public way to ask whether a module carries
  hooks, which decides whether a model may be copied (:mod:`cnnviz.models.fast_copy`).
- A module's own parameter and buffer dictionaries, read directly: the public generators
  cost more than the rest of :func:`cnnviz.models.fast_copy.copy_key`, which runs on every Grad-CAM.
- A tensor's version counter: the only sign that a tensor was written in place.
- ``torch._dynamo.utils``, kept out of a server's start (:func:`import_torchvision`):
  torchvision imports it for one function that only its detection ops call, and it pulls in
  all of TorchDynamo with sympy and triton: a third of the app's imports.
- The meta-device ``normal_`` without TorchDynamo (:func:`on_meta`): its meta kernel is a
  Python reference that imports TorchDynamo at its first call, so the first model whose
  cost was estimated on a fresh server paid that import (0.9 s) inside its first page.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

_DYNAMO_UTILS = "torch._dynamo.utils"
_import_lock = threading.Lock()
# the code of torch._disable_dynamo's wrapper (functools.wraps hides it behind the wrapped name)
_DISABLE_WRAPPER = torch._disable_dynamo(lambda: None).__code__
T = TypeVar("T")
_refs_done = threading.Event()


def reorder_conv_weight(
    weight: torch.Tensor,
    padding: list[int],
    stride: list[int],
    dilation: list[int],
    groups: int,
    input_size: list[int],
) -> torch.Tensor:
    """A conv weight reordered into oneDNN's blocked layout (torch's private
    ``mkldnn._reorder_convolution_weight``).

    Args:
        weight: (O, I/groups, kH, kW) float32 on the CPU.
        padding: the conv's padding.
        stride: its stride.
        dilation: its dilation.
        groups: its groups.
        input_size: (N, C, H, W) of the inputs it will see.

    Returns:
        An opaque tensor for :func:`conv_pointwise`.
    """
    return torch.ops.mkldnn._reorder_convolution_weight(weight, padding, stride, dilation, groups, input_size)


def conv_pointwise(
    x: torch.Tensor,
    packed: torch.Tensor,
    bias: torch.Tensor | None,
    padding: list[int],
    stride: list[int],
    dilation: list[int],
    groups: int,
) -> torch.Tensor:
    """``F.conv2d(x, weight, bias, stride, padding, dilation, groups)`` with the weight given as
    :func:`reorder_conv_weight` made it; no fused activation.

    Args:
        x: (N, C, H, W) input.
        packed: the reordered weight.
        bias: (O,) or None.
        padding: the conv's padding.
        stride: its stride.
        dilation: its dilation.
        groups: its groups.

    Returns:
        (N, O, H', W').
    """
    return torch.ops.mkldnn._convolution_pointwise(x, packed, bias, padding, stride, dilation, groups, "none", [], "")


def hook_count(module: nn.Module) -> int:
    """Forward, forward-pre, backward and backward-pre hooks registered on a module itself
    (not its children; not torch's global module hooks).

    Args:
        module: the module.

    Returns:
        Their number.
    """
    m = module
    return len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) + len(m._backward_pre_hooks)


def has_hooks(module: nn.Module) -> bool:
    """Whether a module itself carries any hook (see :func:`hook_count`).

    Args:
        module: the module.

    Returns:
        True when it does.
    """
    m = module
    return bool(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks)


def version(t: torch.Tensor) -> int:
    """A tensor's version counter: it grows with every in-place write to ``t`` (or a tensor
    that shares its version counter: its views, ``t.detach()``).

    Args:
        t: the tensor.

    Returns:
        The counter.
    """
    return t._version


def own_tensors(module: nn.Module) -> list[torch.Tensor]:
    """The parameters, then the buffers, registered on a module itself (not its children).
    ``parameters(recurse=False)`` gives the same, at two to three times the cost.

    Args:
        module: the module.

    Returns:
        The tensors (None entries left out).
    """
    m = module
    return [t for t in (*m._parameters.values(), *m._buffers.values()) if t is not None]


def _is_compile_supported(device_type: str) -> bool:
    """torch._dynamo.utils.is_compile_supported, imported at its first call."""
    from torch._dynamo.utils import is_compile_supported

    return is_compile_supported(device_type)


def import_torchvision() -> None:
    """Import torchvision without TorchDynamo, when nothing has imported either yet.

    ``torchvision.ops.roi_align`` imports ``is_compile_supported`` from ``torch._dynamo.utils``
    at its top, for detection ops this app never runs; that import took 1.4 s of the 4.1 s
    the app's modules take to import on a quiet machine. A stand-in module answers that one
    import during torchvision's own and is removed after it: its function imports the real
    one at its first call, and any later ``import torch._dynamo`` is the real one. If
    torchvision asks the stand-in for anything else, the import is done again the plain way.
    """
    with _import_lock:
        if "torchvision" in sys.modules or _DYNAMO_UTILS in sys.modules:
            import torchvision  # noqa: F401 - already imported, or TorchDynamo already paid for

            return
        stand_in = types.ModuleType(_DYNAMO_UTILS)
        stand_in.is_compile_supported = _is_compile_supported
        sys.modules[_DYNAMO_UTILS] = stand_in
        try:
            import torchvision  # noqa: F401
        except ImportError:  # a torchvision that wants more of it: what it left is dropped, then plainly
            for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
                del sys.modules[name]
        finally:
            if sys.modules.get(_DYNAMO_UTILS) is stand_in:
                del sys.modules[_DYNAMO_UTILS]
        import torchvision  # noqa: F401, F811


def import_dynamo() -> None:
    """Import TorchDynamo now rather than at the first optimiser step.

    ``torch.optim``'s ``step`` imports all of TorchDynamo at its first call (for a graph
    break), with sympy: 1.5 s holding the interpreter's lock and about 150 MB. A server's
    start leaves it out (:func:`import_torchvision`), so a fresh process's first feature
    visualisation or training paid it, and every page run of that process waited (issue 23's
    tabs of jobs, ``bench load``). A launcher that forks the class's processes calls this
    before it forks (:mod:`cnnviz.ui.prefork`): they share it, and no click waits for it.
    """
    import torch._dynamo  # noqa: F401


def _refs_without_dynamo() -> None:
    """Let torch's Python references (``torch._refs``: the meta kernels of ``normal_`` and of
    the arithmetic it does) run without importing TorchDynamo. ``torch._disable_dynamo`` wraps
    each to run outside any ``torch.compile`` trace, and imports TorchDynamo at its first call
    to know how; that import is skipped when the function carries its disabled form, which
    outside a compile (this app never compiles) is the function itself."""
    if _refs_done.is_set():
        return
    import torch._decomp  # noqa: F401 - imported by torch itself; named for its tables

    # the references as modules hold them, and as registered for the meta device (their own objects)
    refs = [m for name, m in sys.modules.items() if name == "torch._refs" or name.startswith("torch._refs.")]
    functions = [f for module in refs for f in vars(module).values()]
    functions += [f for table in torch._decomp.global_decomposition_table.values() for f in table.values()]
    fn_cell = _DISABLE_WRAPPER.co_freevars.index("fn")
    for f in functions:
        while callable(f):
            if getattr(f, "__code__", None) is _DISABLE_WRAPPER:
                f = f.__closure__[fn_cell].cell_contents  # what it runs (its __wrapped__ may differ)
                if getattr(f, "__dynamo_disable", None) is None:
                    setattr(f, "__dynamo_disable", f)  # noqa: B010 - the literal name (no mangling)
            f = getattr(f, "__wrapped__", None)
    _refs_done.set()


def on_meta(build: Callable[[], T]) -> T:
    """``build()`` on torch's meta device (shapes, no memory), without the 0.9 s TorchDynamo
    import that the first ``normal_`` initialiser on that device costs (e.g. ``kaiming_normal_``
    in a model's constructor).

    Args:
        build: makes the module (or anything) from its parameters' shapes.

    Returns:
        What it returned.
    """
    _refs_without_dynamo()
    with torch.device("meta"):
        return build()
