"""Channel: what one channel looks for: its map, its feature visualisation, its top images, its weights."""

import streamlit as st

from cnnviz.ui import channel_views as cv
from cnnviz.ui import loaders, selection, state
from cnnviz.ui.layer_picker import layer_select

st.title("One channel")
lm = loaders.current_model()
name, weights = loaders.model_key()
layers = loaders.cached_catalogue(name, weights)
query = selection.fresh_query("channel", ("layer", "channel"))  # a link, Feature maps or Network
if "layer" in query and not selection.select_layer(layers, query["layer"], state.CH_LAYER):
    st.warning("The link names a layer this model does not have; showing another one.")
if "channel" in query:
    st.session_state[state.CH_CHANNEL] = selection.as_int(query["channel"], 0, 1 << 20)  # checked below
default = lm.info.default_layer if any(la.name == lm.info.default_layer for la in layers) else None
c1, c2 = st.columns([3, 1])
with c1:
    layer = layer_select("Layer", layers, state.CH_LAYER, default=default)
with c2:
    if "channel" in query and not cv.has_channel(layer, st.session_state[state.CH_CHANNEL]):
        st.warning("The link names a channel this layer does not have; showing channel 0.")
    channel = cv.channel_input(layer)
st.query_params.update({"layer": layer.name, "channel": str(channel)})  # the view is a link

left, mid, right = st.columns(3, gap="medium")
with left:
    cv.map_panel(layer, channel)
with mid:
    cv.featvis_panel(lm, layer, channel)
with right:
    cv.weights_panel(lm, layers, layer, channel)

st.subheader(f"The {cv.TOP_K} images that excite channel {channel} most")
cv.examples_panel(lm, layer, channel)

with st.expander("What am I looking at?"):
    st.markdown(cv.EXPLAIN)
