"""trace: the one module that hooks a model - hooks(), tracing()/trace(), op tracers, guided rule."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
import torch
from torch import nn

from cnnviz.errors import ModelError
from cnnviz.trace import Ids, OpTracer, hooks, leaf_names, modules_by_name, resolve, tensors, trace, tracing
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
        assert hook_count(model[0]) == 2
    assert hook_count(model[0]) == 1
    theirs.remove()
    assert hook_count(model) == 0


def test_names_resolve_in_given_order_and_leaves_are_the_computing_layers():
    model = net()
    assert list(modules_by_name(model, ["2.1", "0"])) == ["2.1", "0"]
    assert leaf_names(model) == ["0", "1", "2.0", "2.1"]


# ------------------------------------------------------------------ tracing() and trace()
class _Twice(nn.Module):
    """One ReLU module run twice; its second output is then written in place."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(4, 4)
        self.act = nn.ReLU()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        a = self.act(self.lin(x))
        b = self.act(a - 0.1)
        b += 5  # overwrites the tensor the second call of act returned
        return self.head(b)


def test_tensors_is_one_flattening_in_order():
    a, b, c, d = (torch.full((1,), float(i)) for i in range(4))
    got = tensors((a, [b, (c, 3)], {"k": d, "n": None}, "s"))
    assert [id(t) for t in got] == [id(a), id(b), id(c), id(d)]
    mx = torch.tensor([[1.0, 5.0]]).max(dim=1)  # a torch.return_types structseq
    assert [t.tolist() for t in tensors(mx)] == [[5.0], [1]]


def test_ids_keep_their_tensors_alive_until_dropped():
    ids = Ids()
    refs = []
    for i in range(50):
        t = torch.zeros(1)
        ids[t] = i
        refs.append(weakref.ref(t))
    del t
    assert all(r() is not None for r in refs)  # so no id was handed to a later tensor
    assert [ids.get(r()) for r in refs] == list(range(50))
    del ids
    gc.collect()
    assert all(r() is None for r in refs)


def test_keep_records_every_call_as_returned_even_when_written_in_place():
    model = _Twice().eval()
    x = torch.randn(3, 4)
    a = torch.relu(model.lin(x))
    want = {"act": a, "act#2": torch.relu(a - 0.1)}
    guarded = trace(model, x, keep=["act"], in_place=None)
    assert guarded.overwritten == {"act"}
    for told in (guarded, trace(model, x, keep=["act"], in_place={"act"})):
        assert told.outputs.keys() == want.keys()
        for k, v in want.items():
            torch.testing.assert_close(told.outputs[k], v)
        torch.testing.assert_close(told.output, model(x))
    unguarded = trace(model, x, keep=["act"])  # nothing said about writes: the record changes
    torch.testing.assert_close(unguarded.outputs["act#2"], want["act#2"] + 5)
    assert hook_count(model) == 0


def test_stop_after_ends_the_forward_at_the_last_wanted_output():
    model = _Twice().eval()
    runs: list[str] = []
    t = trace(model, torch.randn(1, 4), keep=["lin", "act"], stop_after=["act"], on=["head"], forward=runs.append)
    assert t.output is None and set(t.outputs) == {"lin", "act"} and runs == []
    assert hook_count(model) == 0


def test_grad_at_gives_the_gradient_at_the_layer_written_in_place_after():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True), nn.Linear(4, 2)).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.randn(2, 4)
    with torch.enable_grad():
        t = trace(model, x, grad_at=["0"])
        (g,) = torch.autograd.grad(t.output.sum(), t.leaves["0"])
    z = model[0](x)  # by hand: d sum(W2 relu(z) + b2) / dz = (sum of W2's rows) where z > 0
    torch.testing.assert_close(g, model[2].weight.sum(0).expand(2, 4) * (z > 0))
    torch.testing.assert_close(t.leaves["0"].detach(), z)  # the leaf kept its value: ReLU wrote a copy
    assert hook_count(model) == 0


class _Count(OpTracer):
    def __init__(self) -> None:
        self.names: list[str] = []

    def after(self, func, args, kwargs, out) -> None:
        self.names.append(getattr(func, "__name__", "?"))


def test_op_tracers_see_their_own_thread_only_and_stop_on_error():
    count = _Count()
    inside, done = threading.Event(), threading.Event()

    def other() -> None:
        inside.wait(5)
        for _ in range(20):
            torch.add(torch.ones(2), 1)
        done.set()

    th = threading.Thread(target=other)
    th.start()
    with pytest.raises(RuntimeError, match="boom"), tracing(nn.Linear(1, 1), ops=[count]):
        inside.set()
        done.wait(5)
        torch.mul(torch.ones(2), 2)
        raise RuntimeError("boom")
    th.join()
    assert count.names == ["ones", "mul"]
    torch.add(torch.ones(1), 1)
    assert count.names == ["ones", "mul"]  # the tracer is gone after the error
