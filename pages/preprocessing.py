"""Preprocessing: the current image through the model's own pipeline, one step at a time."""

import streamlit as st
import torch

from cnnviz import i18n
from cnnviz.a11y import alt_lessons, alt_text
from cnnviz.i18n import _, number
from cnnviz.teaching import preprocess_mistakes as pm
from cnnviz.teaching import preprocess_steps as ps
from cnnviz.ui import chart_specs, charts, described, links, loaders, present, state
from cnnviz.ui import preprocess_views as pv
from cnnviz.ui.text import plain

links.page(
    row=links.int_param(state.PRE_ROW),
    col=links.int_param(state.PRE_COL),
    variant=links.choice_param(state.PRE_VARIANT, pm.KINDS[1:]),
)
st.title(_("Preprocessing, step by step"))
lm = loaders.current_model()
img = loaders.current_image()
spec = lm.preprocess_spec
s = ps.steps(spec, img)
info = ps.file_info(loaders.current_image_bytes()[0])
grey = spec.channels == 1
n = 1

st.header(_("{n} · The original").format(n=n))
left, right = st.columns([1, 1.4], gap="large")
left.image(img, width=300, alt=alt_text.photo(described.photo_name(), img.size))
with right:
    if info is not None:
        st.markdown(
            _("File: **{format}**, colour mode **{mode}**, {width}×{height} pixels.").format(
                format=info.format, mode=info.mode, width=info.size[0], height=info.size[1]
            )
        )
    wants = (
        _("{model} wants a **{size}×{size}** grey square.")
        if grey
        else _("{model} wants a **{size}×{size}** colour square.")
    )
    st.markdown(
        _("Decoded: **{width}×{height}**, mode **RGB** (3 numbers per pixel, each 0–255).").format(
            width=img.width, height=img.height
        )
        + " "
        + wants.format(model=plain(lm.info.title), size=spec.size)
    )
if grey:
    n += 1
    st.header(_("{n} · Greyscale").format(n=n))
    left, right = st.columns([1, 1.4], gap="large")
    left.image(
        s.converted,
        width=300,
        alt=_("Your photo in grey, {width}×{height}.").format(width=s.converted.width, height=s.converted.height),
    )
    right.markdown(
        _(
            "This model has one input channel: each pixel becomes one brightness value, "
            "0.299·R + 0.587·G + 0.114·B (green counts most, as it does for our eyes)."
        )
    )

n += 1
st.header(_("{n} · Resize the shorter side to {size}").format(n=n, size=spec.resize))
w, h = s.converted.size
rw, rh = s.resized.size
st.markdown(
    _("{w}×{h} → **{rw}×{rh}** (× {factor}): both sides shrink by the same factor, so nothing is squashed.").format(
        w=w, h=h, rw=rw, rh=rh, factor=number(rw / w, 3)
    )
)

n += 1
st.header(_("{n} · Centre crop {size}×{size}").format(n=n, size=spec.size))
left, right = st.columns([1.6, 1], gap="large")
left.image(
    ps.border_view(s.resized, s.box),
    caption=_("Resized {width}×{height}: the dimmed border is thrown away").format(width=rw, height=rh),
    alt=alt_lessons.border((rw, rh), spec.size),
)
kept = 100 * spec.size * spec.size / (rw * rh)
right.image(
    ps.enlarge(s.cropped, 224),
    caption=_("What is kept: {size}×{size} ({kept} % of the resized picture)").format(
        size=spec.size, kept=f"{kept:.0f}"
    ),
    width=224,
    alt=_("What is kept: the {size}×{size} centre of the resized photo, {kept} % of it.").format(
        size=spec.size, kept=f"{kept:.0f}"
    ),
)
if spec.invert:
    n += 1
    st.header(_("{n} · Invert").format(n=n))
    left, right = st.columns([1, 1.4], gap="large")
    left.image(
        ps.enlarge(s.final, 224),
        width=224,
        alt=_("The {size}×{size} picture inverted: white strokes on black.").format(size=spec.size),
    )
    right.markdown(_("This model learned white strokes on black: every value v becomes 255 − v."))

n += 1
st.header(_("{n} · To numbers").format(n=n))
for key in (state.PRE_ROW, state.PRE_COL):  # a smaller model may leave a value out of range
    if not isinstance(st.session_state.get(key), int) or st.session_state[key] >= spec.size:
        st.session_state[key] = spec.size // 2
