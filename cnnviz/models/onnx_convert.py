"""An ONNX graph, checked by :mod:`cnnviz.models.onnx_check`, as an ordinary torch module.

Written here rather than taken from ``onnx2torch``: its 1.5.15 failed on torchvision's
SqueezeNet 1.1 exported by the pinned torch, both ways (the legacy exporter: a KeyError on a
conv bias; the default one: ReduceMean 18 not implemented). Every page of the app hooks
``named_modules()`` and recognises layers by their class, so each node becomes one module,
named after the node (:func:`layer_name`): a Conv is an ``nn.Conv2d``, a Relu an ``nn.ReLU``,
a Gemm an ``nn.Linear``..., and the arithmetic nodes small modules of :mod:`cnnviz.models.onnx_ops`.
:class:`OnnxNet` runs them in the graph's order. The operator set is
:data:`cnnviz.models.onnx_check.ALLOWED_OPS`; an attribute the converter does not handle (a 3-D
conv, an unusual Resize) is refused with a sentence, like any other check.
"""

from __future__ import annotations

import re

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from cnnviz.i18n import _
from cnnviz.models import onnx_ops as ops
from cnnviz.models.onnx_check import LAYER_OPS, OnnxError, OnnxSummary, order, shown
from cnnviz.models.onnx_fold import constant_value


def layer_name(node: onnx.NodeProto, index: int) -> str:
    """A module path for a node, from its ONNX name.

    Its scopes, a scope repeated by the next left out, joined by dots, so that torch's
    exporter's ``/layer1/layer1.0/conv1/Conv`` is ``layer1.0.conv1`` again (the residual
    ``Add`` of that block: ``layer1.0.Add``). Each part a Python identifier that is no
    attribute of ``nn.Module`` (``/eval/Relu``: ``eval_``).

    Args:
        node: the node.
        index: its position, for an unnamed node.

    Returns:
        The path; ``<op>_<index>`` if unnamed.
    """
    parts = [p for p in node.name.split("/") if p]
    parts = [p for i, p in enumerate(parts) if i + 1 == len(parts) or not parts[i + 1].startswith(p + ".")]
    if len(parts) > 1 and node.op_type in LAYER_OPS and parts[-1].startswith(node.op_type):
        parts = parts[:-1]  # the scope names the layer, as in the torch module it came from
    out = []
    for part in ".".join(parts).split("."):
        part = re.sub(r"\W+", "_", part).strip("_")[:60]
        if part:
            out.append(part + "_" if part in _TAKEN else part)
    return ".".join(out[:8]) or f"{node.op_type}_{index}"


def layer_names(nodes: list[onnx.NodeProto]) -> list[str]:
    """The module path of each node: :func:`layer_name`, made unique, and never the path of
    another's block (a leaf inside a leaf).

    Args:
        nodes: the nodes that become modules.

    Returns:
        One path per node, in this order.
    """
    names = [layer_name(node, i) for i, node in enumerate(nodes)]
    blocks = {n.rsplit(".", k)[0] for n in names for k in range(1, n.count(".") + 1)}
    taken: set[str] = set()
    out = []
    for name, node in zip(names, nodes, strict=True):
        base = f"{name}_{node.op_type}" if name in blocks else name
        name, k = base, 2
        while name in taken or name in blocks:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        out.append(name)
    return out


def layer_nodes(nodes: list[onnx.NodeProto], inits: set[str], summary: OnnxSummary) -> list[onnx.NodeProto]:
    """The nodes that become modules: not those that only name a constant (a Constant; an
    Identity of a constant; a Shape; what onnx_fold worked out), which the converter keeps as
    values. Names are given to these alone, so a folded ``/stem/act/Constant`` does not make
    ``stem.act`` a block.

    Args:
        nodes: the graph's nodes, in order.
        inits: the initialisers' names.
        summary: the checked file's summary.

    Returns:
        The kept nodes, in order.
    """
    consts, out = set(inits) | set(summary.folded), []
    for node in nodes:
        if node.op_type in ("Constant", "Shape") or (node.op_type == "Identity" and node.input[0] in consts):
            consts.update(node.output)
        elif not all(o in summary.folded for o in node.output):
            out.append(node)
    return out


def default_layer(nodes: list[onnx.NodeProto], inits: set[str], summary: OnnxSummary) -> str:
    """The last layer with maps (a 4-D output) that Grad-CAM can look at: the last
    activation or conv before the network flattens them.

    Args:
        nodes: the graph's nodes, in order.
        inits: the initialisers' names.
        summary: the checked file's summary.

    Returns:
        Its module path, or "" when there is none.
    """
    kept = layer_nodes(nodes, inits, summary)
    maps = [
        name
        for name, node in zip(layer_names(kept), kept, strict=True)
        if node.op_type in _MAP_OPS and len(summary.shapes[node.output[0]]) == 4
    ]
    return maps[-1] if maps else ""


