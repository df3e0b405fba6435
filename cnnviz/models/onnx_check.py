"""Checking an ONNX file before anything is built from it: an ONNX file is data and stays data.

In this order, each check before the next one costs anything:

* the file's size (at most :data:`MAX_ONNX_BYTES`), then one protobuf parse of its bytes, never
  ``onnx.load`` (which follows external-data paths and reads other files of the server);
* every tensor (initialisers and ``Constant`` attributes): no external data and no sparse
  tensors; its size from ``dims`` × the type's width, before its data is looked at, and the
  data's length must match (an initialiser may not "claim" gigabytes);
* the operators: the default domain only, no functions or subgraphs, every node's type in
  :data:`ALLOWED_OPS` (the converter's, :mod:`cnnviz.models.onnx_convert`);
* the graph: at most :data:`MAX_NODES` nodes, every value produced once, no cycle (nodes are
  put in an order where each follows what it reads), at most :data:`MAX_DEPTH` deep;
* one image input (N, C, H, W) or (N, H, W, C), C = 1 or 3, and one output;
* the budget that sidecars have (:mod:`cnnviz.models.usermodels`): parameters and the activation
  values of one image, from ONNX's shape inference on a copy without the weights' data.

Every refusal is an :class:`OnnxError`, one sentence naming the student's file.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass

import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, helper, numpy_helper, shape_inference

from cnnviz.errors import CheckpointError
from cnnviz.i18n import _, number
from cnnviz.models.onnx_fold import FOLD_ONLY, fold
from cnnviz.models.usermodels import MAX_ACTIVATIONS, MAX_PARAMS, MAX_SIZE

# float32 weights of the largest network the budget allows, and room for the graph itself
MAX_ONNX_BYTES = 4 * MAX_PARAMS + (16 << 20)
MAX_NODES = 4000  # EfficientNet-Lite0 exports as 245 nodes (its pads spelt out), ResNet-18 as 65
MAX_DEPTH = 2000
# nodes that become a torch layer of their own (cnnviz.models.onnx_convert names it after the node)
LAYER_OPS = frozenset(
    {"Conv", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSwish", "Tanh", "MaxPool"}
    | {"AveragePool", "GlobalAveragePool", "Gemm", "Softmax", "Dropout"}
)
# the converter's operator set: the layers, arithmetic and reshaping, and shape arithmetic on
# constants (cnnviz.models.onnx_fold)
ALLOWED_OPS = (
    LAYER_OPS
    | {"HardSigmoid", "Add", "Sub", "Mul", "Div", "GlobalMaxPool", "ReduceMean", "Concat", "Flatten", "Reshape"}
    | {"MatMul", "Pad", "Resize", "Constant", "Identity", "Transpose"}
    | FOLD_ONLY
)
# what each element of a tensor type takes, for the size an initialiser claims
_WIDTH = {TensorProto.FLOAT: 4, TensorProto.DOUBLE: 8, TensorProto.FLOAT16: 2, TensorProto.BFLOAT16: 2}
_WIDTH |= {TensorProto.INT64: 8, TensorProto.INT32: 4, TensorProto.INT8: 1, TensorProto.UINT8: 1, TensorProto.BOOL: 1}
_FLOATS = frozenset({TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16})
_SMALL = 64  # initialisers up to this many elements keep their values for shape inference


def float_cast(node: onnx.NodeProto) -> bool:
    """A Cast to a floating-point type: Keras 3's exporter writes one after nearly every
    layer (float to float). The converted network computes in float32 throughout, so on
    values computed at run time it is converted as an identity."""
    to = next((a.i for a in node.attribute if a.name == "to"), None)
    return node.op_type == "Cast" and to in _FLOATS


def shown(text: str, limit: int = 40) -> str:
    """A name from the file, quoted for a message: cut at ``limit``, and every character but
    letters, digits and ``_ . / : -`` replaced by ``?`` (the app renders messages as markdown:
    a node called ``[x](https://...)`` must not become a link)."""
    return repr(re.sub(r"[^\w./:-]", "?", text[:limit]))


class OnnxError(CheckpointError):
    """An ONNX file refused before anything was built from it (one sentence)."""


@dataclass(frozen=True)
class OnnxSummary:
    """What the checks learnt. ``size``/``channels``: the image side and channels the graph
    takes; ``nhwc``: channels last (Keras/TensorFlow exports); ``params``: parameter values;
    ``conv_bytes``: float32 bytes of the conv weights; ``activations``: values of one image's
    node outputs; ``classes``: the output's width; ``metadata``: ``metadata_props``;
    ``shapes``: value name -> static shape, batch 1 (the converter needs some); ``opset``:
    the file's ONNX version; ``folded``: values worked out from constants (onnx_fold)."""

    size: int
    channels: int
    nhwc: bool
    params: int
    conv_bytes: int
    activations: int
    classes: int
    metadata: dict
    shapes: dict
    opset: int
    folded: dict


def parse(data: bytes, label: str) -> onnx.ModelProto:
    """The ModelProto in ``data`` (its bytes only: no path in it is ever opened)."""
    if len(data) > MAX_ONNX_BYTES:
        raise OnnxError(
            _("{label} is larger than {limit} MB; that is not a model this app can explore.").format(
                label=label, limit=MAX_ONNX_BYTES >> 20
            )
        )
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError, RecursionError) as e:
        raise OnnxError(
            _("{label} is not a readable ONNX model (it may be damaged or another kind of file).").format(label=label)
        ) from e
    if not model.HasField("graph") or not model.graph.node:
        raise OnnxError(_("{label} is not a readable ONNX model (it holds no graph).").format(label=label))
    return model


def _numel(t: TensorProto, label: str) -> int:
    if any(d < 0 for d in t.dims):
        raise OnnxError(_("{label} has a tensor of negative size ({name}).").format(label=label, name=shown(t.name)))
    return math.prod(t.dims)


def check_tensor(t: TensorProto, label: str) -> int:
    """The number of values ``t`` holds, after checking it is inline, of a known type, not
    larger than the budget and that its data has the length its ``dims`` say."""
    if t.data_location == TensorProto.EXTERNAL or len(t.external_data):
        raise OnnxError(
            _("{label} keeps weights in other files (external data); only self-contained files are read.").format(
                label=label
            )
        )
    width = _WIDTH.get(t.data_type)
    if width is None:
        name = TensorProto.DataType.Name(t.data_type) if t.data_type in TensorProto.DataType.values() else t.data_type
        raise OnnxError(
            _("{label} has a tensor of type {name}, which this app does not read.").format(label=label, name=name)
        )
    n = _numel(t, label)
    if n > MAX_PARAMS:
        raise OnnxError(
            _("{label} has a tensor that claims {gb} GB ({name}); at most {limit} M values are allowed.").format(
                label=label, gb=number(n * width / 1e9, 1), name=shown(t.name), limit=f"{MAX_PARAMS / 1e6:.0f}"
            )
        )
    if t.HasField("raw_data"):
        fits = len(t.raw_data) == n * width
    else:  # typed fields: one entry per value (float16, int8, bool: one int32 each)
        fits = len(getattr(t, helper.tensor_dtype_to_field(t.data_type))) == n
    if not fits:
        raise OnnxError(
            _("{label} is damaged: tensor {name} holds other than the {n} values it claims.").format(
                label=label, name=shown(t.name), n=n
            )
        )
    return n


def _check_nodes(graph: onnx.GraphProto, label: str) -> int:
    """The values the nodes' Constant tensors hold, after checking every node's operator."""
    values = 0
    if len(graph.node) > MAX_NODES:
        raise OnnxError(
            _("{label} has {n} nodes; at most {max_nodes} are allowed.").format(
                label=label, n=len(graph.node), max_nodes=MAX_NODES
            )
        )
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in ALLOWED_OPS:
            op = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
            raise OnnxError(
                _(
                    "{label} uses the operator {op}, which this app does not convert (it reads convolutional "
                    "networks: Conv, BatchNormalization, pooling, activations, Gemm...)."
                ).format(label=label, op=shown(op))
            )
        for a in node.attribute:
            if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) or a.HasField("g"):
                raise OnnxError(
                    _("{label} has a node with a subgraph; only plain feed-forward graphs are read.").format(
                        label=label
                    )
                )
            if a.HasField("t"):
                values += check_tensor(a.t, label)
            if a.HasField("sparse_tensor") or len(a.tensors) or len(a.sparse_tensors):
                raise OnnxError(
                    _("{label} has a node attribute this app does not read ({name}).").format(
                        label=label, name=shown(a.name)
                    )
                )
    return values


