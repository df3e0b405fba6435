"""Convolution by hand, for teaching: explicit windows, products and sums.

Everything here is plain numpy, written so that each output value can be traced back to
the window of input values it came from (``step``). Like ``torch.nn.functional.conv2d``
(and every CNN library), it computes a cross-correlation: the kernel is not flipped.
The tests check it against ``F.conv2d`` with stride and padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _

Padding = int | tuple[int, int, int, int]  # p, or (left, right, top, bottom) as nn.ZeroPad2d

_GAUSS5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0

# 3×3 presets; ``preset`` widens them to 5×5. The names are keys (a link's kernel=): marked
# for the catalogue, translated only where shown (``_(name)``).
PRESETS: dict[str, np.ndarray] = {
    N_("identity"): np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32),
    N_("edge (Laplacian)"): np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32),
    N_("Sobel x"): np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    N_("Sobel y"): np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    N_("box blur"): np.full((3, 3), 1 / 9, dtype=np.float32),
    N_("Gaussian blur"): (np.outer([1, 2, 1], [1, 2, 1]) / 16.0).astype(np.float32),
    N_("sharpen"): np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
    N_("emboss"): np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float32),
}

PRESET_HELP: dict[str, str] = {
    "identity": N_("copies each pixel: the output is the input."),
    "edge (Laplacian)": N_("centre minus its 8 neighbours: zero on flat areas, large at edges and fine detail."),
    "Sobel x": N_("right minus left: responds to vertical edges (brightness changing from left to right)."),
    "Sobel y": N_("bottom minus top: responds to horizontal edges."),
    "box blur": N_("the plain average of the window: smooths noise and detail."),
    "Gaussian blur": N_("a weighted average, centre counts most: a softer blur."),
    "sharpen": N_("the pixel plus its difference from its neighbours: edges get crisper."),
    "emboss": N_("bottom-right minus top-left: looks like light from one side."),
}


def preset(name: str, size: int = 3) -> np.ndarray:
    """A (size, size) float32 kernel; size is 3 or 5.

    At 5×5 the blurs become real 5×5 blurs and the identity stays a centre 1; the other
    3×3 kernels get a border of zeros (the same filter, a bigger window).
    """
    if name not in PRESETS:
        raise CnnvizError(
            _("Unknown kernel preset '{name}'; choose one of {names}.").format(name=name, names=", ".join(PRESETS))
        )
    if size not in (3, 5):
        raise CnnvizError(_("The kernel size must be 3 or 5."))
    if size == 3:
        return PRESETS[name].copy()
    if name == "box blur":
        return np.full((5, 5), 1 / 25, dtype=np.float32)
    if name == "Gaussian blur":
        return _GAUSS5.astype(np.float32)
    return np.pad(PRESETS[name], 1).astype(np.float32)


def to_grey(img: Image.Image | np.ndarray) -> np.ndarray:
    """(H, W) float32 brightness in 0..1 (ITU-R 601 luma), from a PIL image or (H, W[, 3]) uint8."""
    arr = np.asarray(img.convert("RGB") if isinstance(img, Image.Image) else img, dtype=np.float32)
    if arr.max(initial=0) > 1.0:
        arr = arr / 255.0
    if arr.ndim == 2:
        return arr
    return (arr[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.float32)


def _pads(padding: Padding) -> tuple[int, int, int, int]:
    if isinstance(padding, int):
        padding = (padding,) * 4
    if len(padding) != 4 or min(padding) < 0:
        raise CnnvizError(_("Padding must be a number of pixels, zero or more."))
    return tuple(int(p) for p in padding)  # type: ignore[return-value]


def output_size(n: int, k: int, stride: int = 1, padding: int = 0) -> int:
    """Output side of a k-wide window sliding with ``stride`` over n pixels padded by p on each side:
    floor((n − k + 2p) / s) + 1."""
    if stride < 1:
        raise CnnvizError(_("The stride must be at least 1."))
    if k > n + 2 * padding:
        raise CnnvizError(
            _(
                "A {k}×{k} window does not fit in {n} pixels with padding {padding}; "
                "use a smaller kernel or more padding."
            ).format(k=k, n=n, padding=padding)
        )
    return (n - k + 2 * padding) // stride + 1


def size_formula(n: int, k: int, stride: int, padding: int) -> str:
    """The output-size formula with the numbers filled in, e.g. '⌊(224 − 3 + 2×1) / 1⌋ + 1 = 224'."""
    out = output_size(n, k, stride, padding)
    return f"⌊({n} − {k} + 2×{padding}) / {stride}⌋ + 1 = {out}"


def pad2d(x: np.ndarray, padding: Padding, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of (..., H, W): int p on every side or (left, right, top, bottom)."""
    left, right, top, bottom = _pads(padding)
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(x, widths, constant_values=value)


