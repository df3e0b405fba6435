"""A faster copy of a model for forwards that read layer outputs but never a folded conv's:
each eval-mode BatchNorm folded into the conv that feeds it (the BatchNorm becomes an
``nn.Identity`` of the same name, whose output is the old BatchNorm's), weights in
channels_last (oneDNN's fast layout on CPU), and on CPU each conv's weight also kept
reordered once into oneDNN's own blocked layout (:class:`PackedConv2d`), which the plain op
otherwise redoes on every call.

Each of the three saves CPU time on every forward, while outputs differ from the plain
model's by float rounding only. Grad-CAM
(:func:`cnnviz.explain.core.layer_acts_and_grads`) and the prediction
(:func:`cnnviz.inside.predict.predict`) run on it, and feature visualisation on a private one,
unpacked (:func:`cnnviz.channels.featvis.private_copy`); the shared model itself stays as built, since
the Filters page reads conv weights and capture shows BatchNorm outputs.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from cnnviz import compat
from cnnviz.trace import Ids, OpTracer, tensors, trace


@dataclass(frozen=True)
class FastCopy:
    """A faster copy of a model, with what tells when it may stand in for it.

    Attributes:
        model: the faster copy (eval mode, no parameter requires grad).
        folded: the conv layers whose output now includes their BatchNorm (hooking one would
            read the wrong tensor).
        key: :func:`copy_key` of the model it was made from.
    """

    model: nn.Module
    folded: frozenset[str]
    key: tuple


def copy_key(model: nn.Module) -> tuple | None:
    """A key that tells whether a copy made earlier of ``model`` is stale.

    One walk of the tree: it runs on every Grad-CAM.

    Args:
        model: the model a fast copy is made of.

    Returns:
        None when any module carries a hook (a copy would not see hooks added to the model
        later, nor should it carry the ones on it now); else a tuple that changes whenever a
        parameter or buffer is replaced or written in place (each tensor's storage and
        version counter).
    """
    key = []
    for m in model.modules():
        if compat.has_hooks(m):
            return None
        key.extend((t.data_ptr(), compat.version(t)) for t in compat.own_tensors(m))
    return tuple(key)


class _Uses(OpTracer):
    """Counts, per tensor, the torch calls that read it, over one forward."""

    def __init__(self) -> None:
        self.uses = Ids()

    def after(self, func, args, kwargs, out) -> None:
        # a read that makes a tensor is a use; ``x.dim()``, ``x.shape`` (BatchNorm checks) are not
        if tensors(out):
            for a in tensors((args, kwargs)):
                self.uses[a] = self.uses.get(a, 0) + 1


class PackedConv2d(nn.Conv2d):
    """A Conv2d that also keeps its weight reordered for oneDNN (``packed``).

    The packed weight is used when no gradient flows through the call; with one (the input
    requires grad, as after Grad-CAM's layer) it runs as a plain Conv2d. The same output
    within float rounding. The weight must not change after packing: the fast copy is remade
    when its model's does.
    """

    @classmethod
    def pack(cls, conv: nn.Conv2d, input_shape: torch.Size) -> PackedConv2d:
        """A packed copy of ``conv`` that shares its weight and bias.

        Args:
            conv: a float32 Conv2d on the CPU with zero padding given in pixels.
            input_shape: the shape of its input (N, C, H, W), for which oneDNN reorders the
                weight.

        Returns:
            The new layer; its ``packed`` holds the reordered weight.
        """
        c = conv
        shape = (c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding, c.dilation, c.groups)
        new = cls(*shape, c.bias is not None, c.padding_mode, device="meta")  # parameters: conv's own
        new.weight, new.bias = c.weight, c.bias
        new.packed_args = (list(c.padding), list(c.stride), list(c.dilation), c.groups)
        new.packed = compat.reorder_conv_weight(c.weight.detach(), *new.packed_args, list(input_shape))
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution of ``x``: the plain one when a gradient flows, else the packed one.

        Args:
            x: the input, (N, C, H, W) float32.

        Returns:
            The output, (N, out_channels, H', W') float32.
        """
        if torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad):
            return super().forward(x)
        return compat.conv_pointwise(x, self.packed, self.bias, *self.packed_args)


def _packable(conv: nn.Module) -> bool:
    return (
        type(conv) is nn.Conv2d
        and conv.weight.device.type == "cpu"
        and conv.weight.dtype == torch.float32
        and conv.padding_mode == "zeros"
        and not isinstance(conv.padding, str)
        and torch.backends.mkldnn.is_available()
    )


