"""Preprocessing: the current image through the model's own pipeline, one step at a time."""

import streamlit as st
from PIL import Image

from cnnviz import i18n, render
from cnnviz.a11y import alt_lessons, alt_text
from cnnviz.i18n import _, number
from cnnviz.teaching import preprocess_mistakes as pm
from cnnviz.teaching import preprocess_steps as ps
from cnnviz.ui import chart_specs, described, links, loaders, present, state
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
got = pv.prepared()
s = got.steps
info = ps.file_info(loaders.current_image_bytes()[0])
grey = spec.channels == 1
n = 1

st.header(_("{n} · The original").format(n=n))
left, right = st.columns([1, 1.4], gap="large")
left.image(render.photo_bytes(img), width=300, alt=alt_text.photo(described.photo_name(), img.size))
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
        render.photo_bytes(s.converted),
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
    render.photo_bytes(Image.fromarray(got.border)),
    caption=_("Resized {width}×{height}: the dimmed border is thrown away").format(width=rw, height=rh),
    alt=alt_lessons.border((rw, rh), spec.size),
)
kept = 100 * spec.size * spec.size / (rw * rh)
right.image(
    render.to_png(ps.enlarge(s.cropped, 224)),
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
        render.to_png(ps.enlarge(s.final, 224)),
        width=224,
        alt=_("The {size}×{size} picture inverted: white strokes on black.").format(size=spec.size),
    )
    right.markdown(_("This model learned white strokes on black: every value v becomes 255 − v."))

n += 1
pv.pixel_section(s, n)

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
    spec=present.chart(chart_specs.spec(pv.histogram_chart, got.before, lang=lang)),
    width="stretch",
)
right.markdown(_("**After:** what the network is fed"))
right.vega_lite_chart(
    spec=present.chart(chart_specs.spec(pv.histogram_chart, got.after, lang=lang)),
    width="stretch",
)
st.caption(pv.why_text(spec))

n += 1
pv.fed_section(s, got.same, n)

n += 1
pv.mistakes_section(spec, n)
