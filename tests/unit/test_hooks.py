"""hooks: the one context manager that registers, yields and always removes hooks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnviz.errors import ModelError
from cnnviz.hooks import hooks, leaf_names, modules_by_name, resolve
from testing.helpers import hook_count


def net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 3)))


def _noop(*_args):
    return None


def test_forward_pre_and_backward_see_what_torch_computes():
    model = net()
    x = torch.randn(1, 1, 6, 6, requires_grad=True)
    seen: dict[str, torch.Tensor] = {}
    calls: list[str] = []

    def fwd(name, _m, _inputs, output):
        seen[name] = output.detach().clone()

    def pre(name, _m, _inputs):
        calls.append(name)

    grads: dict[str, torch.Tensor] = {}

    def bwd(name, _m, _grad_in, grad_out):
        grads[name] = grad_out[0].detach().clone()

    names = ["0", "1", "2.1"]
    with hooks(model, names, forward=fwd, pre=pre, backward=bwd) as mods:
        assert list(mods) == names and mods["2.1"] is model[2][1]
        y = model(x)
        y[0, 1].backward()
    assert calls == names  # pre hooks fire in execution order
    # the recorded outputs are the values a hand-run of the layers gives
    conv = model[0](x)
    torch.testing.assert_close(seen["0"], conv.detach())
    torch.testing.assert_close(seen["1"], conv.relu().detach())
    torch.testing.assert_close(seen["2.1"], y.detach())
    # d y[0,1] / d output of the last layer is the one-hot row
    torch.testing.assert_close(grads["2.1"], torch.tensor([[0.0, 1.0, 0.0]]))
    # at the ReLU's output: autograd's own gradient
    relu_out = model[1](model[0](x))
    (g,) = torch.autograd.grad(model[2](relu_out)[0, 1], relu_out)
    torch.testing.assert_close(grads["1"], g)
    assert hook_count(model) == 0


def test_forward_hook_can_replace_the_output():
    model = net()
    x = torch.randn(1, 1, 6, 6)

    def zero(_name, _m, _i, output):
        return torch.zeros_like(output)

    with hooks(model, ["2.1"], forward=zero):
        assert model(x).abs().sum() == 0
    assert model(x).abs().sum() > 0
    assert hook_count(model) == 0


def test_no_hook_left_after_an_error_inside_the_block():
    model = net()
    every = leaf_names(model)
    with pytest.raises(RuntimeError, match="inside"), hooks(model, every, forward=_noop, pre=_noop, backward=_noop):
        assert hook_count(model) == 3 * 4  # three kinds on four leaves
        raise RuntimeError("inside")
    assert hook_count(model) == 0


def test_no_hook_left_after_an_error_in_a_hook_during_forward():
    model = net()

    def boom(_name, _m, _i, _o):
        raise ValueError("hook failed")

    with pytest.raises(ValueError, match="hook failed"), hooks(model, ["1"], forward=boom):
        model(torch.zeros(1, 1, 6, 6))
    assert hook_count(model) == 0


def test_unknown_layer_is_a_model_error_and_leaves_nothing():
    model = net()
    with pytest.raises(ModelError, match="no layer called 'nope'"), hooks(model, ["0", "nope"], forward=_noop):
        pass
    assert hook_count(model) == 0
    with pytest.raises(ModelError):
        resolve(model, "3")


def test_hooks_of_others_are_left_alone():
    model = net()
    theirs = model[0].register_forward_hook(lambda *a: None)
    with hooks(model, ["0"], forward=_noop):
        assert len(model[0]._forward_hooks) == 2
    assert len(model[0]._forward_hooks) == 1
    theirs.remove()
    assert hook_count(model) == 0


def test_names_resolve_in_given_order_and_leaves_are_the_computing_layers():
    model = net()
    assert list(modules_by_name(model, ["2.1", "0"])) == ["2.1", "0"]
    assert leaf_names(model) == ["0", "1", "2.0", "2.1"]