def order(graph: onnx.GraphProto, known: set[str], label: str) -> list[onnx.NodeProto]:
    """The nodes in an order where each comes after those that produce its inputs (Kahn's
    algorithm); OnnxError on a cycle, a value produced twice or read but never produced,
    or a graph deeper than MAX_DEPTH."""
    producer: dict[str, int] = {}
    for i, node in enumerate(graph.node):
        for out in node.output:
            if out in producer or out in known:
                raise OnnxError(
                    _("{label} is malformed: the value {out} is produced twice.").format(label=label, out=shown(out))
                )
            if out:
                producer[out] = i
    waiting = [0] * len(graph.node)
    readers: list[list[int]] = [[] for _ in graph.node]
    for i, node in enumerate(graph.node):
        for name in {n for n in node.input if n}:
            if name in producer:
                waiting[i] += 1
                readers[producer[name]].append(i)
            elif name not in known:
                raise OnnxError(
                    _("{label} is malformed: a node reads {name}, which nothing produces.").format(
                        label=label, name=shown(name)
                    )
                )
    depth = [1] * len(graph.node)
    # the lowest index first: a valid file lists its nodes in order already, and keeps it
    ready = [i for i, w in enumerate(waiting) if w == 0]
    done: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        done.append(i)
        for j in readers[i]:
            depth[j] = max(depth[j], depth[i] + 1)
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    if len(done) < len(graph.node):
        raise OnnxError(_("{label} has a cycle in its graph; only feed-forward networks are read.").format(label=label))
    if max(depth) > MAX_DEPTH:
        raise OnnxError(
            _("{label} is {depth} layers deep; at most {limit} are allowed.").format(
                label=label, depth=max(depth), limit=MAX_DEPTH
            )
        )
    return [graph.node[i] for i in done]


