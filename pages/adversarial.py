"""Fool the network: an FGSM adversarial example with an epsilon slider."""

import streamlit as st

from cnnviz import render
from cnnviz.adversarial import amplified
from cnnviz.errors import CnnvizError
from cnnviz.ui import charts, links, loaders, state
from cnnviz.ui import explain_views as xv
from cnnviz.ui.text import plain

EXPLAINER = """
The **fast gradient sign method** (FGSM) asks the network which way each pixel should move
to make its own answer *less* likely (the sign of the loss's gradient), then moves every
pixel by exactly ε that way — at most ε×255 levels out of 255, invisible at 1–2. The middle
picture shows that change blown up: grey is no change, white +ε, black −ε. Networks add
up many small, aligned nudges across thousands of pixels, so a change too faint for us can
swing the scores. The Grad-CAMs show where the evidence for each picture's top class sits
before and after.
"""

links.page(eps=links.float_param(state.ADV_EPS, 0.0, 8.0))
st.title("Fool the network (adversarial example)")
lm = loaders.current_model()
img = loaders.current_image()
level = st.slider(
    "ε: how far each pixel may move (in 1/255 steps)",
    0.0,
    8.0,
    2.0,
    0.5,
    key=state.ADV_EPS,
    help="1 step = one brightness level of an 8-bit image; pixels stay within 0…255.",
)
eps = level / 255.0
try:
    att = xv.attack(eps)
except CnnvizError as err:
    st.error(str(err))
    st.stop()

if att.fooled:
    st.warning(f"Fooled: “{plain(att.before[0].label)}” became “{plain(att.after[0].label)}” with ε = {level:g}/255.")
elif eps > 0:
    st.success(f"Not fooled at ε = {level:g}/255: still “{plain(att.after[0].label)}”. Try a larger ε.")

a, b, c = st.columns(3)
a.image(
    render.to_png((att.clean * 255).round().astype("uint8").squeeze()),
    caption="Original (what the model sees)",
    width="stretch",
)
b.image(
    render.to_png(amplified(att.perturbation, att.eps)),
    caption=f"The change, amplified {0.5 / max(eps, 1e-9):.0f}×" if eps > 0 else "The change (none at ε = 0)",
    width="stretch",
)
c.image(
    render.to_png((att.adversarial * 255).round().astype("uint8").squeeze()),
    caption="Perturbed picture",
    width="stretch",
)


left, right = st.columns(2, gap="large")
for col, title, ts, cam, pix in (
    (left, "Before", att.before, att.cam_before, att.clean),
    (right, "After", att.after, att.cam_after, att.adversarial),
):
    with col:
        st.subheader(title)
        st.altair_chart(charts.top_k_chart([t.as_dict() for t in ts]), width="stretch")
        st.image(
            render.overlay_png(pix.squeeze(), render.display(cam.map), alpha=0.5),
            caption=f"Grad-CAM for “{cam.label}”",
            width=300,
        )
with st.expander("What am I looking at?"):
    st.markdown(EXPLAINER)