def _conv_bn_pairs(model: nn.Module, example: torch.Tensor) -> tuple[list[tuple[str, str]], dict[str, torch.Size]]:
    """(conv, bn) names where a BatchNorm2d with running statistics reads a Conv2d's output,
    nothing else reads that output, and each runs once per forward - found by running
    ``model`` (a private copy: hooks are put on it) once on ``example``. The models this app
    builds run the same ops for every input, so one forward shows their data flow. Also each
    conv's input shape (its first call's)."""
    calls: Counter[str] = Counter()
    shapes: dict[str, torch.Size] = {}
    conv_out = Ids()  # a conv's output tensor -> the conv's name
    bn_in: dict[str, torch.Tensor] = {}

    def seen(name: str, m: nn.Module, inp, out) -> None:
        calls[name] += 1
        if isinstance(m, nn.Conv2d):
            conv_out[out] = name
            shapes.setdefault(name, inp[0].shape)
        elif inp and isinstance(inp[0], torch.Tensor):
            bn_in[name] = inp[0]

    watched = [
        name
        for name, m in model.named_modules()
        if isinstance(m, nn.Conv2d) or (isinstance(m, nn.BatchNorm2d) and m.running_mean is not None)
    ]
    uses = _Uses()
    with torch.no_grad():
        trace(model, example, on=watched, forward=seen, ops=[uses])
    pairs = []
    for bn, tensor in bn_in.items():
        conv = conv_out.get(tensor)
        if conv and calls[conv] == calls[bn] == 1 and uses.uses.get(tensor) == 1:
            pairs.append((conv, bn))
    return pairs, shapes


def light_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model``'s module tree whose tensors share their storage with ``model``'s.

    Nothing writes a weight in place (shared models are only run, under
    ``LoadedModel.use()``), so copies need not own their weights, whose memory is paid once
    however many replicas and fast copies a big model has.

    Args:
        model: the model to copy.

    Returns:
        The copy: its own modules (hooks, modes), its own ``Parameter`` objects (their own
        ``requires_grad`` and ``.grad``) on ``model``'s storage; other tensors its modules
        keep (a :class:`PackedConv2d`'s ``packed``) are the same objects.
    """
    memo: dict[int, torch.Tensor] = {}
    for t in (*model.parameters(), *model.buffers()):
        d = t.detach()  # the same storage (and version counter: an in-place write stays visible)
        memo[id(t)] = nn.Parameter(d, requires_grad=t.requires_grad) if isinstance(t, nn.Parameter) else d
    for m in model.modules():
        for v in vars(m).values():
            if isinstance(v, torch.Tensor):
                memo.setdefault(id(v), v)
    return copy.deepcopy(model, memo)


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent, _, leaf = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, new)


@torch.inference_mode(False)  # made inside predict's inference_mode, it must still serve Grad-CAM
def make_fast_copy(model: nn.Module, example: torch.Tensor, key: tuple | None = None, *, pack: bool = True) -> FastCopy:
    """A :class:`FastCopy` of ``model`` for inputs like ``example``.

    Args:
        model: the model to copy; it carries no hook.
        example: an input like those the copy will run, (1, C, H, W); one forward on it
            finds the BatchNorms to fold and each conv's input shape.
        key: ``model``'s :func:`copy_key` (None: computed here).
        pack: False: no :class:`PackedConv2d` (for a copy whose every forward needs the
            input's gradient, which the packed op has not).

    Returns:
        The fast copy, the names of its folded convs, and ``key``.
    """
    key = copy_key(model) if key is None else key
    fast = light_copy(model).eval()  # what folding or channels_last changes gets its own tensor below
    folded = []
    pairs, shapes = _conv_bn_pairs(fast, example)
    for conv_name, bn_name in pairs:
        conv, bn = fast.get_submodule(conv_name), fast.get_submodule(bn_name)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):  # not folded under another name
            _replace(fast, conv_name, fuse_conv_bn_eval(conv, bn))
            _replace(fast, bn_name, nn.Identity())
            folded.append(conv_name)
    fast = fast.to(memory_format=torch.channels_last)
    for p in fast.parameters():
        p.requires_grad_(False)
    for name, shape in shapes.items() if pack else ():
        conv = fast.get_submodule(name)
        if _packable(conv):
            _replace(fast, name, PackedConv2d.pack(conv, shape))
    return FastCopy(fast, frozenset(folded), key)
