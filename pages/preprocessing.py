"""Preprocessing: the current image through the model's own pipeline, one step at a time."""

import streamlit as st
import torch

from cnnviz import preprocess_mistakes as pm
from cnnviz import preprocess_steps as ps
from cnnviz.a11y import alt_lessons, alt_text
from cnnviz.ui import chart_specs, charts, described, links, loaders, present, state
from cnnviz.ui import preprocess_views as pv
from cnnviz.ui.text import plain

links.page(
    row=links.int_param(state.PRE_ROW),
    col=links.int_param(state.PRE_COL),
    variant=links.choice_param(state.PRE_VARIANT, pm.KINDS[1:]),
)
st.title("Preprocessing, step by step")
lm = loaders.current_model()
img = loaders.current_image()
spec = lm.preprocess_spec
s = ps.steps(spec, img)
info = ps.file_info(loaders.current_image_bytes()[0])
grey = spec.channels == 1
n = 1

st.header(f"{n} · The original")
left, right = st.columns([1, 1.4], gap="large")
left.image(img, width=300, alt=alt_text.photo(described.photo_name(), img.size))
with right:
    if info is not None:
        st.markdown(f"File: **{info.format}**, colour mode **{info.mode}**, {info.size[0]}×{info.size[1]} pixels.")
    st.markdown(
        f"Decoded: **{img.width}×{img.height}**, mode **RGB** (3 numbers per pixel, each 0–255). "
        f"{plain(lm.info.title)} wants a **{spec.size}×{spec.size}** {'grey' if grey else 'colour'} square."
    )
if grey:
    n += 1
    st.header(f"{n} · Greyscale")
    left, right = st.columns([1, 1.4], gap="large")
    left.image(s.converted, width=300, alt=f"Your photo in grey, {s.converted.width}×{s.converted.height}.")
    right.markdown(
        "This model has one input channel: each pixel becomes one brightness value, "
        "0.299·R + 0.587·G + 0.114·B (green counts most, as it does for our eyes)."
    )

n += 1
st.header(f"{n} · Resize the shorter side to {spec.resize}")
w, h = s.converted.size
rw, rh = s.resized.size
st.markdown(f"{w}×{h} → **{rw}×{rh}** (× {rw / w:.3f}): both sides shrink by the same factor, so nothing is squashed.")

n += 1
st.header(f"{n} · Centre crop {spec.size}×{spec.size}")
left, right = st.columns([1.6, 1], gap="large")
left.image(
    ps.border_view(s.resized, s.box),
    caption=f"Resized {rw}×{rh}: the dimmed border is thrown away",
    alt=alt_lessons.border((rw, rh), spec.size),
)
kept = 100 * spec.size * spec.size / (rw * rh)
right.image(
    ps.enlarge(s.cropped, 224),
    caption=f"What is kept: {spec.size}×{spec.size} ({kept:.0f} % of the resized picture)",
    width=224,
    alt=f"What is kept: the {spec.size}×{spec.size} centre of the resized photo, {kept:.0f} % of it.",
)
if spec.invert:
    n += 1
    st.header(f"{n} · Invert")
    left, right = st.columns([1, 1.4], gap="large")
    left.image(
        ps.enlarge(s.final, 224),
        width=224,
        alt=f"The {spec.size}×{spec.size} picture inverted: white strokes on black.",
    )
    right.markdown("This model learned white strokes on black: every value v becomes 255 − v.")

n += 1
st.header(f"{n} · To numbers")
for key in (state.PRE_ROW, state.PRE_COL):  # a smaller model may leave a value out of range
    if not isinstance(st.session_state.get(key), int) or st.session_state[key] >= spec.size:
        st.session_state[key] = spec.size // 2
