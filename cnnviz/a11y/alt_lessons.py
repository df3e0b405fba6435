"""Text alternatives of the teaching pictures: preprocessing, convolution, activations,
pooling, the adversarial example, training previews and the Channel page's pictures.

Like :mod:`cnnviz.a11y.alt_text`: the data in, plain text out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnviz.a11y.alt_text import numbers, quoted, responds
from cnnviz.a11y.regions import percent, region, spot


def size(a: np.ndarray) -> str:
    """'224×224' of an (H, W, ...) array, written width × height as the captions do."""
    return f"{a.shape[1]}×{a.shape[0]}"


def signed_map(what: str, m: np.ndarray) -> str:
    """A map drawn blue (negative) / white (zero) / red (positive): where each sign is strongest."""
    return f"{what}, {size(m)}, blue negative, white zero, red positive: {responds(m)}."


def grey_map(what: str, m: np.ndarray) -> str:
    """A non-negative map drawn in grey levels (or one colour scale): where it is bright."""
    s = spot(m)
    where = "dark everywhere (all zero)" if s is None else f"brightest {s.where()} ({percent(s.share)} above half)"
    return f"{what}, {size(m)}: {where}."


# --------------------------------------------------------------------------- preprocessing
def border(resized: tuple[int, int], crop: int) -> str:
    return (
        f"Your photo resized to {resized[0]}×{resized[1]}; the border that the centre crop throws away is "
        f"dimmed, leaving the {crop}×{crop} square in the middle."
    )


def marked_pixel(row: int, col: int, side: int) -> str:
    return (
        f"The {side}×{side} picture the model is fed, pixel ({row}, {col}) circled, in the "
        f"{region((row + 0.5) / side, (col + 0.5) / side)}."
    )


# --------------------------------------------------------------------------- convolution
def conv_input(grey: bool, w: int, h: int) -> str:
    kind = "in grey" if grey else "in colour"
    return f"Your photo as the model sees it, {kind}, {w}×{h}: click a spot to follow the output pixel there."


def conv_output(out: np.ndarray, kernel: str) -> str:
    return signed_map(f"The output of the {kernel} kernel", out)


def conv_colour_output(per: np.ndarray, kernel: str) -> str:
    """The kernel run on each colour channel, ``per`` (3, OH, OW): a photo again when nothing is
    negative (a blur), else three signed maps."""
    if per.min() >= 0:
        return f"The {kernel} kernel run on red, green and blue separately: a colour picture again, {size(per[0])}."
    return " ".join(
        signed_map(f"The {kernel} kernel's output on the {c} channel", p)
        for c, p in zip(("red", "green", "blue"), per, strict=True)
    )


def conv_window(
    patch: tuple[int, int, int, int], window: tuple[int, int], k: int, unit: tuple[int, int], side: tuple[int, int]
) -> str:
    """The photo with the patch (first output row, col, rows, cols) boxed and the window of output
    ``unit`` at input (top, left) outlined; ``side`` = the photo's (H, W)."""
    pr, pc, ph, pw = patch
    top, left = window
    where = region((top + k / 2) / side[0], (left + k / 2) / side[1])
    return (
        f"The photo in grey. A large blue box holds the patch of outputs at rows {pr}–{pr + ph - 1}, columns "
        f"{pc}–{pc + pw - 1}; the small red box is the {k}×{k} window of output ({unit[0]}, {unit[1]}): input "
        f"rows {top}–{top + k - 1}, columns {left}–{left + k - 1}, in the {where}."
    )


def conv_patch(region_: np.ndarray, padding: int, unit: tuple[int, int], k: int) -> str:
    pad = f", with {padding} row{'s' if padding != 1 else ''} of zero padding at the border" if padding else ""
    return (
        f"The patch's input pixels enlarged ({size(region_)}{pad}); the {k}×{k} window of output "
        f"({unit[0]}, {unit[1]}) outlined in red, values {region_.min():.2f} to {region_.max():.2f}."
    )


def conv_cells(cells: np.ndarray, unit: tuple[int, int], value: float) -> str:
    return (
        f"The patch's {cells.shape[0]}×{cells.shape[1]} output pixels (blue negative, red positive), "
        f"output ({unit[0]}, {unit[1]}) outlined in yellow: {value:.2f}."
    )


