"""cnnviz.compat against the pinned torch and captum: each private thing it uses still exists
and behaves as compat expects (each failure names the thing an upgrade moved), and no other
module of cnnviz uses a private torch or captum name."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz import compat
from testing.helpers import found_outside


def _op(name: str):
    try:
        return getattr(torch.ops.mkldnn, name)
    except (AttributeError, RuntimeError) as e:
        pytest.fail(f"torch {torch.__version__}: torch.ops.mkldnn.{name} is gone ({e}); see cnnviz/compat.py")


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
@pytest.mark.parametrize(
    "cin, cout, k, stride, padding, dilation, groups, bias, size",
    [
        (3, 8, 3, 1, 1, 1, 1, True, 17),
        (4, 6, 5, 2, 2, 1, 2, False, 16),
        (8, 8, 3, 1, 2, 2, 8, True, 15),  # depthwise, dilated (EfficientNet's blocks)
        (16, 4, 1, 1, 0, 1, 1, True, 7),
    ],
)
def test_reordered_weight_convolution_equals_conv2d(cin, cout, k, stride, padding, dilation, groups, bias, size):
    _op("_reorder_convolution_weight"), _op("_convolution_pointwise")
    g = torch.Generator().manual_seed(cin * cout + k)
    x = torch.randn(2, cin, size, size, generator=g)
    w = torch.randn(cout, cin // groups, k, k, generator=g)
    b = torch.randn(cout, generator=g) if bias else None
    args = ([padding] * 2, [stride] * 2, [dilation] * 2, groups)
    packed = compat.reorder_conv_weight(w, *args, list(x.shape))
    want = F.conv2d(x, w, b, stride, padding, dilation, groups)
    for layout in (torch.contiguous_format, torch.channels_last):
        got = compat.conv_pointwise(x.contiguous(memory_format=layout), packed, b, *args)
        assert got.shape == want.shape, "torch.ops.mkldnn._convolution_pointwise: output shape changed"
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4, msg="mkldnn._convolution_pointwise != conv2d")


@pytest.mark.parametrize(
    "register",
    [
        lambda m: m.register_forward_hook(lambda *a: None),
        lambda m: m.register_forward_pre_hook(lambda *a: None),
        lambda m: m.register_full_backward_hook(lambda *a: None),
        lambda m: m.register_full_backward_pre_hook(lambda *a: None),
        lambda m: m.register_forward_hook(lambda *a: None, with_kwargs=True),
    ],
    ids=["forward", "pre", "backward", "backward_pre", "forward_with_kwargs"],
)
def test_hook_dictionaries_see_each_kind_of_hook(register):
    parent = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    m = parent[0]
    for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
        assert isinstance(getattr(m, attr, None), dict), f"nn.Module.{attr} is no longer a dict"
    assert compat.hook_count(m) == 0 and not compat.has_hooks(m)
    handle = register(m)
    assert compat.hook_count(m) == 1 and compat.has_hooks(m), "a hook is not in nn.Module's hook dictionaries"
    assert compat.hook_count(parent) == 0 and not compat.has_hooks(parent)  # the module itself only
    handle.remove()
    assert compat.hook_count(m) == 0 and not compat.has_hooks(m)


def test_version_counter_counts_in_place_writes_shared_with_detach():
    t = torch.zeros(3)
    v = compat.version(t)
    assert isinstance(v, int), "Tensor._version is not an int"
    t.add_(1)
    assert compat.version(t) > v, "Tensor._version did not grow on an in-place write"
    d = t.detach()  # what LoadedModel's light copies hold: the same counter
    d.mul_(2)
    assert compat.version(t) == compat.version(d) > v + 1, "detach() no longer shares the version counter"
    before = compat.version(t)
    _ = t + 1
    assert compat.version(t) == before, "Tensor._version grew without a write"


@pytest.mark.parametrize(
    "module",
    [nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.BatchNorm2d(4, track_running_stats=False), nn.PReLU()],
    ids=["conv-no-bias", "bn", "bn-no-stats", "prelu"],
)
def test_own_tensors_are_the_modules_parameters_then_buffers(module):
    want = [*module.parameters(recurse=False), *module.buffers(recurse=False)]
    got = compat.own_tensors(module)
    assert [id(t) for t in got] == [id(t) for t in want], "nn.Module._parameters/_buffers changed meaning"
    parent = nn.Sequential(module)
    assert compat.own_tensors(parent) == []  # not the children's


# ------------------------------------------------------------------ no private use elsewhere
LIBRARIES = frozenset({"torch", "torchvision", "captum", "nn", "F", "TF"})
# private attributes of torch objects (modules, tensors) that code reaches on any variable
PRIVATE_ATTRIBUTES = frozenset(
    {"_version", "_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"}
    | {"_parameters", "_buffers", "_modules", "_non_persistent_buffers_set", "_base", "_cdata"}
)


def _private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _chain(node: ast.AST) -> list[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


def private_uses(source: str) -> list[str]:
    """``line: name`` for each private torch/captum module, name or attribute ``source`` uses."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
            parts = node.module.split(".") + [a.name for a in node.names]
            found += [f"{node.lineno}: {node.module}"] if any(map(_private, parts)) else []
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: {a.name}" for a in node.names if any(map(_private, a.name.split(".")))]
        elif isinstance(node, ast.Attribute):
            chain = _chain(node)
            if (chain and chain[0] in LIBRARIES and any(map(_private, chain))) or node.attr in PRIVATE_ATTRIBUTES:
                found.append(f"{node.lineno}: {'.'.join(chain) or node.attr}")
    return sorted(set(found))


