"""Pooling: max and average pooling side by side on a real feature map, and the network's own pooling layers."""

import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, number, percent
from cnnviz.inside.catalogue import activation_layers
from cnnviz.teaching import convolution as cv
from cnnviz.teaching import pooling as pl
from cnnviz.ui import links, loaders, state, widgets
from cnnviz.ui import pooling_views as pool_views
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

pool_views.zoom(fmap, (mx, av), (k, stride), hit, what)
pool_views.network_pooling(lm)
