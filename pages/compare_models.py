"""Compare models: two models on the same image, side by side."""

import numpy as np
import streamlit as st

from cnnviz.i18n import _, ngettext
from cnnviz.inside import model_compare as mc
from cnnviz.ui import compare_views as cv
from cnnviz.ui import links, loaders, notices, state

names, kinds = cv.model_names(), tuple(cv.WEIGHTS)
links.page(
    a=links.model_param(state.CMP_MODEL_A, names, clear=(state.CMP_LAYER_A,)),
    a_weights=links.choice_param(state.CMP_WEIGHTS_A, kinds),
    b=links.model_param(state.CMP_MODEL_B, names, clear=(state.CMP_LAYER_B,)),
    b_weights=links.choice_param(state.CMP_WEIGHTS_B, kinds),
    depth=links.int_param(state.CMP_DEPTH, 0, 100),
)
st.title(_("Two models, one image"))
img = loaders.current_image()
digest = loaders.current_image_bytes()[2]
cv.init_pair()
cv.lesson_buttons()

cols = st.columns(2, gap="large")
picked, models = {}, {}
for col, slot in zip(cols, ("A", "B"), strict=True):
    with col:
        picked[slot] = cv.picker(slot)
        models[slot] = cv.load(*picked[slot])
if any(w == state.WEIGHTS_RANDOM for _, w in picked.values()):
    notices.weights_notice(state.WEIGHTS_RANDOM)

st.header(_("Top-5"))
preds = {}
cols = st.columns(2, gap="large")
for col, slot in zip(cols, ("A", "B"), strict=True):
    with col:
        if models[slot] is not None:
            preds[slot] = cv.top5(*picked[slot])
if len(preds) < 2:
    links.stop()

st.header(_("Feature maps at a comparable depth"))
depth = st.slider(
    # "%" as a placeholder: "% o" would read as a printf format to Babel's catalogue check
    _("Depth ({pct} of the way through each network)").format(pct="%"),
    0,
    100,
    50,
    5,
    key=state.CMP_DEPTH,
    on_change=cv.reset_layers,
    help=_("Each model gets the activation layer this far through its own stack; pick another in its column."),
)
cols = st.columns(2, gap="large")
for col, slot in zip(cols, ("A", "B"), strict=True):
    with col:
        cv.feature_maps(slot, models[slot], *picked[slot], depth / 100)

st.header(_("First-layer filters"))
cols = st.columns(2, gap="large")
for col, slot in zip(cols, ("A", "B"), strict=True):
    with col:
        cv.first_filters(models[slot], *picked[slot])

st.header(_("Grad-CAM of a class both know"))
shared = mc.shared_classes(models["A"].classes, models["B"].classes)
targets = {}
if shared:
    stamp = (*picked["A"], *picked["B"], digest)
    if st.session_state.get(state.CMP_TARGET_FOR) != stamp or st.session_state.get(state.CMP_TARGET) not in range(
        len(shared)
    ):
        st.session_state[state.CMP_TARGET_FOR] = stamp
        probs = [np.asarray(preds[s]["logits"]) for s in ("A", "B")]
        probs = [np.exp(p - p.max()) / np.exp(p - p.max()).sum() for p in probs]
        st.session_state[state.CMP_TARGET] = mc.best_shared(shared, *probs)
    labels = {i: s.label for i, s in enumerate(shared)}
    pos = st.selectbox(
        ngettext("Class ({n} shared)", "Class ({n} shared)", len(shared)).format(n=len(shared)),
        list(labels),
        key=state.CMP_TARGET,
        format_func=labels.get,
        help=_("Starts on the class the two models believe in most together."),
    )
    targets = {"A": shared[pos].index_a, "B": shared[pos].index_b}
else:
    st.info(_("These two models share no class, so each Grad-CAM explains that model's own top class."))
    targets = {s: preds[s]["top"][0]["index"] for s in ("A", "B")}
cols = st.columns(2, gap="large")
for col, slot in zip(cols, ("A", "B"), strict=True):
    with col:
        cv.gradcam(models[slot], *picked[slot], img, targets[slot])

with st.expander(_("What am I looking at?")):
    st.markdown(
        _(
            "The same photo goes through two networks, each with its own preprocessing. **Trained vs random** "
            "weights of one architecture: the random one's filters are noise and its feature maps barely "
            "depend on the picture. **Two trained networks** agree on the top classes more often than on "
            "their insides: layers at the same relative depth can look very different, yet both end up "
            "looking at the object. ImageNet models share all 1000 classes; a digits model shares none "
            "with them."
        )
    )