left, right = st.columns([1, 1.4], gap="large")
with right:
    row = st.slider("Pixel row", 0, spec.size - 1, key=state.PRE_ROW)
    col = st.slider("Pixel column", 0, spec.size - 1, key=state.PRE_COL)
    rows = s.pixel(row, col)
    st.dataframe(
        pv.pixel_frame(rows, spec),
        hide_index=True,
        width="stretch",
        alt=f"Pixel ({row}, {col}): each channel's value, minus the mean, divided by the std, as fed",
    )
    order = (
        ""
        if grey
        else (" The channels go in as B, G, R (Caffe's order)." if spec.bgr else " The channels go in as R, G, B.")
    )
    st.caption(
        f"Pixel ({row}, {col}) of the {spec.size}×{spec.size} picture, one row per channel.{order}"
        + (" Pixels stay 0–255 (no ÷ 255)." if spec.scale == 255.0 else "")
    )
left.image(
    ps.mark_pixel(s.final, row, col, width=360),
    caption="The chosen pixel, circled",
    width="stretch",
    alt=alt_lessons.marked_pixel(row, col, spec.size),
)

n += 1
st.header(f"{n} · Normalise each channel")
st.dataframe(
    pv.stats_frame(s),
    hide_index=True,
    width="stretch",
    alt="Per channel: the mean and std used, and the channel's mean and std before and after normalising",
)
left, right = st.columns(2, gap="large")
left.markdown("**Before:** the pixel values of each channel")
left.vega_lite_chart(
    spec=present.chart(chart_specs.spec(pv.histogram_chart, ps.histograms(s.scaled, s.channel_names))), width="stretch"
)
right.markdown("**After:** what the network is fed")
right.vega_lite_chart(
    spec=present.chart(chart_specs.spec(pv.histogram_chart, ps.histograms(s.tensor[0], s.channel_names))),
    width="stretch",
)
st.caption(pv.why_text(spec))

n += 1
st.header(f"{n} · The tensor the model is fed")
fed = lm.preprocess(img)
same = torch.equal(torch.from_numpy(s.tensor), fed.cpu())
a, b, c, d = st.columns([1.5, 1, 1, 1])
a.metric("Shape", "×".join(str(v) for v in s.tensor.shape), help="batch × channels × height × width")
b.metric("Type", str(s.tensor.dtype))
c.metric("Smallest", f"{s.tensor.min():.3f}")
d.metric("Largest", f"{s.tensor.max():.3f}")
if same:
    st.success("These are exactly the numbers Predict feeds this model, checked one by one.")
else:
    st.error("These steps do not reproduce the model's input; please report it.")

n += 1
st.header(f"{n} · What if the preprocessing is wrong?")
kinds = pm.kinds_for(spec)[1:]  # every mistake this model can be fed ("right" is the left chart)
if st.session_state.get(state.PRE_VARIANT) not in kinds:
    st.session_state[state.PRE_VARIANT] = kinds[0]
labels = {k: pm.label(spec, k) for k in kinds}  # format_func: a dict's .get, no closure
kind = st.radio("Feed it with", kinds, key=state.PRE_VARIANT, format_func=labels.get, horizontal=True)
outcome = pv.mistake(kind)
st.info(plain(outcome.sentence, 400))  # class names are data: never markdown
left, right = st.columns(2, gap="large")
with left:
    st.markdown("**Right preprocessing**")
    st.vega_lite_chart(spec=present.chart(charts.top_k_chart([t.as_dict() for t in outcome.right])), width="stretch")
with right:
    wrong = pm.label(spec, kind)
    st.markdown(f"**{wrong[:1].upper() + wrong[1:]}**")
    st.vega_lite_chart(spec=present.chart(charts.top_k_chart([t.as_dict() for t in outcome.wrong])), width="stretch")
with st.expander("What am I looking at?"):
    st.markdown(
        "A network only knows numbers, and only numbers like the ones it was trained on. Every model "
        "comes with its own recipe: picture size, how to crop, which channel order, which mean and "
        "spread. The same photo with a wrong recipe is, to the network, a different input — the "
        "prediction can shift a little or completely. Squashing changes the shapes the network sees; "
        "swapping red and blue changes colours it relies on (a tabby turns bluish); leaving out the "
        "normalisation or using 0–255 for 0–1 shifts or scales every number the first layer gets."
    )
