"""Grad-CAM: where the network found evidence for a class, at one layer and at every block."""

import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_text
from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _, ngettext, percent
from cnnviz.ui import explain_views as xv
from cnnviz.ui import lesson_follow, links, loaders, state
from cnnviz.ui.layer_picker import layer_select
from cnnviz.ui.text import plain

links.page(
    layer=links.layer_param(state.GC_LAYER),
    target=links.int_param(state.EXPLAIN_TARGET, clear=(state.EXPLAIN_TARGET_FOR,)),
    alpha=links.float_param(state.GC_ALPHA, 0.0, 1.0),
    cmap=links.choice_param(state.GC_CMAP, xv.CMAPS),
    signed=links.bool_param(state.GC_SIGNED),
    sweep=links.bool_param(state.GC_SWEEP),
)
HIDDEN = N_("The map stays hidden until your teacher reveals the model's answer: answer the question above first.")
st.title(_("Grad-CAM: where did it look?"))
lm = loaders.current_model()
loaders.current_image()  # no photo: the page says so and stops here
name, weights = loaders.model_key()
digest = loaders.current_image_bytes()[2]
picture = loaders.model_view()

layers = loaders.cached_catalogue(name, weights)
layer = layer_select(_("Layer"), layers, state.GC_LAYER, default=lm.info.default_layer)
c1, c2, c3, c4 = st.columns([2.8, 1.4, 1.2, 1.6])  # room for a long toggle label (de: "Mit Vorzeichen")
with c1:
    target = xv.target_select(_("Class to explain"), state.GC_TARGET, lm, digest)
hidden = lesson_follow.answer_hidden()  # the class is asked where the model looked: no map yet
with c2:
    alpha = st.slider(_("Map opacity"), 0.0, 1.0, 0.5, 0.05, key=state.GC_ALPHA, disabled=hidden)
with c3:
    cmap = st.selectbox(
        _("Colours"),
        xv.CMAPS,
        key=state.GC_CMAP,
        on_change=xv.keep_cmap,
        args=(state.GC_CMAP,),
        help=_(xv.CMAP_HELP),
    )
    st.session_state[state.EXPLAIN_CMAP] = cmap  # a link's cmap= too
with c4:
    signed = st.toggle(
        _("Signed"),
        key=state.GC_SIGNED,
        help=_("Keep negative evidence (blue) and the map's real values instead of 0…max."),
    )

try:
    e = xv.explanation("gradcam", target, layer.name)
except CnnvizError as err:
    st.error(str(err))
    links.stop()

d = render.display(e.map if not signed else e.signed, signed=signed, cmap=cmap)
png = render.overlay_png(picture, d, alpha=0.0 if hidden else alpha)
if hidden:
    alt = alt_text.explanation_hidden("Grad-CAM", e.label, e.layer)
else:
    alt = alt_text.explanation("Grad-CAM", e.label, e.layer, e.signed if signed else e.map, signed=signed)
left, right = st.columns([1.1, 1], gap="large")
with left:
    st.image(
        png,
        caption=_("Grad-CAM at {layer} for “{label}”").format(layer=e.layer, label=e.label),
        width="stretch",
        alt=alt,
    )
with right:
    st.header(plain(e.label))
    st.markdown(_("class {n} · probability **{p}**").format(n=e.target, p=percent(e.prob, 1)))
    h, w = e.map.shape
    st.markdown(
        _("Map: **{h}×{w}** at `{layer}`, stretched to {width}×{height} · computed in **{ms} ms**").format(
            h=h, w=w, layer=e.layer, width=picture.width, height=picture.height, ms=f"{e.seconds * 1000:.0f}"
        )
    )
    if hidden:
        st.info(_(HIDDEN), icon=":material/how_to_vote:")
    else:
        xv.legend(d)
    if not e.map.any() and not hidden:
        st.info(_("Nothing at this layer raises this class's score: the map is empty. Try another layer or class."))
    st.download_button(
        _("Download PNG"),
        png,
        file_name=f"gradcam_{lm.name}_{e.layer}_{e.target}.png",
        mime="image/png",
        key=state.GC_DOWNLOAD,
    )
    with st.expander(_("What am I looking at?")):
        st.markdown(_(xv.GRADCAM_EXPLAINER))

st.divider()
st.header(_("Layer sweep: where does the evidence form?"))
if hidden:
    st.caption(_(HIDDEN))
    links.stop()
if not st.toggle(
    _("Show Grad-CAM at every block"),
    key=state.GC_SWEEP,
    help=_("One more forward and backward pass: the same class's Grad-CAM at the output of every block."),
):
    st.caption(_("Turn it on to see, block by block from early to late, where the evidence for this class forms."))
    links.stop()
try:
    s = xv.sweep(target)
except CnnvizError as err:
    st.error(str(err))
    links.stop()
small = picture.resize((150, 150))
thumbs = [render.overlay_png(small, render.display(m, cmap=cmap), alpha=0.55) for m in s.maps]
st.image(
    thumbs,
    caption=[f"{n} · {m.shape[0]}×{m.shape[1]}" for n, m in zip(s.layers, s.maps, strict=True)],
    width=150,
    alt=alt_text.sweep(s.label, s.layers, s.maps),
)
st.caption(
    ngettext(
        "{n} block, early → late, for “{label}” · all in {ms} ms (one forward and one backward pass)",
        "{n} blocks, early → late, for “{label}” · all in {ms} ms (one forward and one backward pass)",
        len(s.layers),
    ).format(n=len(s.layers), label=plain(s.label), ms=f"{s.seconds * 1000:.0f}")
)
with st.expander(_("What am I looking at?")):
    st.markdown(_(xv.SWEEP_EXPLAINER))
