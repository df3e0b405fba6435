"""The receptive-field tracer: where each unit of each layer looks in the input.

One traced forward pass (:mod:`cnnviz.trace`) gives every tensor a :class:`Geometry`
(receptive-field side, stride in input pixels, centre of unit 0), op by op, so branches
(ResNet skips, Inception) and functional padding are followed as the model runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from cnnviz.trace import Ids, OpTracer, tensors


@dataclass(frozen=True)
class Geometry:
    """Where one output unit looks in the input, along one axis (kernels here are square).

    Attributes:
        rf: side of the theoretical receptive field in input pixels.
        jump: input pixels between neighbouring units (None once the spatial axes are gone,
            e.g. after flatten).
        start: input coordinate of the centre of unit 0 (pixel centres are integers).
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


class GeometryTracer(OpTracer):
    """Follows every torch op of one forward pass and gives each tensor its Geometry.

    Ops that keep the spatial size (elementwise, norm, cat, add) take the largest receptive
    field over their inputs, which is how branches (ResNet skips, Inception) merge.

    Attributes:
        geo: tensor -> its :class:`Geometry` (an :class:`~cnnviz.trace.Ids`), for every
            tensor computed from one that has a Geometry; seed the input's with :meth:`set`.
    """

    def __init__(self) -> None:
        self.geo = Ids()

    def set(self, t: torch.Tensor, g: Geometry) -> None:
        """Give a tensor its Geometry (the input's, before the forward: ``Geometry(1, 1, 0.0)``).

        Args:
            t: the tensor, kept alive as long as this tracer.
            g: where its units look in the input.
        """
        self.geo[t] = g

    def after(self, func, args, kwargs, out) -> None:
        """Give each tensor that a torch call returned its Geometry, by the op's rule.

        Calls on no tensor with a Geometry are ignored.

        Args:
            func: the torch function.
            args: its positional arguments.
            kwargs: its keyword arguments.
            out: its result.
        """
        known = [(t, self.geo.get(t)) for t in tensors(args) if t in self.geo]
        if not known:
            return
        x, gx = known[0]
        name = getattr(func, "__name__", "")
        for o in tensors(out if isinstance(out, (tuple, list)) else (out,)):
            self.set(o, self._rule(name, args, kwargs, x, gx, known, o))

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


class Located(Protocol):
    """Anything that says where its units look (a Geometry, a catalogue LayerInfo)."""

    rf: int
    jump: int | None
    start: float


def unit_box(layer: Located, row: int, col: int, size: int) -> tuple[int, int, int, int]:
    """Where one unit of a layer looks in the input.

    Args:
        layer: where the layer's units look (a :class:`Geometry`, a catalogue ``LayerInfo``).
        row: the unit's row in the layer's output.
        col: the unit's column.
        size: the input's side in pixels (it is square).

    Returns:
        (top, left, bottom, right): inclusive input-pixel bounds of the unit's receptive
        field, clipped to the ``size``×``size`` input; the whole input for a layer without
        spatial axes (``jump`` None).
    """
    if layer.jump is None:
        return 0, 0, size - 1, size - 1
    half = (layer.rf - 1) / 2
    cy, cx = layer.start + row * layer.jump, layer.start + col * layer.jump

    def clip(v: float) -> int:
        return int(min(max(v, 0), size - 1))

    return clip(cy - half), clip(cx - half), clip(cy + half), clip(cx + half)
