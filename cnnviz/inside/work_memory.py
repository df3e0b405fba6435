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
fixed ``OVERHEAD`` come on top. The estimates aim at the measured peak within a small
factor (tests/unit/test_work_memory.py states it): over-reserving refuses classmates' work
for nothing.
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
# captum's copies around them. Sized for EfficientNet-Lite0, where a smaller count fell
# short of Occlusion's peak; a plain chain such as VGG-16 needs fewer, so its estimates run
# high, which errs on the side of refusing.
LIVE = 8
# what any such work allocates besides its tensors (the autograd engine's buffers, oneDNN's
# primitive cache): on a small model such as TinyVGG, where the tensors are tiny, it is most
# of the peak
OVERHEAD = 16 << 20


def leaf_values(layers: Sequence[LayerInfo], upto: str | None = None) -> list[int]:
    """Values of one input's output of each leaf layer, in call order.

    Blocks are skipped: their output is a leaf's.

    Args:
        layers: the model's layer catalogue, in call order.
        upto: the name of the last layer to count (None: all).

    Returns:
        One count of values (the product of the layer's ``out_shape``) per leaf layer.
    """
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
    """Bytes a forward pass of ``batch`` inputs without gradients may hold at once.

    Args:
        layers: the model's layer catalogue, in call order.
        batch: inputs per forward.
        upto: the name of the last layer the forward runs through (None: all).
        scale: the input's area over the catalogue's.

    Returns:
        ``LIVE`` times the largest leaf output, in float32 bytes, for the batch.
    """
    values = leaf_values(layers, upto)
    return int(FLOAT * batch * LIVE * max(values, default=0) * scale)


def backward_bytes(
    layers: Sequence[LayerInfo], batch: int, *, upto: str | None = None, scale: float = 1.0, copies: int = 2
) -> int:
    """Bytes a forward and backward pass of ``batch`` inputs may hold.

    Every leaf's output is kept for the backward pass, and as many gradients flow back.

    Args:
        layers: the model's layer catalogue, in call order.
        batch: inputs per pass.
        upto: the name of the last layer the pass runs through (None: all).
        scale: the input's area over the catalogue's.
        copies: how many copies of each leaf output are alive (2: the output and its gradient).

    Returns:
        ``copies`` times the sum of the leaf outputs, in float32 bytes, for the batch.
    """
    return int(FLOAT * batch * copies * sum(leaf_values(layers, upto)) * scale)


def featvis(layers: Sequence[LayerInfo], layer: str, size: int, model_size: int, params: int) -> int:
    """Bytes a feature visualisation of ``layer`` may allocate.

    A private copy of the weights (copied, then folded: twice), and one picture's forward and
    backward pass through ``layer`` every step, where the redirected ReLUs keep their inputs
    too (three copies of each activation).

    Args:
        layers: the model's layer catalogue, in call order.
        layer: the name of the layer visualised.
        size: the side of the picture optimised, in pixels.
        model_size: the side of the model's own input, in pixels.
        params: the model's number of parameters.

    Returns:
        The estimate in bytes, ``OVERHEAD`` included.
    """
    area = (size / model_size) ** 2
    return OVERHEAD + 2 * FLOAT * params + backward_bytes(layers, 1, upto=layer, scale=area, copies=3)


def examples_pass(layers: Sequence[LayerInfo], wanted: Sequence[LayerInfo], picture: int, batch: int, n: int) -> int:
    """Bytes a top-image pass over ``n`` pictures may allocate.

    One batch's forward through the last of the ``wanted`` layers, its inputs, and the
    scores kept for every picture (max, position, mean per channel).

    Args:
        layers: the model's layer catalogue, in call order.
        wanted: the layers scored.
        picture: values of one input picture.
        batch: pictures per forward.
        n: pictures in the pass.

    Returns:
        The estimate in bytes, ``OVERHEAD`` included.
    """
    names = {la.name for la in wanted}
    last = next((la.name for la in reversed(layers) if la.name in names), None)
    scores = sum(3 * n * la.out_shape[0] for la in wanted)
    return OVERHEAD + forward_bytes(layers, batch, upto=last) + FLOAT * (batch * picture + scores)


def integrated_gradients(layers: Sequence[LayerInfo], picture: int, steps: int, batch: int, scale: float = 1.0) -> int:
    """Bytes Integrated Gradients (:mod:`cnnviz.explain.path`) may allocate.

    One batch's forward and backward pass, that batch's path points and their gradients, the
    gradient kept at every point, and the sum.

    Args:
        layers: the model's layer catalogue, in call order.
        picture: values of one input picture.
        steps: the most path points.
        batch: path points per forward.
        scale: the input's area over the catalogue's.

    Returns:
        The estimate in bytes, ``OVERHEAD`` included.
    """
    return OVERHEAD + backward_bytes(layers, batch, scale=scale) + FLOAT * (steps + 2 * batch + 2) * picture


def occlusion(layers: Sequence[LayerInfo], picture: int, per_eval: int, scale: float = 1.0) -> int:
    """Bytes Occlusion may allocate.

    The forward pass of ``per_eval`` hidden copies, captum's expanded input, masks and hidden
    copies (four times ``per_eval`` pictures), and the sums it accumulates.

    Args:
        layers: the model's layer catalogue, in call order.
        picture: values of one input picture.
        per_eval: hidden copies per forward.
        scale: the input's area over the catalogue's.

    Returns:
        The estimate in bytes, ``OVERHEAD`` included.
    """
    return OVERHEAD + forward_bytes(layers, per_eval, scale=scale) + FLOAT * (4 * per_eval + 4) * picture


def curves(layers: Sequence[LayerInfo], picture: int, steps: int, chunk: int, scale: float = 1.0) -> int:
    """Bytes the deletion and insertion curves may allocate.

    One chunk's forward, and one map's masked pictures for both curves, built and joined
    (four times ``steps`` pictures), plus the grey and blurred ends.

    Args:
        layers: the model's layer catalogue, in call order.
        picture: values of one input picture.
        steps: steps of each curve.
        chunk: pictures per forward.
        scale: the input's area over the catalogue's.

    Returns:
        The estimate in bytes, ``OVERHEAD`` included.
    """
    return OVERHEAD + forward_bytes(layers, chunk, scale=scale) + FLOAT * (4 * steps + 6) * picture
