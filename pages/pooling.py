"""Pooling: max and average pooling side by side on a real feature map, and the network's own pooling layers."""

import numpy as np
import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, number, percent
from cnnviz.inside.catalogue import activation_layers, pooling_layers
from cnnviz.teaching import convolution as cv
from cnnviz.teaching import pooling as pl
from cnnviz.ui import links, loaders, state, widgets
from cnnviz.ui.layer_picker import layer_select

links.page(
    source=links.choice_param(state.POOL_SOURCE, ("network", "image")),
    layer=links.layer_param(state.POOL_LAYER),
    channel=links.int_param(state.POOL_CHANNEL),
    kernel=links.choice_param(state.POOL_K, (2, 3, 4, 5)),
    stride=links.choice_param(state.POOL_STRIDE, (1, 2, 3, 4, 5)),
)
st.title(_("Pooling: shrinking a feature map"))
st.caption(
    _(
        "Pooling cuts a map into small windows and keeps one number per window: the largest (max "
        "pooling) or the mean (average pooling). The map gets smaller; what matters survives."
    )
)

lm = loaders.current_model()
# Controls in two rows (what to pool | which layer; channel | window | stride): one control a
# row put the pictures at y = 578 px on a 720 px projector (735 in presenter mode).
top_left, top_right = st.columns([1, 2.2])
source = top_left.radio(
    _("Pool"),
    ["network", "image"],
    key=state.POOL_SOURCE,
    format_func={"network": _("a feature map of the network"), "image": _("the photo itself (grey)")}.get,
)
c0, c1, c2 = st.columns([2, 1, 1])
if source == "network":
    name, weights = loaders.model_key()
    acts = activation_layers(lm.model)
    with top_right:
        layer = layer_select(
            _("Layer"), loaders.cached_catalogue(name, weights), state.POOL_LAYER, default=acts[0] if acts else None
        )
    maps = loaders.cached_maps(layer.name)  # (C, H, W)
    widgets.clamp(state.POOL_CHANNEL, 0, maps.shape[0] - 1)
    ch = c0.slider(_("Channel ({n})").format(n=maps.shape[0]), 0, maps.shape[0] - 1, 0, key=state.POOL_CHANNEL)
    fmap, what = maps[ch], _("channel {ch} of `{layer}`").format(ch=ch, layer=layer.name)
else:
    fmap, what = cv.to_grey(loaders.model_view()), _("your photo in grey")

k = c1.select_slider(_("Window (kernel) size"), [2, 3, 4, 5], value=2, key=state.POOL_K)
stride = c2.select_slider(
    _("Stride"),
    [1, 2, 3, 4, 5],
    value=2,
    key=state.POOL_STRIDE,
    help=_("Usually the same as the window: windows side by side, no overlap."),
)
h, w = fmap.shape
try:
    mx, av = pl.pool2d(fmap, k, stride, "max"), pl.pool2d(fmap, k, stride, "avg")
except CnnvizError as e:
    st.error(str(e))
    links.stop()
oh, ow = mx.shape
signed = bool(fmap.min() < 0)
lim = render.robust_limit(fmap)
a, b, c = st.columns(3)
with a:
    hit = widgets.clickable_map(
        render.map_rgb(fmap, signed=signed, limit=lim),
        _("Before: {w}×{h} (click: zoom in there)").format(w=w, h=h),
        state.POOL_CLICK,
        320,
        alt=(alt_lessons.signed_map if signed else alt_lessons.grey_map)(
            _("The map to pool, {what}").format(what=what), fmap
        ),
    )
titles = {"max": _("Max pooling: {w}×{h}"), "avg": _("Average pooling: {w}×{h}")}
for col, kind, pooled in ((b, "max", mx), (c, "avg", av)):
    with col:
        text = alt_lessons.pooled(kind, fmap, pooled, k, stride)
        pic = render.map_rgb(pooled, signed=signed, limit=lim)
        # the file name stays English: pooling_max.png, pooling_average.png
        file = "pooling_max" if kind == "max" else "pooling_average"
        widgets.show_map(pic, titles[kind].format(w=ow, h=oh), 320, file, alt=text)

st.markdown(
    _("**{w}×{h} → {ow}×{oh}**: ⌊({w} − {k}) / {stride}⌋ + 1 = {ow} — {n} numbers become {m} ({share}).").format(
        w=w,
        h=h,
        ow=ow,
        oh=oh,
        k=k,
        stride=stride,
        n=number(w * h, 0),
        m=number(ow * oh, 0),
        share=percent(ow * oh / (w * h), 0),
    )
)

# ---------------------------------------------------------------- numeric zoom
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

# ---------------------------------------------------------------- the network's own pooling layers
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
    biggest = "Max" in type(mods[net]).__name__
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
