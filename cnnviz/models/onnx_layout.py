"""Channels-last graphs (Keras, TensorFlow) made channels-first before they are checked.

Keras's exporter keeps its layers' channels-last layout around each convolution: a Conv
(channels first, as ONNX defines it) is followed by a Transpose to (N, H, W, C), the bias,
batch norm and activation run there, and a Transpose back feeds the next Conv. Converted as
written, those activations are (1, H, W, C) tensors: Feature maps would show H channels of
W×C, and Grad-CAM's default layer (the last ReLU) would weigh rows, not channels.

So a Transpose to channels-last is moved down through the element-wise nodes after it
(unary ones, and Add/Sub/Mul/Div with a per-channel constant or two such values) until a
Transpose back cancels it. The constants get the channels-first shape (C, 1, 1). Where a
channels-last value is read by anything else (a ReduceMean over H and W, a reshape, the
graph's output) a Transpose makes it there, as the file did. The numbers are the same; the
activations the pages show are (N, C, H, W). Untrusted input: this pass only renames and
reshapes what it recognises, leaves every other node as it is, and allocates nothing beyond
a copy of the per-channel constants; the checks (cnnviz.models.onnx_check) run after it.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from cnnviz.models.onnx_check import float_cast

TO_NHWC = [0, 2, 3, 1]
TO_NCHW = [0, 3, 1, 2]
UNARY = frozenset({"Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "HardSwish", "Identity", "Cast"})
BINARY = frozenset({"Add", "Sub", "Mul", "Div"})
_SUFFIX = "__nchw"


def _perm(node: onnx.NodeProto) -> list[int] | None:
    return next((list(a.ints) for a in node.attribute if a.name == "perm"), None)


def _unary(node: onnx.NodeProto) -> bool:
    if node.op_type == "Cast":
        return float_cast(node)
    return node.op_type in UNARY and len(node.input) == 1


def channels_first(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` with its channels-last stretches between Transposes made channels-first (in
    place; returned for chaining). A graph without them comes back unchanged."""
    g = model.graph
    if not any(n.op_type == "Transpose" and _perm(n) == TO_NHWC for n in g.node):
        return model
    inits = {t.name: t for t in g.initializer}
    nchw: dict[str, str] = {}  # a channels-last value -> the channels-first value of its numbers
    alias: dict[str, str] = {}  # a Transpose-back's output -> the channels-first value it equals
    consts: dict[str, str] = {}  # a per-channel constant -> its (C, 1, 1) copy
    added: list[TensorProto] = []
    nodes: list[onnx.NodeProto] = []
    outputs = {o.name for o in g.output}

    def per_channel(name: str) -> str | None:
        t = inits.get(name)
        if t is None or not (len(t.dims) == 1 or (len(t.dims) == 4 and list(t.dims[:3]) == [1, 1, 1])):
            return None
        if name not in consts:
            c = TensorProto()
            c.CopyFrom(t)
            c.name = name + _SUFFIX
            del c.dims[:]
            c.dims.extend([1, t.dims[-1], 1, 1])
            added.append(c)
            consts[name] = c.name
        return consts[name]

    for node in g.node:
        ins = [alias.get(i, i) for i in node.input]
        op = node.op_type
        if op == "Transpose" and _perm(node) == TO_NHWC and len(ins) == 1 and len(node.output) == 1:
            nchw[node.output[0]] = ins[0]
            continue
        if op == "Transpose" and _perm(node) == TO_NCHW and ins[0] in nchw and node.output[0] not in outputs:
            alias[node.output[0]] = nchw[ins[0]]
            continue
        new_ins = None
        if _unary(node) and ins[0] in nchw:
            new_ins = [nchw[ins[0]]]
        elif op in BINARY and len(ins) == 2 and any(i in nchw for i in ins):
            pair = [nchw.get(i) or per_channel(i) for i in ins]
            if all(pair):
                new_ins = pair
        if new_ins is not None and len(node.output) == 1:
            moved = helper.make_node(op, new_ins, [node.output[0] + _SUFFIX], name=node.name)
            moved.attribute.extend(node.attribute)
            nodes.append(moved)
            nchw[node.output[0]] = moved.output[0]
            continue
        kept = onnx.NodeProto()
        kept.CopyFrom(node)
        del kept.input[:]
        kept.input.extend(ins)
        nodes.append(kept)
    read = {i for n in nodes for i in n.input} | outputs
    # channels-last values something still reads as such: made again right after their
    # channels-first twin (shape inference reads the nodes in order)
    back = {first: [] for value, first in nchw.items() if value in read}
    for value, first in nchw.items():
        if value in read:
            back[first].append(helper.make_node("Transpose", [first], [value], perm=TO_NHWC))
    produced = {o for n in nodes for o in n.output}
    ordered = [t for first, ts in back.items() for t in ts if first not in produced]  # of an input
    for n in nodes:
        ordered.append(n)
        for out in n.output:
            ordered.extend(back.get(out, ()))
    del g.node[:]
    g.node.extend(ordered)
    del g.value_info[:]  # shapes the exporter noted for values renamed here; the checks infer them again
    g.initializer.extend(added)
    return model
