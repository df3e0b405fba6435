"""One traced forward: no module of cnnviz but cnnviz.trace registers a hook or defines an op
tracer (a ``TorchFunctionMode`` / ``TorchDispatchMode``), so the removal, keep-alive and
per-call rules of that one module hold for every look inside a forward pass."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cnnviz import trace
from testing.helpers import found_outside

# Every way torch offers to hook a module, a tensor or all modules at once, and captum's helper.
HOOK_NAMES = frozenset(
    {
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_backward_hook",
        "_register_backward_hook",
        "register_hook",
        "register_post_accumulate_grad_hook",
        "register_module_forward_hook",
        "register_module_forward_pre_hook",
        "register_module_full_backward_hook",
        "register_module_full_backward_pre_hook",
        "register_module_backward_hook",
    }
)
MODE_NAMES = frozenset({"TorchFunctionMode", "TorchDispatchMode"})


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def offences(source: str) -> list[str]:
    """``line: what`` for every hook registration, mode subclass or reference to either in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, (ast.Name, ast.Attribute)):
            names = [_name(node)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name.rpartition(".")[2] for a in node.names]
        elif isinstance(node, ast.ClassDef):
            names = [_name(b) for b in node.bases]
        found += [f"{node.lineno}: {n}" for n in names if n in HOOK_NAMES or n in MODE_NAMES]
    return sorted(set(found))


def test_only_the_trace_module_hooks_a_model_or_traces_ops():
    allowed = Path(trace.__file__)
    bad = found_outside(allowed, offences)
    assert not bad, f"hooks or op tracers outside {allowed.name}: {bad}"
    assert offences(allowed.read_text(encoding="utf-8")), "the trace module itself should be found hooking"


@pytest.mark.parametrize(
    "source",
    [
        "model.register_forward_hook(f)",
        "m.register_forward_pre_hook(f)",
        "m.register_full_backward_hook(f)",
        "m.register_full_backward_pre_hook(f)",
        "m.register_backward_hook(f)",
        "x.register_hook(f)",
        "torch.nn.modules.module.register_module_forward_hook(f)",
        "from captum._utils.common import _register_backward_hook",
        "hs = _register_backward_hook(m, f, None)",
        "from torch.overrides import TorchFunctionMode",
        "class T(torch.overrides.TorchFunctionMode):\n    pass",
        "class D(TorchDispatchMode):\n    pass",
        "add = getattr(m, 'x') or m.register_forward_hook",
    ],
)
def test_the_scan_finds_each_way_back_in(source):
    assert offences(source)


def test_the_scan_leaves_ordinary_code_alone():
    assert (
        offences("from cnnviz.trace import hooks, tracing\nwith tracing(model, keep=['a']) as t:\n    y = model(x)")
        == []
    )
