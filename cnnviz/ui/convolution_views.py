"""The Convolution page's two lessons below the playground: one output pixel followed step by
step, and the network's own first filter applied by hand beside the network's output."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import i18n, render
from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, number
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.teaching import convolution as cv
from cnnviz.ui import compute_texts as texts
from cnnviz.ui import links, loaders, state, widgets


def follow_pixel(
    grey: np.ndarray, out: np.ndarray, kernel: np.ndarray, hit: tuple | None, conv: tuple[int, int, int]
) -> cv.Step:
    """ "Follow one output pixel": a patch of output positions, the window under one of them,
    and its multiply-and-add written out.

    Args:
        grey: the playground's input, (H, W) in 0..1.
        out: the playground's output, (OH, OW).
        kernel: the playground's kernel, (K, K).
        hit: where the input picture was clicked (``widgets.clickable_map``), or None.
        conv: (kernel size K, stride, padding).

    Returns:
        The followed step (its window's ``top`` and ``left`` place the network's filter below).
    """
    size, stride, padding = conv
    st.header(_("Follow one output pixel"))
    oh, ow = out.shape
    ph, pw = min(4, oh), min(4, ow)  # a 4×4 patch of output positions
    widgets.place_patch(hit, conv, (oh, ow), (ph, pw))
    s1, s2, s3 = st.columns(3)
    pr = s1.slider(_("Patch row"), 0, oh - ph, (oh - ph) // 2, key=state.CONV_PATCH_ROW)
    pc = s2.slider(_("Patch column"), 0, ow - pw, (ow - pw) // 2, key=state.CONV_PATCH_COL)
    pos = s3.slider(
        _("Position in the patch"),
        1,
        ph * pw,
        1,
        key=state.CONV_POS,
        help=_("Moves the window across the patch, row by row."),
    )
    row, col = pr + (pos - 1) // pw, pc + (pos - 1) % pw
    st.session_state[state.CONV_AT] = (size, stride, padding, row, col)
    st.session_state[state.CONV_ROW], st.session_state[state.CONV_COL] = row, col  # the link's row=, col=
    stp = cv.step(grey, kernel, stride, padding, row, col)

    widgets.step_pictures(grey, out, stp, (pr, pc, ph, pw), stride, padding)

    widgets.grids(
        widgets.num_grid(stp.window, title=_("{n} input values").format(n=size * size)),
        widgets.num_grid(stp.kernel, title=_("kernel")),
        widgets.num_grid(stp.products, title=_("products"), tint=True),
        between=("×", "="),
    )
    st.markdown(
        _("### Add the {n} products: {total} — output pixel (row {row}, column {col}) is **{value}**").format(
            n=size * size, total=number(stp.value, 2), row=row, col=col, value=number(out[row, col], 2)
        )
    )
    with st.expander(_("What am I looking at?")):
        st.markdown(_(texts.CONV_STEP))
    return stp


def network_filter(lm: LoadedModel, stp: cv.Step) -> None:
    """ "A real filter from the network": one filter of the model's first convolution as a
    picture, applied by hand beside the network's own output, and the window nearest the
    playground's (``stp``) added up channel by channel. Ends the page when the model has no
    convolution to show."""
    st.header(_("A real filter from the network"))
    try:
        fc = cv.first_conv(lm.model)
    except CnnvizError as e:
        st.error(str(e))
        links.stop()
    n_out, n_in, k, _k = fc.weight.shape
    widgets.clamp(state.CONV_FILTER, 0, n_out - 1)
    i = st.slider(
        _("Filter of `{layer}` ({n} filters, each {c}×{k}×{k})").format(layer=fc.name, n=n_out, c=n_in, k=k),
        0,
        n_out - 1,
        0,
        key=state.CONV_FILTER,
    )
    x = loaders.network_input()  # (C, H, W) normalised
    weight = fc.weight[i]  # (C, k, k)
    mine = cv.conv2d(x, weight, fc.stride, fc.padding, bias=float(fc.bias[i]))
    real = loaders.captured((fc.name,))[fc.name][i]
    _by_hand_and_network(fc, i, weight, mine, real)
    _network_window(fc, i, x, weight, mine, stp)
    with st.expander(_("What am I looking at?")):
        st.markdown(_(texts.CONV_NETWORK).format(i=i, k=k, n=n_in * k * k))


def _by_hand_and_network(fc: cv.FirstConv, i: int, weight: np.ndarray, mine: np.ndarray, real: np.ndarray) -> None:
    """Filter ``i`` as a picture, its map computed by hand (``mine``, (h, w)) and the network's
    own (``real``), and how far apart the two are."""
    n_in, k = weight.shape[0], weight.shape[-1]
    n1, n2, n3 = st.columns([0.8, 1, 1])
    with n1:
        wpic = render.scale(weight, -np.abs(weight).max(), np.abs(weight).max())  # (C, k, k), 0.5 = zero weight
        wrgb = (wpic.transpose(1, 2, 0) * 255).astype(np.uint8) if n_in == 3 else render.colorize(wpic[0], "RdBu_r")
        widgets.show_map(
            wrgb,
            _("Filter {i} as a picture ({k}×{k})").format(i=i, k=k),
            200,
            alt=alt_lessons.kernel_picture(i, fc.name, weight),
        )
    for col, m, caption, what in (
        (
            n2,
            mine,
            _("Applied by hand: {w}×{h}").format(w=mine.shape[1], h=mine.shape[0]),
            _("Filter {i} applied by hand to the input").format(i=i),
        ),
        (
            n3,
            real,
            _("The network's own output"),
            _("Channel {i} of {layer} as the network computed it").format(i=i, layer=fc.name),
        ),
    ):
        with col:
            lim = render.robust_limit(mine)
            widgets.show_map(render.map_rgb(m, limit=lim), caption, 340, alt=alt_lessons.signed_map(what, m))
    diff = float(np.abs(mine - real[: mine.shape[0], : mine.shape[1]]).max())
    same = (
        _("the same numbers.")
        if diff < 1e-3
        else _(
            "this model changes its input once more before the first layer "
            "(GoogLeNet re-scales the colours its weights came with), so the two differ a little."
        )
    )
    st.markdown(
        _(
            "Stride {stride}, padding (left, right, top, bottom) = {padding}. "
            "Largest difference between the two maps: **{diff}** — {same}"
        ).format(stride=fc.stride, padding=fc.padding, diff=i18n.scientific(diff), same=same)
    )


def _network_window(
    fc: cv.FirstConv, i: int, x: np.ndarray, weight: np.ndarray, mine: np.ndarray, stp: cv.Step
) -> None:
    """Filter ``i``'s window nearest the playground's window (``stp``) on the network's input
    ``x`` (C, H, W): products per channel, their sums plus the bias, and the values and weights."""
    n_in = weight.shape[0]
    nr = int(np.clip(round((stp.top + fc.padding[2]) / fc.stride), 0, mine.shape[0] - 1))
    nc = int(np.clip(round((stp.left + fc.padding[0]) / fc.stride), 0, mine.shape[1] - 1))
    nst = cv.step(x, weight, fc.stride, fc.padding, nr, nc, bias=float(fc.bias[i]))
    names = [_("red"), _("green"), _("blue")] if n_in == 3 else [_("grey")]
    widgets.grids(
        *[
            widgets.num_grid(nst.products[c], title=_("{colour}: values × weights").format(colour=names[c]), tint=True)
            for c in range(n_in)
        ]
    )
    terms = " + ".join(number(nst.products[c].sum(), 2) for c in range(n_in))
    st.markdown(
        _("### Output ({row}, {col}) = {terms} + bias {bias} = **{value}**").format(
            row=nr, col=nc, terms=terms, bias=number(nst.bias, 2), value=number(nst.value, 2)
        )
    )
    with st.expander(_("The input values and weights")):
        widgets.grids(
            *[widgets.num_grid(nst.window[c], title=_("{colour} input").format(colour=names[c])) for c in range(n_in)]
        )
        widgets.grids(
            *[
                widgets.num_grid(nst.kernel[c], title=_("{colour} weights").format(colour=names[c]), tint=True)
                for c in range(n_in)
            ]
        )