left, right = st.columns([1, 1.4], gap="large")
with right:
    row = st.slider(_("Pixel row"), 0, spec.size - 1, key=state.PRE_ROW)
    col = st.slider(_("Pixel column"), 0, spec.size - 1, key=state.PRE_COL)
    rows = s.pixel(row, col)
    st.dataframe(
        pv.pixel_frame(rows, spec),
        hide_index=True,
        width="stretch",
        alt=_("Pixel ({row}, {col}): each channel's value, minus the mean, divided by the std, as fed").format(
            row=row, col=col
        ),
    )
    notes = [_("Pixel ({row}, {col}) of the {size}×{size} picture, one row per channel.")]
    if not grey:
        notes.append(
            _("The channels go in as B, G, R (Caffe's order).") if spec.bgr else _("The channels go in as R, G, B.")
        )
    if spec.scale == 255.0:
        notes.append(_("Pixels stay 0–255 (no ÷ 255)."))
    st.caption(" ".join(notes).format(row=row, col=col, size=spec.size))
left.image(
    ps.mark_pixel(s.final, row, col, width=360),
    caption=_("The chosen pixel, circled"),
    width="stretch",
    alt=alt_lessons.marked_pixel(row, col, spec.size),
)

n += 1
st.header(_("{n} · Normalise each channel").format(n=n))
st.dataframe(
    pv.stats_frame(s),
    hide_index=True,
    width="stretch",
    alt=_("Per channel: the mean and std used, and the channel's mean and std before and after normalising"),
)
left, right = st.columns(2, gap="large")
lang = i18n.current()  # the charts' words: chart_specs keeps a spec per language
left.markdown(_("**Before:** the pixel values of each channel"))
left.vega_lite_chart(
    spec=present.chart(chart_specs.spec(pv.histogram_chart, ps.histograms(s.scaled, s.channel_names), lang=lang)),
    width="stretch",
)
right.markdown(_("**After:** what the network is fed"))
right.vega_lite_chart(
    spec=present.chart(chart_specs.spec(pv.histogram_chart, ps.histograms(s.tensor[0], s.channel_names), lang=lang)),
    width="stretch",
)
st.caption(pv.why_text(spec))

n += 1
st.header(_("{n} · The tensor the model is fed").format(n=n))
fed = lm.preprocess(img)
same = torch.equal(torch.from_numpy(s.tensor), fed.cpu())
a, b, c, d = st.columns([1.5, 1, 1, 1])
a.metric(_("Shape"), "×".join(str(v) for v in s.tensor.shape), help=_("batch × channels × height × width"))
b.metric(_("Type"), str(s.tensor.dtype))
c.metric(_("Smallest"), number(float(s.tensor.min()), 3))
d.metric(_("Largest"), number(float(s.tensor.max()), 3))
if same:
    st.success(_("These are exactly the numbers Predict feeds this model, checked one by one."))
else:
    st.error(_("These steps do not reproduce the model's input; please report it."))

n += 1
st.header(_("{n} · What if the preprocessing is wrong?").format(n=n))
kinds = pm.kinds_for(spec)[1:]  # every mistake this model can be fed ("right" is the left chart)
if st.session_state.get(state.PRE_VARIANT) not in kinds:
    st.session_state[state.PRE_VARIANT] = kinds[0]
labels = {k: pm.label(spec, k) for k in kinds}  # format_func: a dict's .get, no closure
kind = st.radio(_("Feed it with"), kinds, key=state.PRE_VARIANT, format_func=labels.get, horizontal=True)
outcome = pv.mistake(kind)
st.info(plain(outcome.sentence, 400))  # class names are data: never markdown
left, right = st.columns(2, gap="large")
with left:
    st.markdown(_("**Right preprocessing**"))
    st.vega_lite_chart(spec=present.chart(charts.top_k_chart([t.as_dict() for t in outcome.right])), width="stretch")
with right:
    wrong = labels[kind]
    st.markdown(f"**{wrong[:1].upper() + wrong[1:]}**")
    st.vega_lite_chart(spec=present.chart(charts.top_k_chart([t.as_dict() for t in outcome.wrong])), width="stretch")
with st.expander(_("What am I looking at?")):
    st.markdown(
        _(
            "A network only knows numbers, and only numbers like the ones it was trained on. Every model "
            "comes with its own recipe: picture size, how to crop, which channel order, which mean and "
            "spread. The same photo with a wrong recipe is, to the network, a different input — the "
            "prediction can shift a little or completely. Squashing changes the shapes the network sees; "
            "swapping red and blue changes colours it relies on (a tabby turns bluish); leaving out the "
            "normalisation or using 0–255 for 0–1 shifts or scales every number the first layer gets."
        )
    )