def _image_input(model: onnx.ModelProto, inits: set[str], label: str, meta: dict) -> tuple[str, list[int], bool]:
    inputs = [v for v in model.graph.input if v.name not in inits]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        raise OnnxError(
            _("{label} must take one image and give one output (it has {n} and {n2}).").format(
                label=label, n=len(inputs), n2=len(model.graph.output)
            )
        )
    v = inputs[0]
    dims = [d.dim_value if d.HasField("dim_value") else 0 for d in v.type.tensor_type.shape.dim]
    if len(dims) != 4 or v.type.tensor_type.elem_type != TensorProto.FLOAT:
        raise OnnxError(
            _("{label} does not take an image: its input is not a 4-D float tensor (N, C, H, W).").format(label=label)
        )
    nhwc = dims[3] in (1, 3) and dims[1] not in (1, 3)
    channels, h, w = (dims[3], dims[1], dims[2]) if nhwc else (dims[1], dims[2], dims[3])
    side = h or w or _meta_int(meta, "cnnviz.size", 224, label)
    if channels not in (1, 3) or (h and w and h != w) or not 8 <= side <= MAX_SIZE:
        raise OnnxError(
            _(
                "{label} takes {c}×{h}×{w} inputs; this app feeds square images of 1 or 3 channels, 8 to {max_size} "
                "pixels wide."
            ).format(label=label, c=channels or "?", h=h or "?", w=w or "?", max_size=MAX_SIZE)
        )
    return v.name, [1, side, side, channels] if nhwc else [1, channels, side, side], nhwc


def _meta_int(meta: dict, key: str, default: int, label: str) -> int:
    try:
        return int(meta.get(key, default))
    except ValueError:
        raise OnnxError(_("{label}: its metadata {key} must be a whole number.").format(label=label, key=key)) from None


def _light(model: onnx.ModelProto, input_name: str, input_dims: list[int], folded: dict) -> onnx.ModelProto:
    """A copy for shape inference: the graph without the weights' data (large initialisers
    become inputs of their shape), the image input of batch 1, ``folded`` nodes replaced by
    their values."""
    light = onnx.ModelProto()
    light.opset_import.extend(model.opset_import)
    light.ir_version = model.ir_version
    g = light.graph
    g.node.extend(n for n in model.graph.node if not all(o in folded for o in n.output))
    g.initializer.extend(numpy_helper.from_array(v, name) for name, v in folded.items())
    g.output.extend(model.graph.output)
    g.input.append(helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_dims))
    for t in model.graph.initializer:
        if math.prod(t.dims) <= _SMALL:
            g.initializer.append(t)
        else:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    return light


