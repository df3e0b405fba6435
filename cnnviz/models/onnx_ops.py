"""The small modules :mod:`cnnviz.models.onnx_convert` makes of ONNX nodes that have no torch layer
of their own (arithmetic, reshaping, padding, resizing), and ONNX's padding rules.

Each keeps what the node's attributes and constant inputs say as plain Python values, so
that a converted model copies (``fast_copy.light_copy``) like any other module.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.i18n import _
from cnnviz.models.onnx_check import OnnxError, shown

BINARY = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}


def pads(a: dict, in_shape: tuple[int, ...], kernel: tuple[int, int], label: str) -> list[int]:
    """[top, left, bottom, right] of a Conv or pooling node: its ``pads``, or what
    ``auto_pad`` SAME_UPPER / SAME_LOWER works out for the input's static ``in_shape``."""
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("NOTSET", "VALID"):
        p = [int(v) for v in a.get("pads", (0, 0, 0, 0))] if auto == "NOTSET" else [0, 0, 0, 0]
        if len(p) != 4:
            raise OnnxError(
                _("{label}: only 2-D layers are converted (one pads {n} dimensions).").format(
                    label=label, n=len(p) // 2
                )
            )
        return p
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise OnnxError(
            _("{label}: a layer's auto_pad {auto} is not one ONNX defines.").format(label=label, auto=shown(auto))
        )
    strides, dil = a.get("strides", (1, 1)), a.get("dilations", (1, 1))
    begin, end = [], []
    for size, k, s, d in zip(in_shape[2:], kernel, strides, dil, strict=True):
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        small = total // 2
        begin.append(small if auto == "SAME_UPPER" else total - small)
        end.append(total - begin[-1])
    return [*begin, *end]


class PaddedConv(nn.Module):
    """A conv whose ONNX padding is uneven (TensorFlow's SAME with a stride): zeros first,
    then ``conv`` (an ordinary ``nn.Conv2d``, which the pages find as ``<name>.conv``)."""

    def __init__(self, conv: nn.Conv2d, pads: list[int]):
        super().__init__()
        self.conv, self.pad = conv, (pads[1], pads[3], pads[0], pads[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, self.pad))


class Binary(nn.Module):
    """Add, Sub, Mul or Div of two tensors, with numpy broadcasting (as ONNX's)."""

    def __init__(self, op: str):
        super().__init__()
        self.op = op

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return BINARY[self.op](a, b)

    def extra_repr(self) -> str:
        return self.op


class HardSigmoid(nn.Module):
    def __init__(self, alpha: float, beta: float):
        super().__init__()
        self.alpha, self.beta = alpha, beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.alpha * x + self.beta, 0.0, 1.0)


class Flatten(nn.Module):
    """ONNX Flatten: the dimensions before ``axis`` into one, those after into another."""

    def __init__(self, axis: int):
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        axis = self.axis % x.dim() if x.dim() else 0
        return x.reshape(math.prod(x.shape[:axis]), -1)


class Reshape(nn.Module):
    """Reshape to a stored shape. Exporters write the batch size they were given (1) into it;
    a leading 1 or 0 keeps the batch of the input, so the model runs on batches too."""

    def __init__(self, shape: list[int], allowzero: bool):
        super().__init__()
        self.shape, self.allowzero = shape, allowzero

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = list(self.shape)
        if not self.allowzero:
            shape = [x.shape[i] if v == 0 and i < x.dim() else v for i, v in enumerate(shape)]
        if shape and shape[0] == 1 and -1 in shape[1:]:
            shape[0] = x.shape[0]
        return x.reshape(shape)


class Lambda(nn.Module):
    """A node computed by one torch function with fixed keyword arguments; the subclass
    (:class:`Concat`, :class:`Pad`...) names the node's kind in the app's layer lists."""

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        k, kind = self.kwargs, type(self).__name__
        if kind == "Concat":
            return torch.cat(xs, dim=k["axis"])
        if kind == "Transpose":
            return xs[0].permute(k["perm"])
        if kind == "ReduceMean":
            return xs[0].mean(dim=k["axes"], keepdim=k["keepdims"]) if k["axes"] else xs[0].mean()
        if kind == "Pad":
            return F.pad(xs[0], k["pad"], mode=k["mode"], value=k["value"])
        if kind == "Resize":
            return F.interpolate(xs[0], size=k["size"], scale_factor=k["scale"], mode=k["mode"], **k["extra"])
        if kind == "MatMul":
            return torch.matmul(*xs)
        a, b = xs[0], xs[1]  # GeneralGemm
        a, b = (a.t() if k["transA"] else a), (b.t() if k["transB"] else b)
        out = k["alpha"] * (a @ b)
        return out + k["beta"] * xs[2] if len(xs) > 2 and xs[2] is not None else out


