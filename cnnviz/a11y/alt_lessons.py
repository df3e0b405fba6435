"""Text alternatives of the teaching pictures: preprocessing, convolution, activations,
pooling, the adversarial example, training previews and the Channel page's pictures.

Like :mod:`cnnviz.a11y.alt_text`: the data in, plain text out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnviz.a11y.alt_text import numbers, quoted, responds
from cnnviz.a11y.regions import in_region, percent, region, spot
from cnnviz.i18n import _, ngettext, number, significant


def size(a: np.ndarray) -> str:
    """'224×224' of an (H, W, ...) array, written width × height as the captions do.

    Args:
        a: the array.

    Returns:
        The size text.
    """
    return f"{a.shape[1]}×{a.shape[0]}"


def signed_map(what: str, m: np.ndarray) -> str:
    """A map drawn blue (negative) / white (zero) / red (positive): where each sign is strongest.

    Args:
        what: the picture's name, already in the reader's language.
        m: (H, W) map.

    Returns:
        One sentence in the reader's language.
    """
    return _("{what}, {size}, blue negative, white zero, red positive: {where}.").format(
        what=what, size=size(m), where=responds(m)
    )


def grey_map(what: str, m: np.ndarray) -> str:
    """A non-negative map drawn in grey levels (or one colour scale): where it is bright.

    Args:
        what: the picture's name, already in the reader's language.
        m: (H, W) map.

    Returns:
        One sentence in the reader's language.
    """
    s = spot(m)
    if s is None:
        return _("{what}, {size}: dark everywhere (all zero).").format(what=what, size=size(m))
    return _("{what}, {size}: brightest {where} ({share} above half).").format(
        what=what, size=size(m), where=s.where(), share=percent(s.share)
    )


# --------------------------------------------------------------------------- preprocessing
def border(resized: tuple[int, int], crop: int) -> str:
    """The resized photo with the border the centre crop throws away dimmed.

    Args:
        resized: (width, height) after the resize step.
        crop: the side of the kept square.

    Returns:
        One sentence in the reader's language.
    """
    return _(
        "Your photo resized to {w}×{h}; the border that the centre crop throws away is "
        "dimmed, leaving the {crop}×{crop} square in the middle."
    ).format(w=resized[0], h=resized[1], crop=crop)


def marked_pixel(row: int, col: int, side: int) -> str:
    """The picture the model is fed with one pixel circled, and where it is.

    Args:
        row: the pixel's row.
        col: its column.
        side: the picture's side.

    Returns:
        One sentence in the reader's language.
    """
    return _("The {side}×{side} picture the model is fed, pixel ({row}, {col}) circled, {where}.").format(
        side=side, row=row, col=col, where=in_region(region((row + 0.5) / side, (col + 0.5) / side))
    )


# --------------------------------------------------------------------------- convolution
def conv_input(grey: bool, w: int, h: int) -> str:
    """The photo the convolution lesson runs on, which a click steps through.

    Args:
        grey: the photo is shown in grey.
        w: its width in pixels.
        h: its height.

    Returns:
        One sentence in the reader's language.
    """
    if grey:
        text = _("Your photo as the model sees it, in grey, {w}×{h}: click a spot to follow the output pixel there.")
    else:
        text = _("Your photo as the model sees it, in colour, {w}×{h}: click a spot to follow the output pixel there.")
    return text.format(w=w, h=h)


def conv_output(out: np.ndarray, kernel: str) -> str:
    """The output of a kernel as a signed map.

    Args:
        out: (OH, OW) output.
        kernel: the kernel's name, already in the reader's language.

    Returns:
        One sentence in the reader's language.
    """
    return signed_map(_("The output of the {kernel} kernel").format(kernel=kernel), out)


def conv_colour_output(per: np.ndarray, kernel: str) -> str:
    """The kernel run on each colour channel: a photo again when nothing is negative (a blur), else three signed maps.

    Args:
        per: (3, OH, OW) outputs.
        kernel: the kernel's name, already in the reader's language.

    Returns:
        One sentence in the reader's language.
    """
    if per.min() >= 0:
        return _("The {kernel} kernel run on red, green and blue separately: a colour picture again, {size}.").format(
            kernel=kernel, size=size(per[0])
        )
    names = (
        _("The {kernel} kernel's output on the red channel"),
        _("The {kernel} kernel's output on the green channel"),
        _("The {kernel} kernel's output on the blue channel"),
    )
    return " ".join(signed_map(n.format(kernel=kernel), p) for n, p in zip(names, per, strict=True))


def conv_window(
    patch: tuple[int, int, int, int], window: tuple[int, int], k: int, unit: tuple[int, int], side: tuple[int, int]
) -> str:
    """The photo with the step-through's patch boxed and one output's window outlined.

    Args:
        patch: (first output row, first output col, rows, cols) of the patch.
        window: (top, left) of the output's window in the input.
        k: the kernel's side.
        unit: (row, col) of the output.
        side: the photo's (H, W).

    Returns:
        One sentence in the reader's language.
    """
    pr, pc, ph, pw = patch
    top, left = window
    where = region((top + k / 2) / side[0], (left + k / 2) / side[1])
    return _(
        "The photo in grey. A large blue box holds the patch of outputs at rows {first_row}–{last_row}, columns "
        "{first_col}–{last_col}; the small red box is the {k}×{k} window of output ({row}, {col}): input "
        "rows {top}–{bottom}, columns {left}–{right}, {where}."
    ).format(
        first_row=pr,
        last_row=pr + ph - 1,
        first_col=pc,
        last_col=pc + pw - 1,
        k=k,
        row=unit[0],
        col=unit[1],
        top=top,
        bottom=top + k - 1,
        left=left,
        right=left + k - 1,
        where=in_region(where),
    )


def conv_patch(region_: np.ndarray, padding: int, unit: tuple[int, int], k: int) -> str:
    """The patch's input pixels enlarged, with the padding and one output's window.

    Args:
        region_: the patch's input pixels, padding included.
        padding: rows of zero padding at the border.
        unit: (row, col) of the output whose window is outlined.
        k: the kernel's side.

    Returns:
        One sentence in the reader's language.
    """
    values = {
        "size": size(region_),
        "n": padding,
        "k": k,
        "row": unit[0],
        "col": unit[1],
        "low": number(float(region_.min()), 2),
        "high": number(float(region_.max()), 2),
    }
    if not padding:
        return _(
            "The patch's input pixels enlarged ({size}); the {k}×{k} window of output "
            "({row}, {col}) outlined in red, values {low} to {high}."
        ).format(**values)
    return ngettext(
        "The patch's input pixels enlarged ({size}, with {n} row of zero padding at the border); the {k}×{k} "
        "window of output ({row}, {col}) outlined in red, values {low} to {high}.",
        "The patch's input pixels enlarged ({size}, with {n} rows of zero padding at the border); the {k}×{k} "
        "window of output ({row}, {col}) outlined in red, values {low} to {high}.",
        padding,
    ).format(**values)


def conv_cells(cells: np.ndarray, unit: tuple[int, int], value: float) -> str:
    """The patch's output pixels with one outlined.

    Args:
        cells: (h, w) output pixels of the patch.
        unit: (row, col) of the outlined output.
        value: its value.

    Returns:
        One sentence in the reader's language.
    """
    return _(
        "The patch's {h}×{w} output pixels (blue negative, red positive), output ({row}, {col}) outlined in "
        "yellow: {value}."
    ).format(h=cells.shape[0], w=cells.shape[1], row=unit[0], col=unit[1], value=number(value, 2))


def kernel_picture(i: int, conv: str, weight: np.ndarray) -> str:
    """A first-layer filter drawn as a picture.

    Args:
        i: the filter's index.
        conv: the conv layer's name.
        weight: (C, k, k) filter.

    Returns:
        One sentence in the reader's language.
    """
    c, k, _k = weight.shape
    drawn = _("a colour picture, grey is zero") if c == 3 else _("blue negative, white zero, red positive")
    r, col = np.unravel_index(int(np.abs(weight).sum(0).argmax()), (k, k))
    return ngettext(
        "Filter {i} of {conv}, {k}×{k} over {c} input channel, as {drawn}; its largest weights at row {row}, "
        "column {col}.",
        "Filter {i} of {conv}, {k}×{k} over {c} input channels, as {drawn}; its largest weights at row {row}, "
        "column {col}.",
        c,
    ).format(i=i, conv=conv, k=k, c=c, drawn=drawn, row=r, col=col)


# --------------------------------------------------------------------------- activations, pooling
def activation(before: np.ndarray, after: np.ndarray, fn: str, which: str) -> str:
    """One of the two maps of the activation lesson.

    Args:
        before: the values before the activation.
        after: the values after it.
        fn: the activation's name.
        which: "before", or any other value for the map after.

    Returns:
        One sentence in the reader's language.
    """
    if which == "before":
        return signed_map(_("The values before {fn}").format(fn=fn), before)
    zero = float((after == 0).mean())
    return signed_map(_("The same values after {fn} ({share} exactly zero)").format(fn=fn, share=percent(zero)), after)


def pooled(kind: str, before: np.ndarray, after: np.ndarray, k: int, stride: int) -> str:
    """A pooled map: the window, the sizes before and after, where it is large.

    Args:
        kind: "max", or any other value for average pooling.
        before: (H, W) map before pooling.
        after: (OH, OW) map after it.
        k: the window's side.
        stride: the step between windows.

    Returns:
        One sentence in the reader's language.
    """
    if kind == "max":
        text = _("Max pooling with {k}×{k} windows, stride {stride}: the {before} map becomes {after}; {where}.")
    else:
        text = _("Average pooling with {k}×{k} windows, stride {stride}: the {before} map becomes {after}; {where}.")
    return text.format(k=k, stride=stride, before=size(before), after=size(after), where=responds(after, "pooled"))


def pool_vector(vec: np.ndarray) -> str:
    """The outputs of global pooling, one square per channel, naming the largest.

    Args:
        vec: (C,) pooled values.

    Returns:
        One sentence in the reader's language.
    """
    best = np.argsort(-vec, kind="stable")
    return _(
        "The {n} outputs of global pooling, one square each, brighter is larger: largest for channels {channels}."
    ).format(n=vec.size, channels=numbers(best))


# --------------------------------------------------------------------------- fool the network
def adversarial(what: str, label: str, prob: float, side: int, eps: float | None = None) -> str:
    """The three pictures of the Fool page.

    Args:
        what: "original", "change" or "perturbed".
        label: the class the model answers for that picture.
        prob: its probability, 0..1.
        side: the picture's side.
        eps: FGSM's ε for the change, or None.

    Returns:
        One sentence in the reader's language.
    """
    if what == "original":
        return _("The original {side}×{side} picture the model sees; it answers {label} ({p}).").format(
            side=side, label=quoted(label), p=percent(prob)
        )
    if what == "change":
        if not eps:
            return _("The change: none at ε = 0 (a flat grey square).")
        return _(
            "The change FGSM made, amplified to be seen: grey is no change, white +ε, black −ε; every pixel "
            "moved by at most {levels} of 255 brightness levels, as a fine noise over the whole picture."
        ).format(levels=significant(eps * 255, 6))
    return _(
        "The perturbed picture, which looks the same as the original; the model now answers {label} ({p})."
    ).format(label=quoted(label), p=percent(prob))


# --------------------------------------------------------------------------- training
def dataset_preview(classes: Sequence[str], per_class: int, shown: int) -> str:
    """Sample training images, one row per class.

    Args:
        classes: every class's name.
        per_class: images shown per class.
        shown: how many classes are shown.

    Returns:
        One sentence in the reader's language.
    """
    names = ", ".join(quoted(c) for c in list(classes)[:shown])
    if len(classes) > shown:
        text = _("Sample training images, one row per class (the first {shown} of {total}): {names}; {n} images each.")
    else:
        text = _("Sample training images, one row per class: {names}; {n} images each.")
    return text.format(shown=shown, total=len(classes), names=names, n=per_class)


def augmentation(rows: int, copies: int, changes: Sequence[str]) -> str:
    """Training images each shown several times as the network might see them.

    Args:
        rows: how many images (rows).
        copies: how many times each is shown.
        changes: the augmentations chosen, already in the reader's language.

    Returns:
        One sentence in the reader's language.
    """
    how = ", ".join(changes) if changes else _("unchanged (no augmentation chosen)")
    return _("{rows} training images (rows), each shown {copies} times as the network might see it: {how}.").format(
        rows=rows, copies=copies, how=how
    )


def live_filters(shape: tuple[int, ...]) -> str:
    """The first-layer filters during training, as they are now.

    Args:
        shape: (O, I, kH, kW) of the weights.

    Returns:
        One sentence in the reader's language.
    """
    o, i, kh, kw = shape
    drawn = _("small colour pictures, grey is zero") if i == 3 else _("dark below 0, light above")
    return ngettext(
        "The {o} first-layer filters ({kh}×{kw} over {i} channel) as they are now: {drawn}.",
        "The {o} first-layer filters ({kh}×{kw} over {i} channels) as they are now: {drawn}.",
        i,
    ).format(o=o, kh=kh, kw=kw, i=i, drawn=drawn)


def mistakes(items: Sequence[tuple[str, str, float]]) -> str:
    """The validation images the network got wrong while most sure.

    Args:
        items: (true class, predicted class, confidence 0..1), left to right.

    Returns:
        One sentence in the reader's language.
    """
    listed = "; ".join(
        _("{n}: {true} taken for {predicted} ({p})").format(n=n + 1, true=quoted(t), predicted=quoted(p), p=percent(c))
        for n, (t, p, c) in enumerate(items)
    )
    return ngettext(
        "The {n} validation image the network got wrong while most sure, left to right: {listed}.",
        "The {n} validation images the network got wrong while most sure, left to right: {listed}.",
        len(items),
    ).format(n=len(items), listed=listed)


def shots(name: str, n: int) -> list[str]:
    """One text per photo of a class.

    Args:
        name: the class's name.
        n: how many photos.

    Returns:
        'Photo i of n of class …' for each, in the reader's language.
    """
    return [_("Photo {i} of {n} of class {name}").format(i=i + 1, n=n, name=quoted(name)) for i in range(n)]


# --------------------------------------------------------------------------- the Channel page
def featvis(layer: str, ch: int, side: int, steps: int, activation: float) -> str:
    """An image made from scratch to excite one channel.

    Args:
        layer: the layer's name.
        ch: the channel index.
        side: the image's side in pixels.
        steps: optimisation steps run.
        activation: the channel's mean activation on the image.

    Returns:
        One sentence in the reader's language.
    """
    return _(
        "An image made from scratch to excite channel {ch} of {layer} as much as possible ({side}×{side} px, "
        "{steps} steps; mean activation {value})."
    ).format(ch=ch, layer=layer, side=side, steps=steps, value=significant(activation))


def channel_filter(conv: str, ch: int, weight: np.ndarray) -> str:
    """A channel's filter drawn as a picture (:func:`kernel_picture`).

    Args:
        conv: the conv layer's name.
        ch: the filter's index.
        weight: (C, k, k) filter.

    Returns:
        One sentence in the reader's language.
    """
    return kernel_picture(ch, conv, weight)
