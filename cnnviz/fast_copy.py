"""A faster copy of a model for forwards that read layer outputs but never a folded conv's:
each eval-mode BatchNorm folded into the conv that feeds it (the BatchNorm becomes an
``nn.Identity`` of the same name, whose output is the old BatchNorm's), weights in
channels_last (oneDNN's fast layout on CPU).

Measured on 1 torch thread (CPU time of one Grad-CAM, median of 20): ResNet-18 55 → 48 ms,
EfficientNet-Lite0 27.5 → 22 ms; outputs differ from the plain model's by float rounding
(≤ 1e-6). Only Grad-CAM uses it (:func:`cnnviz.explain.core.layer_acts_and_grads`): the
shared model itself stays as built, since the Filters page reads conv weights and capture
shows BatchNorm outputs.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass

import torch
from torch import fx, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


@dataclass(frozen=True)
class FastCopy:
    """``model``: the faster copy (eval mode, no parameter requires grad); ``folded``: the
    conv layers whose output now includes their BatchNorm (hooking one would read the wrong
    tensor); ``key``: :func:`copy_key` of the model it was made from."""

    model: nn.Module
    folded: frozenset[str]
    key: tuple


def copy_key(model: nn.Module) -> tuple | None:
    """None when any module carries a hook (a copy would not see hooks added to the model
    later, nor should it carry the ones on it now); else a key that changes whenever a
    parameter or buffer is replaced or written in place (each tensor's version counter), so a
    copy made earlier is known to be stale. One walk of the tree: it runs on every Grad-CAM."""
    key = []
    for m in model.modules():
        if m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks:
            return None
        key.extend((t.data_ptr(), t._version) for t in (*m._parameters.values(), *m._buffers.values()) if t is not None)
    return tuple(key)


def _conv_bn_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """(conv, bn) names where a BatchNorm2d with running statistics reads a Conv2d's output
    and nothing else reads it. [] when the model cannot be traced symbolically."""
    try:
        graph = fx.symbolic_trace(model).graph
    except Exception:  # data-dependent control flow (a user model): no folding, still channels_last
        return []
    mods = dict(model.named_modules())
    calls = Counter(n.target for n in graph.nodes if n.op == "call_module")
    pairs = []
    for node in graph.nodes:
        bn = mods.get(node.target) if node.op == "call_module" else None
        if not isinstance(bn, nn.BatchNorm2d) or bn.running_mean is None or not node.args:
            continue
        prev = node.args[0]
        conv = mods.get(prev.target) if isinstance(prev, fx.Node) and prev.op == "call_module" else None
        # A module called twice (once without its BatchNorm) cannot be folded.
        if isinstance(conv, nn.Conv2d) and len(prev.users) == 1 and calls[prev.target] == calls[node.target] == 1:
            pairs.append((prev.target, node.target))
    return pairs


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent, _, leaf = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, new)


def make_fast_copy(model: nn.Module, key: tuple | None = None) -> FastCopy:
    """A :class:`FastCopy` of ``model``, which carries no hook; ``key``: its :func:`copy_key`."""
    key = copy_key(model) if key is None else key
    fast = copy.deepcopy(model).eval()
    folded = []
    for conv_name, bn_name in _conv_bn_pairs(fast):
        conv, bn = fast.get_submodule(conv_name), fast.get_submodule(bn_name)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):  # not folded under another name
            _replace(fast, conv_name, fuse_conv_bn_eval(conv, bn))
            _replace(fast, bn_name, nn.Identity())
            folded.append(conv_name)
    fast = fast.to(memory_format=torch.channels_last)
    for p in fast.parameters():
        p.requires_grad_(False)
    return FastCopy(fast, frozenset(folded), key)