def windows(x: np.ndarray, k: int, stride: int = 1, padding: Padding = 0, value: float = 0.0) -> np.ndarray:
    """Every k×k window the kernel visits: (..., H, W) -> (..., OH, OW, k, k), a read-only view
    of the padded input (window [i, j] starts at padded row i·stride, column j·stride)."""
    if stride < 1:
        raise CnnvizError(_("The stride must be at least 1."))
    xp = pad2d(np.asarray(x, dtype=np.float32), padding, value)
    if k > xp.shape[-1] or k > xp.shape[-2]:
        raise CnnvizError(
            _("A {k}×{k} window does not fit in a {h}×{w} input with this padding.").format(
                k=k, h=x.shape[-2], w=x.shape[-1]
            )
        )
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(-2, -1))
    return win[..., ::stride, ::stride, :, :]


def conv2d(x: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: Padding = 0, bias: float = 0.0) -> np.ndarray:
    """One filter slid over an image: each output = sum(window × kernel) + bias.

    x (H, W) with kernel (k, k), or x (C, H, W) with kernel (C, k, k) summed over the
    channels (one filter of ``nn.Conv2d``). Returns (OH, OW) float32 with
    OH = floor((H − k + top + bottom) / stride) + 1.
    """
    x = np.asarray(x, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != x.ndim or kernel.shape[-1] != kernel.shape[-2] or kernel.shape[:-2] != x.shape[:-2]:
        raise CnnvizError(
            _("A kernel of shape {kernel} does not fit an input of shape {input}.").format(
                kernel=kernel.shape, input=x.shape
            )
        )
    win = windows(x, kernel.shape[-1], stride, padding)  # (..., OH, OW, k, k)
    # multiply every window by the kernel and add up (over the channels too, like nn.Conv2d)
    spec = "ijkl,kl->ij" if x.ndim == 2 else "cijkl,ckl->ij"
    out = np.einsum(spec, win, kernel)
    return (out + bias).astype(np.float32)


def conv2d_per_channel(x: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: Padding = 0) -> np.ndarray:
    """The same (k, k) kernel on each channel of (C, H, W) separately -> (C, OH, OW)."""
    return np.stack([conv2d(c, kernel, stride, padding) for c in np.asarray(x, dtype=np.float32)])


def patch_at(
    pixel: tuple[int, int], k: int, stride: int, padding: int, out_shape: tuple[int, int], patch: tuple[int, int]
) -> tuple[int, int, int]:
    """The step-through that puts the window on input ``pixel`` = (row, col): (first patch row,
    first patch column, 1-based position in the patch), for a ``patch`` = (rows, cols) of
    output positions inside an ``out_shape`` = (OH, OW) output.

    The output position chosen is the one whose k×k window is centred nearest the pixel;
    the patch is placed so that position sits in its middle (clipped to the output).
    """
    r = round((pixel[0] + padding - (k - 1) / 2) / stride)
    c = round((pixel[1] + padding - (k - 1) / 2) / stride)
    return patch_for((r, c), out_shape, patch)


def patch_for(out_pos: tuple[int, int], out_shape: tuple[int, int], patch: tuple[int, int]) -> tuple[int, int, int]:
    """The step-through on output position ``out_pos`` = (row, col), clamped to the output:
    (first patch row, first patch column, 1-based position in the patch), the patch placed so
    that the position sits in its middle (clipped to the output)."""
    oh, ow = out_shape
    ph, pw = patch
    r = int(np.clip(out_pos[0], 0, oh - 1))
    c = int(np.clip(out_pos[1], 0, ow - 1))
    pr = int(np.clip(r - ph // 2, 0, oh - ph))
    pc = int(np.clip(c - pw // 2, 0, ow - pw))
    return pr, pc, (r - pr) * pw + (c - pc) + 1


def window_centre(out_pos: tuple[int, int], k: int, stride: int, padding: int) -> tuple[float, float]:
    """The input pixel (row, col) at the centre of output position ``out_pos``'s k×k window."""
    return tuple(p * stride - padding + (k - 1) / 2 for p in out_pos)  # type: ignore[return-value]


def follow(
    before: tuple[int, int, int, int, int] | None,
    geometry: tuple[int, int, int],
    out_shape: tuple[int, int],
    patch: tuple[int, int],
) -> tuple[int, int, int] | None:
    """Keep the step-through on the same spot of the input when the kernel size, stride or
    padding changes: ``before`` = (k, stride, padding, output row, output col) of the last
    step shown, ``geometry`` = (k, stride, padding) now. Returns :func:`patch_at`'s (patch row,
    patch col, position) for the output position whose window is centred nearest the old one
    (clamped to the output), or None when nothing changed."""
    if before is None or tuple(before[:3]) == tuple(geometry):
        return None
    k0, s0, p0, r0, c0 = before
    return patch_at(window_centre((r0, c0), k0, s0, p0), *geometry, out_shape, patch)


@dataclass(frozen=True)
class Step:
    """One output value, traced: ``window`` × ``kernel`` = ``products``; their sum + bias = ``value``.

    window/kernel/products are (k, k) or (C, k, k). ``top``/``left``: where the window
    starts in the unpadded input (negative when it hangs over the padding).
    """

    row: int
    col: int
    top: int
    left: int
    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    bias: float
    value: float


def step(
    x: np.ndarray, kernel: np.ndarray, stride: int, padding: Padding, row: int, col: int, bias: float = 0.0
) -> Step:
    """How output pixel (row, col) of ``conv2d(x, kernel, stride, padding)`` is made."""
    kernel = np.asarray(kernel, dtype=np.float32)
    win = windows(x, kernel.shape[-1], stride, padding)
    oh, ow = win.shape[-4:-2]
    if not (0 <= row < oh and 0 <= col < ow):
        raise CnnvizError(
            _("Position ({row}, {col}) is outside the {h}×{w} output.").format(row=row, col=col, h=oh, w=ow)
        )
    window = np.array(win[..., row, col, :, :])
    products = window * kernel
    left, _right, top, _bottom = _pads(padding)
    return Step(
        row,
        col,
        row * stride - top,
        col * stride - left,
        window,
        kernel,
        products,
        float(bias),
        float(products.sum() + bias),
    )


@dataclass(frozen=True)
class FirstConv:
    """The first convolution of a model, as numpy: ``weight`` (O, C, k, k), ``bias`` (O,)."""

    name: str
    weight: np.ndarray
    bias: np.ndarray
    stride: int
    padding: tuple[int, int, int, int]  # (left, right, top, bottom), incl. a ZeroPad2d just before it


def first_conv(model: nn.Module) -> FirstConv:
    """The first ``nn.Conv2d`` in the module tree; an ``nn.ZeroPad2d`` right before it adds its padding."""
    prev: nn.Module | None = None
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            if (
                m.stride[0] != m.stride[1]
                or m.kernel_size[0] != m.kernel_size[1]
                or m.groups != 1
                or not isinstance(m.padding, tuple)
                or m.dilation != (1, 1)
            ):
                raise CnnvizError(
                    _("The first convolution of this model ({layer}) is not a plain square one.").format(layer=name)
                )
            ph, pw = m.padding
            pad = [pw, pw, ph, ph]
            if isinstance(prev, nn.ZeroPad2d):
                pad = [a + b for a, b in zip(pad, prev.padding, strict=True)]
            w = m.weight.detach().float().cpu().numpy()
            b = m.bias.detach().float().cpu().numpy() if m.bias is not None else np.zeros(w.shape[0], np.float32)
            return FirstConv(name, w, b, int(m.stride[0]), tuple(pad))  # type: ignore[arg-type]
        if not list(m.children()):  # remember the last leaf only
            prev = m
    raise CnnvizError(_("This model has no 2-D convolution layer."))
