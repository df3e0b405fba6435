"""Filters: the weights a convolution layer learned, trained next to untrained."""

import numpy as np
import streamlit as st

from cnnviz.a11y import alt_text
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, ngettext
from cnnviz.inside import filters as fl
from cnnviz.models.zoo import is_onnx
from cnnviz.ui import channel_views, links, loaders, present, state, widgets
from cnnviz.ui.clickable import clicked
from cnnviz.ui.download import download_png
from cnnviz.ui.inside_charts import norms_histogram
from cnnviz.ui.layer_picker import layer_select

links.page(
    layer=links.layer_param(state.FILT_LAYER),
    mode=links.choice_param(state.FILT_MODE, fl.MODES),
    channel=links.int_param(state.FILT_CHANNEL),
    norm=links.choice_param(state.FILT_NORM, fl.NORMS),
)
st.title(_("Filters: what a convolution looks for"))
lm = loaders.current_model()
name, weights = loaders.model_key()
layers = loaders.cached_catalogue(name, weights)
layer = layer_select(_("Convolution layer"), layers, state.FILT_LAYER, kinds=("conv",))
w = fl.conv_weight(lm.model, layer.name)  # (O, I, kH, kW)
o, i, kh, kw = w.shape

c1, c2, c3 = st.columns([1.2, 1, 1])
with c1:
    mode = st.radio(
        _("Show"),
        fl.MODES,
        key=state.FILT_MODE,
        horizontal=True,
        format_func={
            "average": _("colour / average") if i == 3 else _("average of inputs"),
            "channel": _("one input channel"),
        }.get,
        disabled=i == 1,
    )
with c2:
    widgets.clamp(state.FILT_CHANNEL, 0, i - 1)  # a link or another layer may have left a bigger value
    # no default beside the key: links and clamp() set its value, and a widget given both made
    # Streamlit log a session-state warning on the server
    channel = st.number_input(
        _("Input channel"), 0, i - 1, key=state.FILT_CHANNEL, disabled=mode != "channel" or i == 1
    )
with c3:
    norm = st.radio(
        _("Normalise"),
        fl.NORMS,
        key=state.FILT_NORM,
        horizontal=True,
        format_func={"filter": _("per filter"), "layer": _("per layer")}.get,
    )
depthwise = i == 1 and lm.preprocess_spec.channels != 1
st.markdown(
    (
        ngettext(
            "**{layer}**: {n} filter of {i}×{kh}×{kw} weights (depthwise: each filter reads one channel)",
            "**{layer}**: {n} filters of {i}×{kh}×{kw} weights (depthwise: each filter reads one channel)",
            o,
        )
        if depthwise
        else ngettext(
            "**{layer}**: {n} filter of {i}×{kh}×{kw} weights", "**{layer}**: {n} filters of {i}×{kh}×{kw} weights", o
        )
    ).format(layer=layer.name, n=o, i=i, kh=kh, kw=kw)
)


def other_weights() -> tuple[str, np.ndarray | None, str]:
    """The same layer in the same architecture with the other weights (trained ↔ random):
    (its kind, "random" or "trained"; its weights or None; why there are none)."""
    other = state.WEIGHTS_RANDOM if weights != state.WEIGHTS_RANDOM else state.WEIGHTS_PRETRAINED
    kind = "random" if other == state.WEIGHTS_RANDOM else "trained"
    if is_onnx(weights):  # the sidebar's architecture (random) is not the file's
        return (
            kind,
            None,
            _("An ONNX file brings its own architecture and weights; no random initialisation of it is offered."),
        )
    try:
        return kind, fl.conv_weight(loaders.cached_model(name, other).model, layer.name), ""
    except CnnvizError as e:
        return kind, None, str(e)


# "random"/"trained" name the downloads and widget keys; the headers show these
HEADERS = {"random": _("Random init (untrained)"), "trained": _("Trained")}
IN_SENTENCE = {"random": _("random init (untrained)"), "trained": _("trained")}  # the alt texts' words
this_kind = "random" if weights == state.WEIGHTS_RANDOM else "trained"
other_kind, w2, why = other_weights()
left, right = st.columns(2, gap="large")
for col, kind, ww in ((left, this_kind, w), (right, other_kind, w2)):
    label = HEADERS[kind]
    with col:
        st.header(label)
        if ww is None:
            st.info(why)
            continue
        grid = fl.filter_grid(ww, mode=mode, channel=int(channel), norm=norm, width=520)
        text = alt_text.filters(
            layer.name, ww.shape, fl.filter_norms(ww), label=IN_SENTENCE[kind], mode=mode, channel=int(channel)
        )
        if ww is w:  # this model's own filters: a click opens that filter's channel
            hit = clicked(grid, key=state.FILT_CLICK, width=520, alt=text, hotspots=fl.filter_hotspots(w.shape, 520))
            picked = fl.filter_at(hit, w.shape, 520) if hit is not None else None
            if picked is not None:
                channel_views.open_channel(layer.name, picked)
            st.caption(_("Click a filter to see what its output channel looks for (the Channel page)."))
        else:
            st.image(grid, width=520, alt=text)
        download_png(grid, f"filters_{name}_{layer.name}_{kind}", f"filters_{kind}")
if i == 3 and mode == "average":
    st.caption(
        _(
            "Each tile is one filter as a tiny colour picture: grey is zero weight, bright colours are "
            "the colour and edge patterns the filter responds to."
        )
    )
elif i == 1:
    st.caption(_("Grey levels: black is the most negative weight, white the most positive."))
else:
    st.caption(_("Blue: negative weight, white: zero, red: positive."))

norms = {HEADERS[this_kind]: fl.filter_norms(w)}
if w2 is not None:
    norms[HEADERS[other_kind]] = fl.filter_norms(w2)
st.header(_("Filter strengths"))
for hist in norms_histogram(norms):
    st.altair_chart(present.chart(hist), width="stretch")

with st.expander(_("What am I looking at?")):
    st.markdown(
        _("""
A convolution filter is a small stack of weights that slides over its input; at every position it
multiplies and adds, so it responds most where the input looks like the filter. In the **first layer**
the input is the photo, so a filter is itself a tiny colour picture: trained networks learn edges at
different angles, colour blobs and stripes. **Deeper** filters read the previous layer's channels, not
colours: we show their weights for one input channel, or averaged over all of them.

**Random init** is the same architecture before training: its filters are noise. The histogram shows
each filter's size (its L2 norm); training typically spreads them out.
""")
    )
