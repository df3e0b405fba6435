"""Predict: the image, what the model sees, and its top-5 classes."""

import streamlit as st

from cnnviz.ui import charts, loaders

st.title("What does the network see?")
lm = loaders.current_model()
img = loaders.current_image()
pred = loaders.cached_prediction(top=5)

left, right = st.columns([1, 1.3], gap="large")
with left:
    st.image(img, caption="Your image", width="stretch")
    spec = lm.preprocess_spec
    st.image(loaders.model_view(), caption=f"What the model is fed: {spec.size}×{spec.size}", width=200)
with right:
    st.subheader("Top 5 classes")
    st.altair_chart(charts.top_k_chart(pred["top"]), width="stretch")
    best = pred["top"][0]
    st.markdown(
        f"**{best['label']}** with probability **{best['prob']:.1%}** — "
        f"forward pass {pred['seconds'] * 1000:.0f} ms on {lm.device.type.upper()}"
    )
    with st.expander("What am I looking at?"):
        st.markdown(charts.PREDICT_EXPLAINER.format(size=spec.size))
