"""Shape arithmetic on constants, worked out once while an ONNX file is checked.

Exporters write some computations on constants as nodes: torch's legacy exporter turns
``F.pad(x, pads)`` into ConstantOfShape, Concat, Reshape, Slice, Transpose and Cast on the
pads before the Pad node. ONNX's shape inference does not follow such chains, and a torch
module has no use for them: they are computed here with onnx's reference implementation
(numpy) and become constants. Only small tensors are folded (each input and the output of
ConstantOfShape at most :data:`MAX_FOLD` values), so this allocates nothing the checks have
not bounded.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

MAX_FOLD = 256
# shape arithmetic: converted only when its inputs are constants (folded here)
FOLD_ONLY = frozenset({"Shape", "ConstantOfShape", "Slice", "Cast", "Gather", "Unsqueeze", "Squeeze"})
FOLDABLE = (FOLD_ONLY - {"Shape"}) | {"Concat", "Reshape", "Transpose", "Add", "Sub", "Mul", "Div", "Flatten"}


def constant_value(node: onnx.NodeProto) -> np.ndarray | None:
    """The value of a Constant node (its tensor, or a number or list of numbers)."""
    a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
    if "value" in a:
        return numpy_helper.to_array(a["value"])
    kind = next((k for k in ("value_float", "value_floats", "value_int", "value_ints") if k in a), None)
    return None if kind is None else np.asarray(a[kind], dtype=np.float32 if "float" in kind else np.int64)


def fold(nodes: list[onnx.NodeProto], tensors: dict[str, onnx.TensorProto], opset: int) -> dict[str, np.ndarray]:
    """Value name -> value of every output computed here from constants, for ``nodes`` in
    an order where each follows its inputs; ``tensors``: the initialisers (already checked)."""
    small: dict[str, np.ndarray] = {}  # constants of at most MAX_FOLD values, whatever made them
    folded: dict[str, np.ndarray] = {}

    def const(name: str) -> np.ndarray | None:
        if name not in small and name in tensors and math.prod(tensors[name].dims) <= MAX_FOLD:
            small[name] = numpy_helper.to_array(tensors[name])
        return small.get(name)

    for node in nodes:
        inputs = [n for n in node.input if n]
        if node.op_type == "Constant":
            v = constant_value(node)
            if v is not None and v.size <= MAX_FOLD:
                small[node.output[0]] = v
            continue
        if node.op_type == "Identity" and (v := const(node.input[0])) is not None:
            small[node.output[0]] = v
            continue
        if node.op_type not in FOLDABLE or not inputs or any(const(n) is None for n in inputs):
            continue
        if node.op_type == "ConstantOfShape" and math.prod(int(d) for d in const(inputs[0]).reshape(-1)) > MAX_FOLD:
            continue
        try:
            got = ReferenceEvaluator(node, opsets={"": opset}).run(None, {n: const(n) for n in inputs})
        except Exception:  # a malformed node: left for the checks to refuse by its shapes
            continue
        for out, v in zip(node.output, got, strict=False):
            small[out] = folded[out] = np.asarray(v)
    return folded