_RESERVED = ("steps", "consts", "input_name", "output_name", "nhwc")
# names a module of the tree cannot take: OnnxNet's own, and every attribute an nn.Module has
# (its methods, and instance attributes such as "training" that the class does not show)
_TAKEN = frozenset(dir(nn.Module())) | frozenset(_RESERVED)
_MAP_OPS = ("Conv", "Relu", "Clip", "LeakyRelu", "HardSwish", "Sigmoid")


class OnnxNet(nn.Module):
    """The converted graph. ``steps``: (module name, input value names, output value names)
    in an order where every value is made before it is read; ``consts``: value name ->
    buffer name of the initialisers and constants the nodes read as inputs."""

    def __init__(self, input_name: str, output_name: str, nhwc: bool):
        super().__init__()
        self.input_name, self.output_name, self.nhwc = input_name, output_name, nhwc
        self.steps: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        self.consts: dict[str, str] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The app feeds (N, C, H, W); a channels-last graph (Keras) gets it as it expects.
        """Run the graph, node by node.

        Args:
            x: (N, C, H, W) input; a channels-last graph (Keras) gets it as it expects.

        Returns:
            The graph's output, (N, K) logits for a classifier.
        """
        values: dict[str, torch.Tensor | None] = {self.input_name: x.permute(0, 2, 3, 1) if self.nhwc else x}
        for value, buffer in self.consts.items():
            values[value] = getattr(self, buffer)
        values[""] = None  # an optional input left out
        for module, inputs, outputs in self.steps:
            out = self.get_submodule(module)(*(values[n] for n in inputs))
            values[outputs[0]] = out
        return values[self.output_name]


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pair(v, what: str, label: str) -> tuple[int, int]:
    v = list(v)
    if len(v) != 2:
        raise OnnxError(
            _("{label}: only 2-D {what} are converted (one has {n} dimensions).").format(
                label=label, what=what, n=len(v)
            )
        )
    return int(v[0]), int(v[1])


