"""Network: the whole forward pass on one screen; click a thumbnail to look inside it."""

import streamlit as st

from cnnviz import featuremaps as fm
from cnnviz import network
from cnnviz.catalogue import find_layer
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
c0.title("The network")
with c1:
    if small:
        st.caption("A small network: every layer is a column, every channel a tile.")
        n = 0
    else:
        n = st.slider("Strongest channels per column", 1, 16, 8, key=state.NET_N)
with c2:
    norm = st.radio(
        "Colour scale", fm.NORMS, index=1, key=state.NET_NORM, horizontal=True, format_func=nv.NORM_LABELS.get
    )
d = nv.cached_diagram(n, norm, present.label(11))  # labels as large as the page's text
layer_name, channel = nv.current_selection(d)
nv.show_diagram(d, layer_name, channel)
st.caption(
    "The image flows left to right: "
    + ("each layer's channels" if small else f"each block or stage's {n} strongest channels (by mean |value|)")
    + ", then the class probabilities. rf: how many input pixels one unit sees. Click any tile."
)
nv.legend(d, norm)

layer = find_layer(layers, layer_name)
maps = loaders.cached_capture()[layer_name]
channel = min(channel, maps.shape[0] - 1)
column = next(c for c in d.columns if c.layer.name == layer_name)
st.header(f"{layer_name} · channel {channel}")
st.caption(
    f"{layer.type} · output {maps.shape[0]}×{maps.shape[1]}×{maps.shape[2]} · "
    f"each unit sees {layer.rf}×{layer.rf} input pixels"
)
row, col = nv.detail(layer, channel, maps[channel], column)

conv = nv.conv_of(layers, layer_name) if small else None
if conv is not None:
    st.subheader("How this unit was computed")
    nv.arithmetic(layers, conv, channel, row, col, float(maps[channel, row, col]))
elif small:
    st.caption("Click a convolution or activation tile to see how one of its units is computed.")

with st.expander("What am I looking at?"):
    st.markdown("""
Every column is a layer (small networks) or the output of a block (big ones), in the order the image
passes through them. Each tile is one **channel**: a map of where that channel's filter found its
pattern. Early columns are large maps of edges and colours; later ones are small maps of parts and
objects, and many more channels (only the strongest few are drawn for big networks).

Click a tile: the channel appears large below, with the input pixels one unit of it can see (its
**receptive field**). In a small network, a convolution unit is a sum: every input channel's window
multiplied by that channel's kernel, added up, plus a bias; the activation after it (ReLU) then
zeroes negative sums.
""")
