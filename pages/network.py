"""Network: the whole forward pass on one screen; click a thumbnail to look inside it."""

import streamlit as st

from cnnviz import i18n
from cnnviz.i18n import _
from cnnviz.inside import featuremaps as fm
from cnnviz.inside import network
from cnnviz.inside.catalogue import find_layer
from cnnviz.ui import links, loaders, present, state
from cnnviz.ui import network_views as nv

links.page(
    layer=links.layer_param(state.NET_LAYER),
    channel=links.int_param(state.NET_CHANNEL),
    row=links.int_param(state.NET_ROW),
    col=links.int_param(state.NET_COL),
    norm=links.choice_param(state.NET_NORM, fm.NORMS),
)
lm = loaders.current_model()
name, weights = loaders.model_key()
layers = loaders.cached_catalogue(name, weights)
small = network.is_small(layers)

c0, c1, c2 = st.columns([1.25, 1, 1.5], vertical_alignment="bottom")
c0.title(_("The network"))
with c1:
    if small:
        st.caption(_("A small network: every layer is a column, every channel a tile."))
        n = 0
    else:
        n = st.slider(_("Strongest channels per column"), 1, 16, 8, key=state.NET_N)
with c2:
    norm = st.radio(
        _("Colour scale"), fm.NORMS, index=1, key=state.NET_NORM, horizontal=True, format_func=nv.norm_label
    )
# labels as large as the page's text, in the reader's language (the picture has words in it)
d = nv.cached_diagram(n, norm, present.label(11), i18n.current())
layer_name, channel = nv.current_selection(d)
nv.show_diagram(d, layer_name, channel)
st.caption(
    _(
        "The image flows left to right: each layer's channels, then the class probabilities. "
        "rf: how many input pixels one unit sees. Click any tile."
    )
    if small
    else _(
        "The image flows left to right: each block or stage's {n} strongest channels (by mean |value|), "
        "then the class probabilities. rf: how many input pixels one unit sees. Click any tile."
    ).format(n=n)
)
nv.legend(d, norm)

layer = find_layer(layers, layer_name)
maps = loaders.cached_capture()[layer_name]
channel = min(channel, maps.shape[0] - 1)
column = next(c for c in d.columns if c.layer.name == layer_name)
st.header(_("{layer} · channel {channel}").format(layer=layer_name, channel=channel))
st.caption(
    _("{type} · output {shape} · each unit sees {rf}×{rf} input pixels").format(
        type=layer.type, shape="×".join(map(str, maps.shape)), rf=layer.rf
    )
)
row, col = nv.detail(layer, channel, maps[channel], column)

conv = nv.conv_of(layers, layer_name) if small else None
if conv is not None:
    st.subheader(_("How this unit was computed"))
    nv.arithmetic(layers, conv, channel, row, col, float(maps[channel, row, col]))
elif small:
    st.caption(_("Click a convolution or activation tile to see how one of its units is computed."))

with st.expander(_("What am I looking at?")):
    st.markdown(
        _("""
Every column is a layer (small networks) or the output of a block (big ones), in the order the image
passes through them. Each tile is one **channel**: a map of where that channel's filter found its
pattern. Early columns are large maps of edges and colours; later ones are small maps of parts and
objects, and many more channels (only the strongest few are drawn for big networks).

Click a tile: the channel appears large below, with the input pixels one unit of it can see (its
**receptive field**). In a small network, a convolution unit is a sum: every input channel's window
multiplied by that channel's kernel, added up, plus a bias; the activation after it (ReLU) then
zeroes negative sums.
""")
    )