def _static(v: onnx.ValueInfoProto) -> tuple[int, ...] | None:
    dims = v.type.tensor_type.shape.dim
    if not v.type.tensor_type.HasField("shape") or not all(d.HasField("dim_value") for d in dims):
        return None
    return tuple(d.dim_value for d in dims)


def check(model: onnx.ModelProto, label: str) -> OnnxSummary:
    """Every check of the module docstring on a parsed model; the summary, or OnnxError."""
    graph = model.graph
    if len(graph.sparse_initializer) or len(model.functions):
        raise OnnxError(
            _("{label} uses sparse tensors or functions, which this app does not read.").format(label=label)
        )
    if any(op.domain not in ("", "ai.onnx") for op in model.opset_import):
        raise OnnxError(
            _("{label} needs operators from outside standard ONNX, which this app does not convert.").format(
                label=label
            )
        )
    params = sum(check_tensor(t, label) for t in graph.initializer)
    params += _check_nodes(graph, label)
    inits = {t.name for t in graph.initializer}
    meta = {p.key: p.value for p in model.metadata_props}
    name, dims, nhwc = _image_input(model, inits, label, meta)
    nodes = order(graph, inits | {name}, label)
    if params > MAX_PARAMS:
        raise OnnxError(
            _("{label} has {params} M parameters; at most {limit} M are allowed.").format(
                label=label, params=number(params / 1e6, 1), limit=f"{MAX_PARAMS / 1e6:.0f}"
            )
        )
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    folded = fold(nodes, {t.name: t for t in graph.initializer}, opset)
    for n in nodes:
        if n.op_type in FOLD_ONLY - {"Shape"} and not all(o in folded for o in n.output) and not float_cast(n):
            raise OnnxError(
                _("{label}: a {op_type} node works on values computed at run time, which is not converted.").format(
                    label=label, op_type=n.op_type
                )
            )
    try:
        light = _light(model, name, dims, folded)
        inferred = shape_inference.infer_shapes(light, strict_mode=True, data_prop=True)
    except Exception as e:  # onnx's C++ checker raises its own kinds on malformed graphs
        why = " ".join(re.sub(r"[^\w .,:;=()/-]", " ", str(e)).split())[:120]  # no markup (see shown)
        raise OnnxError(
            _("{label}: the shapes of its layers cannot be worked out ({why}).").format(label=label, why=why)
        ) from None
    shapes = {v.name: _static(v) for v in (*inferred.graph.value_info, *inferred.graph.output)}
    shapes[name] = tuple(dims)
    produced = [o for n in graph.node for o in n.output if o and o not in folded]
    if any(shapes.get(o) is None for o in produced):
        missing = next(o for o in produced if shapes.get(o) is None)
        raise OnnxError(
            _("{label}: the shape of {missing} cannot be worked out for a {size}-pixel image.").format(
                label=label, missing=shown(missing), size=dims[2]
            )
        )
    acts = sum(math.prod(shapes[o]) for o in produced)
    if acts > MAX_ACTIVATIONS:
        raise OnnxError(
            _("{label} would compute {acts} M activation values per image; at most {limit} M are allowed.").format(
                label=label, acts=number(acts / 1e6, 1), limit=f"{MAX_ACTIVATIONS / 1e6:.0f}"
            )
        )
    out = shapes[graph.output[0].name]
    if len(out) != 2 or out[0] != 1:
        raise OnnxError(
            _("{label} does not end in class scores: its output has the shape {out}, not (N, classes).").format(
                label=label, out=out
            )
        )
    convs = {n.input[1] for n in graph.node if n.op_type == "Conv"}
    conv_bytes = 4 * sum(math.prod(t.dims) for t in graph.initializer if t.name in convs)
    channels = dims[3] if nhwc else dims[1]
    side = dims[1] if nhwc else dims[2]
    return OnnxSummary(side, channels, nhwc, params, conv_bytes, acts, out[1], meta, shapes, opset, folded)