def test_no_private_torch_or_captum_name_outside_compat():
    allowed = Path(compat.__file__)
    bad = found_outside(allowed, private_uses)
    assert not bad, f"private torch/captum names outside {allowed.name}: {bad}"
    assert private_uses(allowed.read_text(encoding="utf-8")), "compat itself should be found"


@pytest.mark.parametrize(
    "source",
    [
        "from torch.utils._pytree import tree_leaves",
        "from captum.attr._core.guided_backprop_deconvnet import _register_backward_hook",
        "from captum._utils.common import _format_output",
        "import torch._dynamo",
        "y = torch.ops.mkldnn._convolution_pointwise(x)",
        "n = nn.init._calculate_fan_in_and_fan_out(w)",
        "v = t._version",
        "h = m._forward_hooks",
        "p = m._parameters.values()",
        "c = parent._modules[name]",
    ],
)
def test_the_scan_finds_each_private_use(source):
    assert private_uses(source)


def test_the_scan_leaves_our_own_private_names_alone():
    src = "self._hooks = None\nx = lm._lock\nfrom cnnviz.inside.capture import _MEMOS\nfrom torch.nn import functional as F"
    assert private_uses(src) == []


def test_torchvision_imports_without_torchdynamo_and_roi_align_still_works():
    """compat.import_torchvision keeps TorchDynamo (1.4 s of the app's 4.1 s of imports) out of
    a server's start; torchvision works, and TorchDynamo is whole when something asks for it."""
    code = """
import sys, torch
from cnnviz import compat
compat.import_torchvision()
assert "torchvision" in sys.modules, "torchvision not imported"
assert not [m for m in sys.modules if m.startswith("torch._dynamo")], "TorchDynamo imported"
import torchvision.models, torchvision.ops
ra = sys.modules["torchvision.ops.roi_align"]
x = torch.arange(64.0).reshape(1, 1, 8, 8)
box = torch.tensor([[0, 0.0, 0.0, 3.0, 3.0]])
got = ra._roi_align(x, box, 1.0, 2, 2, 2, True)  # the plain-torch path that asks is_compile_supported
assert torch.allclose(got, ra.roi_align(x, box, 2, aligned=True)), "roi_align differs"
assert ra.is_compile_supported("cpu") is True, "the stand-in did not reach TorchDynamo's own"
import torch._dynamo.utils
assert sys.modules["torch._dynamo.utils"].is_compile_supported is not compat._is_compile_supported
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip().endswith("ok"), (
        "torchvision.ops.roi_align no longer imports only torch._dynamo.utils.is_compile_supported "
        f"as compat.import_torchvision expects: {done.stderr[-2000:]}"
    )


def test_after_import_dynamo_the_first_optimiser_step_imports_nothing():
    """compat.import_dynamo, which the prefork launcher calls, leaves nothing for the first
    optimiser step to import: otherwise a forked process's first feature visualisation or
    training imports TorchDynamo (1.5 s holding the interpreter's lock) in the class's time."""
    code = """
import sys, torch
from cnnviz import compat
compat.import_torchvision()
import torch.optim
assert "torch._dynamo" not in sys.modules, "imported before import_dynamo"
compat.import_dynamo()
before = set(sys.modules)
p = torch.zeros(3, requires_grad=True)
for make in (torch.optim.Adam, torch.optim.SGD):
    opt = make([p], lr=0.1)
    opt.zero_grad()
    (p * p).sum().backward()
    opt.step()
new = sorted(set(sys.modules) - before)
assert not new, f"the first steps imported {new[:10]}"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def test_models_build_on_meta_without_torchdynamo():
    """compat.on_meta: a meta-device build whose init calls normal_ (torchvision's ResNet-18:
    kaiming_normal_) runs torch's Python references without importing TorchDynamo (0.9 s on a
    fresh server); the shapes are the CPU build's, and normal_ on the CPU still draws. The
    default model's cost estimate imports neither TorchDynamo nor sympy: it is on a fresh
    server's first page."""
    code = """
import sys, torch
from cnnviz import compat
compat.import_torchvision()
from cnnviz.models import model_cost
from cnnviz.ui.state import DEFAULT_MODEL
model_cost.estimate(DEFAULT_MODEL)
assert "sympy" not in sys.modules and "torch._dynamo" not in sys.modules, "the default model's estimate imported them"
from torchvision.models import resnet18
meta = compat.on_meta(resnet18)
assert not [m for m in sys.modules if m.startswith("torch._dynamo")], "TorchDynamo imported"
cpu = resnet18()
assert all(p.is_meta for p in meta.parameters())
assert [(k, v.shape) for k, v in meta.state_dict().items()] == [(k, v.shape) for k, v in cpu.state_dict().items()]
with torch.device("meta"):
    t = torch.empty(3, 4).normal_(2.0, 3.0) * 2 + 1
assert t.is_meta and t.shape == (3, 4)
a, b = torch.empty(10000).normal_(2.0, 3.0), torch.empty(10000).normal_(2.0, 3.0)
assert not torch.equal(a, b) and abs(a.mean().item() - 2) < 0.2 and abs(a.std().item() - 3) < 0.2
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip().endswith("ok"), (
        "torch's Python references no longer skip TorchDynamo's import as compat.on_meta expects: "
        f"{done.stderr[-2000:]}"
    )
