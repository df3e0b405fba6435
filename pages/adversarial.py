"""Fool the network: an FGSM adversarial example with an epsilon slider."""

import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_lessons, alt_text
from cnnviz.errors import CnnvizError
from cnnviz.explain.adversarial import amplified
from cnnviz.i18n import N_, _, number
from cnnviz.ui import charts, links, loaders, present, sidebar, state
from cnnviz.ui import explain_views as xv
from cnnviz.ui.download import download_png
from cnnviz.ui.text import plain

EXPLAINER = N_("""
The **fast gradient sign method** (FGSM) asks the network which way each pixel should move
to make its own answer *less* likely (the sign of the loss's gradient), then moves every
pixel by exactly ε that way — at most ε×255 levels out of 255, invisible at 1–2. The middle
picture shows that change blown up: grey is no change, white +ε, black −ε. Networks add
up many small, aligned nudges across thousands of pixels, so a change too faint for us can
swing the scores. The Grad-CAMs show where the evidence for each picture's top class sits
before and after.

A **targeted attack** picks the class the network should see instead: ten small steps, each
moving every pixel against the gradient of that class's loss, then pulled back so that no
pixel is ever more than ε from the original. The same invisible budget, aimed.
""")

# the goal class stays out of the URL: `target` is the explained class on the other pages
links.page(eps=links.float_param(state.ADV_EPS, 0.0, 8.0))
st.title(_("Fool the network (adversarial example)"))
lm = loaders.current_model()
img = loaders.current_image()
if lm.info.family == "imagenet" and st.session_state.get(state.IMAGE_NAME) != xv.FOOL_PHOTO:
    tip, use = st.columns([3, 1])
    tip.info(_("The attack makes its point best on the rocket photo: “missile” becomes “drilling platform”."))
    use.button(_("Use the rocket photo"), key=state.ADV_USE_PHOTO, on_click=sidebar.use_sample, args=(xv.FOOL_PHOTO,))
e1, e2 = st.columns([1, 1.2])
level = e1.slider(
    _("ε: how far each pixel may move (in 1/255 steps)"),
    0.0,
    8.0,
    2.0,
    0.5,
    key=state.ADV_EPS,
    help=_("1 step = one brightness level of an 8-bit image; pixels stay within 0…255."),
)
if st.session_state.get(state.ADV_GOAL, -1) not in range(-1, len(lm.classes)):  # another model's class
    st.session_state[state.ADV_GOAL] = -1
goal = e2.selectbox(
    _("Fool it into (a targeted attack)"),
    [-1, *range(len(lm.classes))],
    key=state.ADV_GOAL,
    format_func=xv.goal_names(lm).get,
    help=_(
        "Type to search. A targeted attack takes 10 small steps towards this class, never moving a pixel more than ε."
    ),
)
eps = level / 255.0
lv = number(level, 0 if level == int(level) else 1)  # ε in 1/255 steps, as the slider shows it
try:
    att = xv.attack(eps, None if goal < 0 else goal)
except CnnvizError as err:
    st.error(str(err))
    links.stop()

if att.goal is not None and eps > 0:
    if att.reached:
        st.warning(
            _("Fooled into “{new}” (was “{old}”) with ε = {eps}/255.").format(
                new=plain(att.after[0].label), old=plain(att.before[0].label), eps=lv
            )
        )
    else:
        st.success(
            _("Not pushed into “{goal}” at ε = {eps}/255: the top class is “{top}”. Try a larger ε.").format(
                goal=plain(lm.label(att.goal)), eps=lv, top=plain(att.after[0].label)
            )
        )
elif att.fooled:
    st.warning(
        _("Fooled: “{old}” became “{new}” with ε = {eps}/255.").format(
            old=plain(att.before[0].label), new=plain(att.after[0].label), eps=lv
        )
    )
elif eps > 0:
    st.success(
        _("Not fooled at ε = {eps}/255: still “{label}”. Try a larger ε.").format(
            eps=lv, label=plain(att.after[0].label)
        )
    )

pictures = (
    ("original", (att.clean * 255).round().astype("uint8").squeeze(), _("Original (what the model sees)")),
    ("change", amplified(att.perturbation, att.eps),
     _("The change, amplified {n}×").format(n=number(0.5 / max(eps, 1e-9), 0)) if eps > 0
     else _("The change (none at ε = 0)")),
    ("perturbed", (att.adversarial * 255).round().astype("uint8").squeeze(), _("Perturbed picture")),
)  # fmt: skip
side = pictures[0][1].shape[0]
texts = {
    "original": alt_lessons.adversarial("original", att.before[0].label, att.before[0].prob, side),
    "change": alt_lessons.adversarial("change", "", 0.0, side, att.eps),
    "perturbed": alt_lessons.adversarial("perturbed", att.after[0].label, att.after[0].prob, side),
}
for col, (what, pic, caption) in zip(st.columns(3), pictures, strict=True):
    with col:
        png = render.to_png(pic)
        st.image(png, caption=caption, width="stretch", alt=texts[what])
        download_png(png, f"fool_{what}_{lm.name}_eps{level:g}", f"adv_{what}")

left, right = st.columns(2, gap="large")
for col, when, ts, cam, pix in (
    (left, "before", att.before, att.cam_before, att.clean),
    (right, "after", att.after, att.cam_after, att.adversarial),
):
    with col:
        st.header(_("Before") if when == "before" else _("After"))
        st.vega_lite_chart(spec=present.chart(charts.top_k_chart([t.as_dict() for t in ts])), width="stretch")
        png = render.overlay_png(pix.squeeze(), render.display(cam.map, cmap=xv.cmap()), alpha=0.5)
        text = (_("Before the attack: {alt}") if when == "before" else _("After the attack: {alt}")).format(
            alt=alt_text.explanation("Grad-CAM", cam.label, cam.layer, cam.map)
        )
        st.image(png, caption=_("Grad-CAM for “{label}”").format(label=cam.label), width=300, alt=text)
        download_png(png, f"fool_gradcam_{when}_{lm.name}", f"adv_cam_{when}")
with st.expander(_("What am I looking at?")):
    st.markdown(_(EXPLAINER))
