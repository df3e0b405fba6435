"""Channel: what one channel looks for: its map, its feature visualisation, its top images, its weights."""

import streamlit as st

from cnnviz.i18n import _, ngettext
from cnnviz.ui import channel_views as cv
from cnnviz.ui import links, loaders, state
from cnnviz.ui.layer_picker import layer_select

links.page(layer=links.layer_param(state.CH_LAYER), channel=links.int_param(state.CH_CHANNEL))
st.title(_("One channel"))
lm = loaders.current_model()
name, weights = loaders.model_key()
layers = loaders.cached_catalogue(name, weights)
default = lm.info.default_layer if any(la.name == lm.info.default_layer for la in layers) else None
c1, c2 = st.columns([3, 1])
with c1:
    layer = layer_select(_("Layer"), layers, state.CH_LAYER, default=default)
with c2:
    channel = cv.channel_input(layer)

left, mid, right = st.columns(3, gap="medium")
with left:
    cv.map_panel(layer, channel)
with mid:
    cv.featvis_panel(lm, layer, channel)
with right:
    cv.weights_panel(lm, layers, layer, channel)

st.header(
    ngettext(
        "The image that excites channel {channel} most", "The {n} images that excite channel {channel} most", cv.TOP_K
    ).format(n=cv.TOP_K, channel=channel)
)
cv.examples_panel(lm, layer, channel)

with st.expander(_("What am I looking at?")):
    st.markdown(_(cv.EXPLAIN))
