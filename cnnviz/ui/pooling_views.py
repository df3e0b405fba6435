"""The Pooling page's two lessons below the side-by-side maps: a numeric zoom on a few windows
(which value wins), and the network's own pooling layers on the user's photo."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_lessons
from cnnviz.i18n import _, number
from cnnviz.inside.catalogue import pooling_layers
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.teaching import convolution as cv
from cnnviz.teaching import pooling as pl
from cnnviz.ui import links, loaders, state, widgets


def zoom(
    fmap: np.ndarray,
    pooled: tuple[np.ndarray, np.ndarray],
    window: tuple[int, int],
    hit: tuple[int, int] | None,
    what: str,
) -> None:
    """ "Zoom in: which value wins?": 3×3 pooled cells and the map's values under them.

    Args:
        fmap: the map pooled, (H, W).
        pooled: its max and average pooling, each (OH, OW).
        window: (kernel size, stride).
        hit: where the map was clicked (``widgets.clickable_map``), or None.
        what: the map's name in the reader's language (e.g. "channel 3 of `features.0`").
    """
    (mx, av), (k, stride) = pooled, window
    oh, ow = mx.shape
    signed = bool(fmap.min() < 0)
    st.header(_("Zoom in: which value wins?"))
    zh, zw = min(3, oh), min(3, ow)  # 3×3 pooled cells
    if hit is not None:  # a click on the map: the zoom's windows around it (sliders not drawn yet)
        st.session_state[state.POOL_ROW], st.session_state[state.POOL_COL], _pos = cv.patch_at(
            hit, k, stride, 0, (oh, ow), (zh, zw)
        )
    for key, hi in ((state.POOL_ROW, oh - zh), (state.POOL_COL, ow - zw)):
        widgets.clamp(key, 0, hi)
    z1, z2 = st.columns(2)
    zr = z1.slider(_("Zoom row"), 0, oh - zh, (oh - zh) // 2, key=state.POOL_ROW)
    zc = z2.slider(_("Zoom column"), 0, ow - zw, (ow - zw) // 2, key=state.POOL_COL)
    top, left = zr * stride, zc * stride
    region = fmap[top : top + (zh - 1) * stride + k, left : left + (zw - 1) * stride + k]
    win = pl.winners(fmap, k, stride)[top : top + region.shape[0], left : left + region.shape[1]]
    marks = set(zip(*np.nonzero(win), strict=True))
    widgets.grids(
        widgets.num_grid(
            region,
            title=_("{w}×{h} values of the map (winners marked)").format(w=region.shape[1], h=region.shape[0]),
            mark=marks,
            tint=signed,
            block=k if stride == k else 0,
        ),
        widgets.num_grid(mx[zr : zr + zh, zc : zc + zw], title=_("max"), tint=signed),
        widgets.num_grid(av[zr : zr + zh, zc : zc + zw], title=_("average"), tint=signed),
        between=("→", "|"),
    )
    z = pl.zoom(fmap, k, stride, zr, zc)
    st.markdown(
        _("Top-left window: the largest of its {n} values is **{max}** (marked); their mean is **{mean}**.").format(
            n=k * k, max=number(z.max, 2), mean=number(z.mean, 2)
        )
    )
    with st.expander(_("What am I looking at?")):
        st.markdown(
            _(
                "The left map is {what}; the other two are the same map after max and after average pooling "
                "with {k}×{k} windows moved {stride} pixels at a time. **Max pooling** keeps the strongest response "
                "in each window, so thin bright edges survive even though the map shrinks. **Average pooling** "
                "takes the mean, which smooths the map and dims small details. In the zoom, each window's winning "
                "value is outlined: it is the number max pooling passes on. The pooled maps are drawn at the same "
                "size so you can compare them; they really have fewer pixels."
            ).format(what=what, k=k, stride=stride)
        )


def network_pooling(lm: LoadedModel) -> None:
    """ "Pooling inside this network": one pooling layer's real input and output for the photo,
    a global pooling as its numbers. Ends the page when the model has no pooling layer."""
    st.header(_("Pooling inside this network"))
    layers = pooling_layers(lm.model)
    if not layers:
        st.info(_("This model has no pooling layers: it shrinks its maps with stride-2 convolutions instead."))
        links.stop()
    mods = dict(layers)
    net = st.selectbox(
        _("Pooling layer"),
        list(mods),
        key=state.POOL_NET_LAYER,
        format_func={n: f"{n} — {pl.describe(m)}" for n, m in mods.items()}.get,  # no lambda: see features.py
    )
    inp, out = loaders.layer_input_output(net)  # (C, H, W), (C, h, w)
    st.markdown(
        _("Input **{shape_in}** (channels × height × width) → output **{shape_out}**").format(
            shape_in="×".join(map(str, inp.shape)), shape_out="×".join(map(str, out.shape))
        )
    )
    widgets.clamp(state.POOL_NET_CHANNEL, 0, inp.shape[0] - 1)
    nch = st.slider(_("Channel"), 0, inp.shape[0] - 1, 0, key=state.POOL_NET_CHANNEL)
    if out.shape[-2:] == (1, 1):  # global pooling: each whole map becomes one number
        _global_pooling(net, inp, out, nch, biggest="Max" in type(mods[net]).__name__)
    else:
        lim2 = render.robust_limit(inp[nch])
        for col, m, title, what_alt in zip(
            st.columns(2),
            (inp[nch], out[nch]),
            (_("Input of `{layer}`: {w}×{h}"), _("Output: {w}×{h}")),
            (_("Channel {ch} going into {layer}"), _("Channel {ch} going out of {layer}")),
            strict=True,
        ):
            with col:
                text = alt_lessons.signed_map(what_alt.format(ch=nch, layer=net), m)
                caption = title.format(layer=net, w=m.shape[1], h=m.shape[0])
                widgets.show_map(render.map_rgb(m, limit=lim2), caption, 340, alt=text)
    with st.expander(_("What am I looking at?")):
        st.markdown(
            _(
                "These are the real numbers going into and coming out of one of the network's pooling layers for "
                "your photo. Older networks (AlexNet, VGG, ResNet) use max pooling between blocks to halve the "
                "maps. Most modern ones end with **global average pooling**: every channel's whole map is "
                "averaged into one number, whatever the image size, and those numbers are what the classifier sees."
            )
        )


def _global_pooling(net: str, inp: np.ndarray, out: np.ndarray, nch: int, *, biggest: bool) -> None:
    """A global pooling layer ``net``: channel ``nch``'s map (``inp``, (C, H, W)) and the one
    number it becomes, beside all of ``out``'s (C, 1, 1) numbers as squares."""
    g1, g2 = st.columns([1.3, 1])
    with g1:
        if inp.shape[1] <= 8:
            widgets.grids(
                widgets.num_grid(
                    inp[nch], title=_("channel {ch}: its {h}×{w} map").format(ch=nch, h=inp.shape[1], w=inp.shape[2])
                )
            )
        else:
            widgets.show_map(
                render.map_rgb(inp[nch]),
                _("channel {ch}: its {h}×{w} map").format(ch=nch, h=inp.shape[2], w=inp.shape[1]),
                260,
                alt=alt_lessons.signed_map(_("Channel {ch} before {layer}").format(ch=nch, layer=net), inp[nch]),
            )
        which = (
            _("### The largest value of these {n} numbers = **{value}**")
            if biggest
            else _("### The mean of these {n} numbers = **{value}**")
        )
        st.markdown(which.format(n=inp.shape[1] * inp.shape[2], value=number(out[nch, 0, 0], 2)))
    with g2:
        vec = out[:, 0, 0]
        side = int(np.ceil(np.sqrt(vec.size)))
        grid = np.full(side * side, np.nan, np.float32)
        grid[: vec.size] = render.scale(vec, 0, float(vec.max()) or 1.0)
        widgets.show_map(
            render.colorize(grid.reshape(side, side), "magma"),
            _("All {n} outputs, one square each (brighter = larger)").format(n=vec.size),
            300,
            alt=alt_lessons.pool_vector(vec),
        )
    st.markdown(
        _("So the {c} maps of {h}×{w} become **{n} numbers**: the input of the final classifier layer.").format(
            c=inp.shape[0], h=inp.shape[1], w=inp.shape[2], n=vec.size
        )
    )