class _Converter:
    def __init__(self, model: onnx.ModelProto, summary: OnnxSummary, label: str):
        self.model, self.summary, self.label = model, summary, label
        self.tensors = {t.name: t for t in model.graph.initializer}
        self.values: dict[str, np.ndarray] = dict(summary.folded)  # constant values known while converting
        self.used_as_weight: set[str] = set()

    def const(self, name: str) -> np.ndarray | None:
        """The value of an initialiser or Constant output, or None if it is computed."""
        if name in self.values:
            return self.values[name]
        if name in self.tensors:
            self.values[name] = numpy_helper.to_array(self.tensors[name])
            return self.values[name]
        return None

    def weight(self, name: str) -> torch.Tensor:
        arr = self.const(name)
        if arr is None:
            raise OnnxError(
                _("{label}: a layer's weights are computed in the graph; only stored weights are read.").format(
                    label=self.label
                )
            )
        self.used_as_weight.add(name)
        return torch.from_numpy(np.array(arr, dtype=np.float32, copy=True))

    def shape(self, value: str) -> tuple[int, ...]:
        return tuple(self.summary.shapes[value])

    def conv(self, node, a) -> nn.Module:
        w = self.weight(node.input[1])
        if w.dim() != 4:
            raise OnnxError(
                _("{label}: only 2-D convolutions are converted (one is {d}-D).").format(
                    label=self.label, d=w.dim() - 2
                )
            )
        out_ch, in_per_group, kh, kw = w.shape
        groups = int(a.get("group", 1))
        pads = ops.pads(a, self.shape(node.input[0]), (kh, kw), self.label)
        symmetric = pads[0] == pads[2] and pads[1] == pads[3]
        conv = nn.Conv2d(
            in_per_group * groups,
            out_ch,
            (kh, kw),
            stride=_pair(a.get("strides", (1, 1)), "strides", self.label),
            padding=(pads[0], pads[1]) if symmetric else 0,
            dilation=_pair(a.get("dilations", (1, 1)), "dilations", self.label),
            groups=groups,
            bias=len(node.input) > 2 and bool(node.input[2]),
        )
        conv.weight.data = w
        if conv.bias is not None:
            conv.bias.data = self.weight(node.input[2])
        return conv if symmetric else ops.PaddedConv(conv, pads)

    def batchnorm(self, node, a) -> nn.Module:
        scale = self.weight(node.input[1])
        cls = nn.BatchNorm2d if len(self.shape(node.input[0])) == 4 else nn.BatchNorm1d
        bn = cls(scale.numel(), eps=float(a.get("epsilon", 1e-5)))
        bn.weight.data, bn.bias.data = scale, self.weight(node.input[2])
        bn.running_mean.data, bn.running_var.data = self.weight(node.input[3]), self.weight(node.input[4])
        return bn

    def clip(self, node, a) -> nn.Module:
        lo, hi = a.get("min", -np.inf), a.get("max", np.inf)  # opset < 11: attributes
        if len(node.input) > 1 and node.input[1]:
            lo = float(self._scalar(node.input[1]))
        if len(node.input) > 2 and node.input[2]:
            hi = float(self._scalar(node.input[2]))
        if lo == 0 and hi == 6:
            return nn.ReLU6()
        if lo == 0 and hi == np.inf:
            return nn.ReLU()
        return nn.Hardtanh(float(lo), float(hi))

    def _scalar(self, name: str) -> np.ndarray:
        v = self.const(name)
        if v is None or v.size != 1:
            raise OnnxError(
                _("{label}: a {name} bound is computed in the graph; only stored ones are read.").format(
                    label=self.label, name=shown(name)
                )
            )
        self.used_as_weight.add(name)
        return v.reshape(())

    def pool(self, node, a) -> nn.Module:
        k = _pair(a["kernel_shape"], _("pooling windows"), self.label)
        stride = _pair(a.get("strides", (1, 1)), "strides", self.label)
        pads = ops.pads(a, self.shape(node.input[0]), k, self.label)
        ceil = bool(a.get("ceil_mode", 0))
        if pads[0] != pads[2] or pads[1] != pads[3] or max(pads) > min(k) // 2:
            raise OnnxError(
                _("{label}: a pooling layer pads unevenly ({pads}), which is not converted.").format(
                    label=self.label, pads=pads
                )
            )
        if node.op_type == "MaxPool":
            if len(node.output) > 1 and node.output[1]:
                raise OnnxError(
                    _("{label}: a MaxPool that outputs its indices is not converted.").format(label=self.label)
                )
            dil = _pair(a.get("dilations", (1, 1)), "dilations", self.label)
            return nn.MaxPool2d(k, stride, (pads[0], pads[1]), dil, ceil_mode=ceil)
        count = bool(a.get("count_include_pad", 0))
        return nn.AvgPool2d(k, stride, (pads[0], pads[1]), ceil_mode=ceil, count_include_pad=count)

    def gemm(self, node, a) -> nn.Module:
        if a.get("transA", 0) or self.const(node.input[1]) is None:
            return ops.gemm(a)
        w = self.weight(node.input[1]) * float(a.get("alpha", 1.0))
        w = w if a.get("transB", 0) else w.t()
        c = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        lin = nn.Linear(w.shape[1], w.shape[0], bias=c is not None)
        lin.weight.data = w.contiguous()
        if c is not None:
            bias = self.weight(node.input[2]) * float(a.get("beta", 1.0))
            lin.bias.data = bias.expand(w.shape[0]).contiguous()
        return lin

    def fold(self, node: onnx.NodeProto) -> bool:
        """Whether ``node`` only names a constant (a Constant, an Identity of a stored tensor:
        torch's exporter shares equal biases that way; the Shape of a value, known from the
        checks; shape arithmetic they folded); its value is then known here and stored once,
        as a buffer, if a layer reads it at run time."""
        if node.op_type == "Constant":
            if (v := constant_value(node)) is None:
                raise OnnxError(
                    _("{label}: a Constant node without a number or tensor value is not converted.").format(
                        label=self.label
                    )
                )
            self.values[node.output[0]] = v
            return True
        if node.op_type == "Identity" and (v := self.const(node.input[0])) is not None:
            self.values[node.output[0]] = v
            return True
        if node.op_type == "Shape":  # of a value whose shape the checks worked out (batch 1)
            dims = self.shape(node.input[0])
            a = _attrs(node)
            self.values[node.output[0]] = np.array(dims[a.get("start", 0) : a.get("end", len(dims))], dtype=np.int64)
            return True
        return all(o in self.values for o in node.output)  # worked out by the checks (onnx_fold)

    def module(self, node: onnx.NodeProto) -> tuple[nn.Module, int]:
        """The module for ``node`` and how many of its inputs it reads at run time."""
        a, op = _attrs(node), node.op_type
        simple = {"Relu": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "HardSwish": nn.Hardswish}
        if op in simple:
            return simple[op](), 1
        if op in ("Identity", "Dropout", "Cast"):  # Cast: only float ones get here (onnx_check.float_cast)
            return nn.Identity(), 1
        if op == "Conv":
            return self.conv(node, a), 1
        if op == "BatchNormalization":
            return self.batchnorm(node, a), 1
        if op == "Clip":
            return self.clip(node, a), 1
        if op == "LeakyRelu":
            return nn.LeakyReLU(float(a.get("alpha", 0.01))), 1
        if op == "HardSigmoid":
            alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
            return (
                (nn.Hardsigmoid(), 1)
                if np.isclose([alpha, beta], [1 / 6, 0.5]).all()
                else (ops.HardSigmoid(alpha, beta), 1)
            )
        if op == "Softmax":
            return nn.Softmax(dim=int(a.get("axis", -1))), 1
        if op in ("MaxPool", "AveragePool"):
            return self.pool(node, a), 1
        if op == "GlobalAveragePool":
            return nn.AdaptiveAvgPool2d(1), 1
        if op == "GlobalMaxPool":
            return nn.AdaptiveMaxPool2d(1), 1
        if op == "Flatten":
            return ops.Flatten(int(a.get("axis", 1))), 1
        if op == "Gemm":
            lin = self.gemm(node, a)
            return lin, 1 if isinstance(lin, nn.Linear) else len(node.input)
        if op == "MatMul" and (b := self.const(node.input[1])) is not None and b.ndim == 2:
            lin = nn.Linear(b.shape[0], b.shape[1], bias=False)
            lin.weight.data = self.weight(node.input[1]).t().contiguous()
            return lin, 1
        if op in ops.BINARY:
            return ops.Binary(op), 2
        return ops.other(node, a, self, self.label)

    def run(self) -> OnnxNet:
        graph = self.model.graph
        inits = {t.name for t in graph.initializer}
        image = next(v.name for v in graph.input if v.name not in inits)
        net = OnnxNet(image, graph.output[0].name, self.summary.nhwc)
        nodes = order(graph, inits | {image}, self.label)
        kept = [node for node in nodes if not self.fold(node)]
        if kept != layer_nodes(nodes, inits, self.summary):  # the names must be default_layer's
            raise OnnxError(_("{label}: its constants could not be told from its layers.").format(label=self.label))
        for name, node in zip(layer_names(kept), kept, strict=True):
            module, n_inputs = self.module(node)
            _add(net, name, module)
            net.steps.append((name, tuple(node.input[:n_inputs]), tuple(node.output)))
        _drop_final_softmax(net)
        read = {n for _, inputs, _ in net.steps for n in inputs}
        for value in sorted(v for v in read if v != image and self.const(v) is not None):
            buffer = "const_" + re.sub(r"\W+", "_", value)[:60]
            while hasattr(net, buffer):
                buffer += "_"
            net.register_buffer(buffer, torch.from_numpy(np.array(self.const(value), copy=True)))
            net.consts[value] = buffer
        return net


