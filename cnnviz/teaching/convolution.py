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
    """A named kernel from :data:`PRESETS`.

    At 5×5 the blurs become real 5×5 blurs and the identity stays a centre 1; the other 3×3
    kernels get a border of zeros (the same filter, a bigger window).

    Args:
        name: a key of :data:`PRESETS`.
        size: the kernel's side, 3 or 5.

    Returns:
        (size, size) float32 kernel.

    Raises:
        CnnvizError: an unknown name, or a size other than 3 or 5.
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
    """Brightness of a picture (ITU-R 601 luma).

    Args:
        img: a PIL image, or an (H, W) or (H, W, 3+) array, uint8 0..255 or float 0..1.

    Returns:
        (H, W) float32 in 0..1.
    """
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
    """Output side of a k-wide window sliding over n pixels: floor((n − k + 2p) / s) + 1.

    Args:
        n: the input's side in pixels.
        k: the window's side.
        stride: the step between windows, s.
        padding: pixels added on each side, p.

    Returns:
        The output side.

    Raises:
        CnnvizError: a stride below 1, or a window larger than the padded input.
    """
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
    """The output-size formula with the numbers filled in.

    Args:
        n: the input's side in pixels.
        k: the window's side.
        stride: the step between windows.
        padding: pixels added on each side.

    Returns:
        A string such as '⌊(224 − 3 + 2×1) / 1⌋ + 1 = 224'.

    Raises:
        CnnvizError: as :func:`output_size`.
    """
    out = output_size(n, k, stride, padding)
    return f"⌊({n} − {k} + 2×{padding}) / {stride}⌋ + 1 = {out}"


def pad2d(x: np.ndarray, padding: Padding, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of an array.

    Args:
        x: (..., H, W) array.
        padding: an int p on every side, or (left, right, top, bottom).
        value: the value of the added pixels.

    Returns:
        (..., H + top + bottom, W + left + right) array.
    """
    left, right, top, bottom = _pads(padding)
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(x, widths, constant_values=value)


def windows(x: np.ndarray, k: int, stride: int = 1, padding: Padding = 0, value: float = 0.0) -> np.ndarray:
    """Every k×k window the kernel visits.

    Args:
        x: (..., H, W) array.
        k: the window's side.
        stride: the step between windows.
        padding: an int on every side, or (left, right, top, bottom).
        value: the value of the padding.

    Returns:
        (..., OH, OW, k, k) float32 read-only view of the padded input; window [i, j] starts
        at padded row i·stride, column j·stride.

    Raises:
        CnnvizError: a stride below 1, or a window larger than the padded input.
    """
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

    Args:
        x: (H, W), or (C, H, W) summed over the channels (one filter of ``nn.Conv2d``).
        kernel: (k, k) for an (H, W) input, (C, k, k) for a (C, H, W) one.
        stride: the step between windows.
        padding: an int on every side, or (left, right, top, bottom).
        bias: added to every output.

    Returns:
        (OH, OW) float32, OH = floor((H − k + top + bottom) / stride) + 1.

    Raises:
        CnnvizError: a kernel that does not fit the input, or a bad stride or window.
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
    """The same kernel on each channel separately (not summed).

    Args:
        x: (C, H, W) array.
        kernel: (k, k) kernel.
        stride: the step between windows.
        padding: an int on every side, or (left, right, top, bottom).

    Returns:
        (C, OH, OW) float32.
    """
    return np.stack([conv2d(c, kernel, stride, padding) for c in np.asarray(x, dtype=np.float32)])


def patch_at(
    pixel: tuple[int, int], k: int, stride: int, padding: int, out_shape: tuple[int, int], patch: tuple[int, int]
) -> tuple[int, int, int]:
    """The step-through that puts the window on one input pixel.

    The output position chosen is the one whose k×k window is centred nearest the pixel; the
    patch is placed so that position sits in its middle (clipped to the output).

    Args:
        pixel: (row, col) in the input.
        k: the kernel's side.
        stride: the convolution's stride.
        padding: pixels added on each side.
        out_shape: (OH, OW) of the output.
        patch: (rows, cols) of output positions the step-through shows at once.

    Returns:
        (first patch row, first patch column, 1-based position in the patch).
    """
    r = round((pixel[0] + padding - (k - 1) / 2) / stride)
    c = round((pixel[1] + padding - (k - 1) / 2) / stride)
    return patch_for((r, c), out_shape, patch)


def patch_for(out_pos: tuple[int, int], out_shape: tuple[int, int], patch: tuple[int, int]) -> tuple[int, int, int]:
    """The step-through on one output position, clamped to the output.

    Args:
        out_pos: (row, col) in the output.
        out_shape: (OH, OW) of the output.
        patch: (rows, cols) of output positions the step-through shows at once.

    Returns:
        (first patch row, first patch column, 1-based position in the patch), the patch
        placed so that the position sits in its middle (clipped to the output).
    """
    oh, ow = out_shape
    ph, pw = patch
    r = int(np.clip(out_pos[0], 0, oh - 1))
    c = int(np.clip(out_pos[1], 0, ow - 1))
    pr = int(np.clip(r - ph // 2, 0, oh - ph))
    pc = int(np.clip(c - pw // 2, 0, ow - pw))
    return pr, pc, (r - pr) * pw + (c - pc) + 1


def window_centre(out_pos: tuple[int, int], k: int, stride: int, padding: int) -> tuple[float, float]:
    """The input pixel at the centre of one output position's window.

    Args:
        out_pos: (row, col) in the output.
        k: the kernel's side.
        stride: the convolution's stride.
        padding: pixels added on each side.

    Returns:
        (row, col) in input pixels, halves for even kernels.
    """
    return tuple(p * stride - padding + (k - 1) / 2 for p in out_pos)  # type: ignore[return-value]


def follow(
    before: tuple[int, int, int, int, int] | None,
    geometry: tuple[int, int, int],
    out_shape: tuple[int, int],
    patch: tuple[int, int],
) -> tuple[int, int, int] | None:
    """Keep the step-through on the same spot of the input when the kernel size, stride or
    padding changes.

    Args:
        before: (k, stride, padding, output row, output col) of the last step shown, or None.
        geometry: (k, stride, padding) now.
        out_shape: (OH, OW) of the output now.
        patch: (rows, cols) of output positions the step-through shows at once.

    Returns:
        :func:`patch_at`'s (patch row, patch col, position) for the output position whose
        window is centred nearest the old one (clamped to the output), or None when nothing
        changed.
    """
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
    """How one output pixel of ``conv2d(x, kernel, stride, padding)`` is made.

    Args:
        x: (H, W) or (C, H, W) input.
        kernel: (k, k) or (C, k, k), as :func:`conv2d`.
        stride: the step between windows.
        padding: an int on every side, or (left, right, top, bottom).
        row: the output row.
        col: the output column.
        bias: added to the sum.

    Returns:
        A Step: the window, kernel and their products ((k, k) or (C, k, k)), and the value.

    Raises:
        CnnvizError: a position outside the output, or a kernel that does not fit.
    """
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
    """The first ``nn.Conv2d`` in the module tree, with its weights as arrays.

    An ``nn.ZeroPad2d`` right before it adds its padding.

    Args:
        model: any network.

    Returns:
        A FirstConv: its name, (C_out, C_in, k, k) weights, (C_out,) bias (zeros when it has
        none), stride and (left, right, top, bottom) padding.

    Raises:
        CnnvizError: the model has no Conv2d, or its first one is not plain and square
            (grouped, dilated, or with unequal strides or sides).
    """
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