def kernel_picture(i: int, conv: str, weight: np.ndarray) -> str:
    """A first-layer filter (C, k, k) drawn as a picture."""
    c, k, _ = weight.shape
    drawn = "a colour picture, grey is zero" if c == 3 else "blue negative, white zero, red positive"
    r, col = np.unravel_index(int(np.abs(weight).sum(0).argmax()), (k, k))
    return f"Filter {i} of {conv}, {k}×{k} over {c} input channel{'s' if c != 1 else ''}, as {drawn}; its largest weights at row {r}, column {col}."


# --------------------------------------------------------------------------- activations, pooling
def activation(before: np.ndarray, after: np.ndarray, fn: str, which: str) -> str:
    if which == "before":
        return signed_map(f"The values before {fn}", before)
    zero = float((after == 0).mean())
    return signed_map(f"The same values after {fn} ({percent(zero)} exactly zero)", after)


def pooled(kind: str, before: np.ndarray, after: np.ndarray, k: int, stride: int) -> str:
    name = "Max" if kind == "max" else "Average"
    return (
        f"{name} pooling with {k}×{k} windows, stride {stride}: the {size(before)} map becomes {size(after)}; "
        f"{responds(after).replace('its units', 'the pooled map')}."
    )


def pool_vector(vec: np.ndarray) -> str:
    best = np.argsort(-vec, kind="stable")
    return f"The {vec.size} outputs of global pooling, one square each, brighter is larger: largest for channels {numbers(best)}."


# --------------------------------------------------------------------------- fool the network
def adversarial(what: str, label: str, prob: float, side: int, eps: float | None = None) -> str:
    """The three pictures of the Fool page: "original", "change" or "perturbed"."""
    if what == "original":
        return f"The original {side}×{side} picture the model sees; it answers {quoted(label)} ({percent(prob)})."
    if what == "change":
        if not eps:
            return "The change: none at ε = 0 (a flat grey square)."
        return (
            f"The change FGSM made, amplified to be seen: grey is no change, white +ε, black −ε; every pixel "
            f"moved by at most {eps * 255:g} of 255 brightness levels, as a fine noise over the whole picture."
        )
    return f"The perturbed picture, which looks the same as the original; the model now answers {quoted(label)} ({percent(prob)})."


# --------------------------------------------------------------------------- training
def dataset_preview(classes: Sequence[str], per_class: int, shown: int) -> str:
    names = ", ".join(quoted(c) for c in list(classes)[:shown])
    more = f" (the first {shown} of {len(classes)})" if len(classes) > shown else ""
    return f"Sample training images, one row per class{more}: {names}; {per_class} images each."


def augmentation(rows: int, copies: int, changes: Sequence[str]) -> str:
    how = ", ".join(changes) if changes else "unchanged (no augmentation chosen)"
    return f"{rows} training images (rows), each shown {copies} times as the network might see it: {how}."


def live_filters(shape: tuple[int, ...]) -> str:
    o, i, kh, kw = shape
    drawn = "small colour pictures, grey is zero" if i == 3 else "dark below 0, light above"
    return f"The {o} first-layer filters ({kh}×{kw} over {i} channel{'s' if i != 1 else ''}) as they are now: {drawn}."


def mistakes(items: Sequence[tuple[str, str, float]]) -> str:
    listed = "; ".join(
        f"{n + 1}: {quoted(t)} taken for {quoted(p)} ({percent(c)})" for n, (t, p, c) in enumerate(items)
    )
    return f"The {len(items)} validation images the network got wrong while most sure, left to right: {listed}."


def shots(name: str, n: int) -> list[str]:
    return [f"Photo {i + 1} of {n} of class {quoted(name)}" for i in range(n)]


# --------------------------------------------------------------------------- the Channel page
def featvis(layer: str, ch: int, side: int, steps: int, activation: float) -> str:
    return (
        f"An image made from scratch to excite channel {ch} of {layer} as much as possible ({side}×{side} px, "
        f"{steps} steps; mean activation {activation:.3g})."
    )


def channel_filter(conv: str, ch: int, weight: np.ndarray) -> str:
    return kernel_picture(ch, conv, weight)