def _drop_final_softmax(net: OnnxNet) -> None:
    """A graph that ends in Softmax (every Keras classifier: Dense(..., activation="softmax"))
    gives probabilities; every page takes the model's output for logits, softmaxes it for
    the prediction and explains a class's logit. Its last step is dropped: the network then
    ends in the logits the Softmax read (the probabilities are unchanged)."""
    name, inputs, outputs = net.steps[-1]
    if isinstance(net.get_submodule(name), nn.Softmax) and outputs[0] == net.output_name and len(net.steps) > 1:
        net.steps.pop()
        net.output_name = inputs[0]
        parent, _, leaf = name.rpartition(".")
        delattr(net.get_submodule(parent) if parent else net, leaf)


def _add(net: nn.Module, path: str, module: nn.Module) -> None:
    """``module`` at the dotted ``path`` of ``net``, plain ``nn.Module`` blocks made on the way
    (the pages group layers by them, as torch's own blocks)."""
    *blocks, leaf = path.split(".")
    parent = net
    for b in blocks:
        if b not in dict(parent.named_children()):
            parent.add_module(b, nn.Module())
        parent = parent.get_submodule(b)
    parent.add_module(leaf, module)


def convert(model: onnx.ModelProto, summary: OnnxSummary, label: str) -> OnnxNet:
    """The torch module of a model :func:`cnnviz.models.onnx_check.check` accepted.

    Args:
        model: the parsed model.
        summary: its summary from the check.
        label: how messages name the file.

    Returns:
        The OnnxNet, in eval mode.

    Raises:
        OnnxError: an attribute the converter does not handle.
    """
    return _Converter(model, summary, label).run().eval()
