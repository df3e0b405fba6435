"""ReLUs whose gradient is redirected while a feature visualisation starts (``cnnviz.channels.featvis``),
so that a channel dead at the start still gets a gradient; swapped into a private copy of a model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _RedirectedReLU(torch.autograd.Function):
    """ReLU (or ReLU6 with ``top=6``) whose gradient is "redirected" when it would be zero.

    A channel that is negative everywhere at the start gets no gradient through a plain
    ReLU and would stay black. As in Lucid, when no gradient passes for a batch item, the
    gradient goes through anyway, except where it would push the input further out of range.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, top: float | None) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.top = top
        return x.clamp(0, top)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        inside = x > 0 if ctx.top is None else (x > 0) & (x < ctx.top)
        plain = grad * inside
        alive = plain.flatten(1).abs().amax(1) > 0  # (B,)
        if bool(alive.all()):  # the usual case: the plain ReLU gradient
            return plain, None
        pushes_out = (x < 0) & (grad > 0)  # grad is of a loss to minimise: > 0 lowers x
        if ctx.top is not None:
            pushes_out |= (x > ctx.top) & (grad < 0)
        redirected = grad.masked_fill(pushes_out, 0)
        return torch.where(alive.view(-1, *[1] * (x.ndim - 1)), plain, redirected), None


class RedirectedReLU(nn.Module):
    """nn.ReLU (``top=None``) or nn.ReLU6 (``top=6``); gradients redirected while ``redirect``.

    Args:
        top: the upper clamp (6.0 for ReLU6), or None for a plain ReLU.
    """

    def __init__(self, top: float | None = None):
        super().__init__()
        self.top = top
        self.redirect = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clamp ``x`` to [0, ``top``]; its gradient redirected while ``redirect`` is on.

        Args:
            x: the input, any shape with the batch first (B, ...).

        Returns:
            The activation, shaped and typed like ``x``.
        """
        if self.redirect:
            return _RedirectedReLU.apply(x, self.top)
        return F.relu(x) if self.top is None else F.hardtanh(x, 0.0, self.top)  # native: fast backward


def set_redirect(model: nn.Module, on: bool) -> None:
    """Switch the gradient redirection of every :class:`RedirectedReLU` of ``model``.

    Args:
        model: a model whose ReLUs :func:`redirect_relus` swapped.
        on: True: redirected gradients; False: the plain (native, faster) ReLU's.
    """
    for m in model.modules():
        if isinstance(m, RedirectedReLU):
            m.redirect = on


def redirect_relus(model: nn.Module) -> nn.Module:
    """Swap every nn.ReLU / nn.ReLU6 module of ``model`` for a :class:`RedirectedReLU`.

    Names stay the same, so layer paths and hooks still find them.

    Args:
        model: a private copy of a model; it is changed in place.

    Returns:
        ``model`` itself.
    """
    for name, m in list(model.named_modules()):
        if type(m) in (nn.ReLU, nn.ReLU6):
            parent, _, leaf = name.rpartition(".")
            owner = model.get_submodule(parent) if parent else model
            setattr(owner, leaf, RedirectedReLU(6.0 if type(m) is nn.ReLU6 else None))
    return model
