"""What the long jobs (feature visualisation, top-image passes, Integrated Gradients,
Occlusion, deletion/insertion curves) may allocate while they run, from the work's shape,
for :func:`cnnviz.serving.memguard.reserve`.

Each estimate is float32 values counted from the model's layer catalogue (one input's output
of every leaf layer, at the model's own input size) times the batch the work runs:

- a forward pass without gradients keeps only a few activations alive at a time (a layer's
  input and output, a residual branch's input): ``LIVE`` times the largest;
- a forward and backward pass keeps every leaf's output for the backward pass, and the
  gradients flowing back are about as many again: twice their sum.

Inputs the work builds up front (a path of IG's pictures, a batch of masked copies) and a
fixed ``OVERHEAD`` come on top. The estimates aim at the measured peak within a small factor (tests/unit/
test_work_memory.py states it): over-reserving refuses classmates' work for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnnviz.inside.catalogue import LayerInfo

__all__ = [
    "FLOAT",
    "LIVE",
    "OVERHEAD",
    "backward_bytes",
    "curves",
    "examples_pass",
    "featvis",
    "forward_bytes",
    "integrated_gradients",
    "leaf_values",
    "occlusion",
]

FLOAT = 4  # bytes of a float32 value
# activations alive at once in a forward without gradients, in units of the largest: a
# layer's input and output, a residual branch's input, EfficientNet's expanded ones, and
# captum's copies around them (measured on EfficientNet-Lite0: 6 fell short of Occlusion's
# peak in one run of three, 244-299 MB). A plain chain such as VGG-16 needs about 2: its
# estimates run up to ~4 times its peak, which errs on the side of refusing.
LIVE = 8
# what any such work allocates besides its tensors (the autograd engine's buffers, oneDNN's
# primitive cache): measured 5-12 MB on TinyVGG, where the tensors are tiny
OVERHEAD = 16 << 20


def leaf_values(layers: Sequence[LayerInfo], upto: str | None = None) -> list[int]:
    """Values of one input's output of each leaf layer (not blocks, whose output is a
    leaf's), in call order, through the layer named ``upto`` (None: all)."""
    out = []
    for la in layers:
        if la.kind != "block":
            n = 1
            for d in la.out_shape:
                n *= d
            out.append(n)
        if la.name == upto:
            break
    return out


def forward_bytes(layers: Sequence[LayerInfo], batch: int, *, upto: str | None = None, scale: float = 1.0) -> int:
    """Bytes a forward pass of ``batch`` inputs without gradients may hold at once; ``scale``:
    the input's area over the catalogue's."""
    values = leaf_values(layers, upto)
    return int(FLOAT * batch * LIVE * max(values, default=0) * scale)


def backward_bytes(
    layers: Sequence[LayerInfo], batch: int, *, upto: str | None = None, scale: float = 1.0, copies: int = 2
) -> int:
    """Bytes a forward and backward pass of ``batch`` inputs may hold: every leaf's output kept
    for the backward pass and as many gradients (``copies`` of each in all)."""
    return int(FLOAT * batch * copies * sum(leaf_values(layers, upto)) * scale)


def featvis(layers: Sequence[LayerInfo], layer: str, size: int, model_size: int, params: int) -> int:
    """A feature visualisation at ``size``² pixels (the model's own input is ``model_size``²)
    of ``layer``: a private copy of the ``params`` weights (copied, then folded: twice), and
    one picture's forward and backward pass through ``layer`` every step, where the redirected
    ReLUs keep their inputs too (three copies of each activation)."""
    area = (size / model_size) ** 2
    return OVERHEAD + 2 * FLOAT * params + backward_bytes(layers, 1, upto=layer, scale=area, copies=3)


def examples_pass(layers: Sequence[LayerInfo], wanted: Sequence[LayerInfo], picture: int, batch: int, n: int) -> int:
    """A top-image pass over ``n`` pictures of ``picture`` values each, in batches of
    ``batch``, scoring the ``wanted`` layers: one batch's forward through the last of them,
    its inputs, and the scores kept for every picture (max, position, mean per channel)."""
    names = {la.name for la in wanted}
    last = next((la.name for la in reversed(layers) if la.name in names), None)
    scores = sum(3 * n * la.out_shape[0] for la in wanted)
    return OVERHEAD + forward_bytes(layers, batch, upto=last) + FLOAT * (batch * picture + scores)


def integrated_gradients(layers: Sequence[LayerInfo], picture: int, steps: int, batch: int, scale: float = 1.0) -> int:
    """Integrated Gradients with up to ``steps`` path points in batches of ``batch``
    (:mod:`cnnviz.explain.path`): one batch's forward and backward pass, that batch's points
    and their gradients, the gradient kept at every point, and the sum (pictures of
    ``picture`` values)."""
    return OVERHEAD + backward_bytes(layers, batch, scale=scale) + FLOAT * (steps + 2 * batch + 2) * picture


def occlusion(layers: Sequence[LayerInfo], picture: int, per_eval: int, scale: float = 1.0) -> int:
    """Occlusion with ``per_eval`` hidden copies a forward: their forward pass, captum's
    expanded input, masks and hidden copies (four times ``per_eval`` pictures), and the sums
    it accumulates."""
    return OVERHEAD + forward_bytes(layers, per_eval, scale=scale) + FLOAT * (4 * per_eval + 4) * picture


def curves(layers: Sequence[LayerInfo], picture: int, steps: int, chunk: int, scale: float = 1.0) -> int:
    """Deletion and insertion curves of ``steps`` steps, forwards of ``chunk`` pictures: one
    chunk's forward, and one map's masked pictures for both curves, built and joined (four
    times ``steps`` pictures), plus the grey and blurred ends."""
    return OVERHEAD + forward_bytes(layers, chunk, scale=scale) + FLOAT * (4 * steps + 6) * picture
