"""Predict: the image, what the model is fed, and its top-5 classes."""

import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_text
from cnnviz.ui import charts, described, lesson_follow, links, loaders, notices, present
from cnnviz.ui.text import plain

HIDDEN = "The model's answer stays hidden until your teacher reveals it: answer the question above first."

links.page()
st.title("What does the network see?")
st.caption("Pick a model and a photo in the sidebar; every page looks inside the same pair.")
lm = loaders.current_model()
img = loaders.current_image()
pred = loaders.cached_prediction(top=5)
spec = lm.preprocess_spec
hidden = lesson_follow.answer_hidden()  # the class votes on what the model will say: not a word of it yet

left, right = st.columns([1, 1.25], gap="large")
with left:
    st.image(
        render.photo_bytes(img),
        caption=f"Your image ({img.width}×{img.height})",
        width="stretch",
        alt=alt_text.photo(described.photo_name(), img.size, None if hidden else pred["top"][0]),
    )
with right:
    best = pred["top"][0]
    guess = " (an untrained guess)" if lm.weights == "random" else ""
    if hidden:
        st.info(HIDDEN, icon=":material/how_to_vote:")
    else:
        st.header(f"{plain(best['label'])} — {best['prob']:.1%}{guess}")
        st.vega_lite_chart(spec=present.chart(charts.top_k_chart(pred["top"])), width="stretch")
        notices.familiarity_notice(lm, img)
    st.caption(f"{plain(lm.title)} · forward pass {pred['seconds'] * 1000:.0f} ms on {lm.device.type.upper()}")
    fed, text = st.columns([1, 1.6])
    fed.image(
        render.photo_bytes(loaders.model_view()),
        caption=f"Model input: {spec.size}×{spec.size}",
        width="stretch",
        alt=alt_text.model_input(lm.title, spec.size, spec.channels),
    )
    text.markdown(charts.FED_EXPLAINER.format(size=spec.size, channels="grey" if spec.channels == 1 else "colour"))
with st.expander("What am I looking at?"):
    st.markdown(charts.PREDICT_EXPLAINER.format(size=spec.size))
