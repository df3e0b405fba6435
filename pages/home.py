"""Predict: the image, what the model is fed, and its top-5 classes."""

import streamlit as st

from cnnviz import i18n, render
from cnnviz.a11y import alt_text
from cnnviz.i18n import N_, _, percent, pgettext
from cnnviz.ui import charts, described, lesson_follow, links, loaders, menu, notices, present
from cnnviz.ui.text import plain

HIDDEN = N_("The model's answer stays hidden until your teacher reveals it: answer the question above first.")

links.page()
st.title(_(menu.HOME_TITLE))
st.caption(_(menu.HOME_CAPTION))
lm = loaders.current_model()
img = loaders.current_image()
pred = loaders.cached_prediction(top=5)
spec = lm.preprocess_spec
hidden = lesson_follow.answer_hidden()  # the class votes on what the model will say: not a word of it yet

left, right = st.columns([1, 1.25], gap="large")
with left:
    st.image(
        render.photo_bytes(img),
        caption=_("Your image ({width}×{height})").format(width=img.width, height=img.height),
        width="stretch",
        alt=alt_text.photo(described.photo_name(), img.size, None if hidden else pred["top"][0]),
    )
with right:
    best = pred["top"][0]
    if hidden:
        st.info(_(HIDDEN), icon=":material/how_to_vote:")
    else:
        heading = _("{label} — {prob} (an untrained guess)") if lm.weights == "random" else _("{label} — {prob}")
        st.header(heading.format(label=plain(best["label"]), prob=percent(best["prob"], 1)))
        st.vega_lite_chart(spec=present.chart(charts.top_k_chart(pred["top"])), width="stretch")
        if i18n.current() != i18n.SOURCE and (lm.info.family == "imagenet" or len(lm.classes) == 1000):
            # issue 30: no licensed translation of ImageNet's 1000 names ships; say why they are
            # English (a timm or ONNX model with 1000 classes has ImageNet's names too)
            st.caption(_("The class names are ImageNet's own and stay in English."))
        notices.familiarity_notice(lm, img)
    st.caption(
        _("{model} · forward pass {ms} ms on {device}").format(
            model=plain(lm.title), ms=f"{pred['seconds'] * 1000:.0f}", device=lm.device.type.upper()
        )
    )
    fed, text = st.columns([1, 1.6])
    fed.image(
        render.photo_bytes(loaders.model_view()),
        caption=_("Model input: {size}×{size}").format(size=spec.size),
        width="stretch",
        alt=alt_text.model_input(lm.title, spec.size, spec.channels),
    )
    # the words fill charts.FED_EXPLAINER's "a {size}×{size} {channels} crop": a phrase that
    # follows the noun in Spanish and German ("en color", "in Farbe")
    channels = pgettext("fed crop", "grey") if spec.channels == 1 else pgettext("fed crop", "colour")
    text.markdown(_(charts.FED_EXPLAINER).format(size=spec.size, channels=channels))
with st.expander(_("What am I looking at?")):
    st.markdown(_(charts.PREDICT_EXPLAINER).format(size=spec.size))