class Concat(Lambda): ...


class Transpose(Lambda): ...


class ReduceMean(Lambda): ...


class Pad(Lambda): ...


class Resize(Lambda): ...


class MatMul(Lambda): ...


class GeneralGemm(Lambda): ...


def gemm(a: dict) -> GeneralGemm:
    """A Gemm whose B is computed in the graph: matrices multiplied at run time."""
    return GeneralGemm(
        alpha=float(a.get("alpha", 1.0)),
        beta=float(a.get("beta", 1.0)),
        transA=bool(a.get("transA", 0)),
        transB=bool(a.get("transB", 0)),
    )


def _ints(conv, node: onnx.NodeProto, i: int, label: str) -> list[int] | None:
    """The integer values of the node's ``i``-th input (a stored constant), None if absent."""
    if len(node.input) <= i or not node.input[i]:
        return None
    v = conv.const(node.input[i])
    if v is None:
        raise OnnxError(
            _("{label}: a {op_type} node's {name} is computed; only stored ones are read.").format(
                label=label, op_type=shown(node.op_type), name=shown(node.input[i])
            )
        )
    conv.used_as_weight.add(node.input[i])
    return [int(x) for x in np.asarray(v).reshape(-1)]


def _resize(node: onnx.NodeProto, a: dict, conv, label: str) -> Lambda:
    mode = a.get("mode", b"nearest").decode()
    coords = a.get("coordinate_transformation_mode", b"half_pixel").decode()
    sizes = _ints(conv, node, 3, label)
    scales = None
    if sizes is None and len(node.input) > 2 and node.input[2]:
        s = conv.const(node.input[2])
        if s is None:
            raise OnnxError(
                _("{label}: a Resize node's scales are computed; only stored ones are read.").format(label=label)
            )
        conv.used_as_weight.add(node.input[2])
        scales = tuple(float(x) for x in np.asarray(s).reshape(-1)[2:])
    if mode == "nearest" and coords == "asymmetric" and a.get("nearest_mode", b"round_prefer_floor") == b"floor":
        return Resize(size=sizes and sizes[2:], scale=scales, mode="nearest", extra={})
    if mode == "linear" and coords in ("half_pixel", "pytorch_half_pixel", "align_corners"):
        extra = {"align_corners": coords == "align_corners"}
        return Resize(size=sizes and sizes[2:], scale=scales, mode="bilinear", extra=extra)
    raise OnnxError(
        _("{label}: a Resize node's mode ({mode}, {coords}) is not converted.").format(
            label=label, mode=shown(mode), coords=shown(coords)
        )
    )


def other(node: onnx.NodeProto, a: dict, conv, label: str) -> tuple[nn.Module, int]:
    """The module of a reshaping, padding, resizing or general node, and how many of its
    inputs it reads at run time (the others are constants it keeps)."""
    op = node.op_type
    if op == "Concat":
        return Concat(axis=int(a["axis"])), len(node.input)
    if op == "Transpose":
        return Transpose(perm=[int(p) for p in a["perm"]]), 1
    if op == "Reshape":
        return Reshape(_ints(conv, node, 1, label) or [], bool(a.get("allowzero", 0))), 1
    if op == "ReduceMean":
        axes = a.get("axes") or _ints(conv, node, 1, label) or []
        return ReduceMean(axes=[int(x) for x in axes], keepdims=bool(a.get("keepdims", 1))), 1
    if op == "Pad":
        p = _ints(conv, node, 1, label) or [int(x) for x in a.get("pads", [])]
        mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}.get(
            a.get("mode", b"constant").decode()
        )
        value = conv.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        half = len(p) // 2
        torch_pad = [x for i in reversed(range(half)) for x in (p[i], p[i + half])]
        if mode is None or (mode != "constant" and any(torch_pad[4:])):
            raise OnnxError(_("{label}: a Pad node's mode or padding is not converted.").format(label=label))
        if mode != "constant":
            torch_pad = torch_pad[:4]  # torch pads only the last two dimensions so
        fill = None if mode != "constant" else float(np.asarray(value).reshape(-1)[0]) if value is not None else 0.0
        return Pad(pad=torch_pad, mode=mode, value=fill), 1
    if op == "Resize":
        return _resize(node, a, conv, label), 1
    if op == "MatMul":
        return MatMul(), 2
    raise OnnxError(_("{label}: the {op} operator is not converted.").format(label=label, op=op))
