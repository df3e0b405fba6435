"""Convolution: a kernel playground on the user's photo, one output pixel traced, the model's own filter."""

import numpy as np
import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, number
from cnnviz.teaching import convolution as cv
from cnnviz.ui import compute_texts as texts
from cnnviz.ui import convolution_views as conv_views
from cnnviz.ui import links, loaders, state, widgets

STEPPER = (state.CONV_PATCH_ROW, state.CONV_PATCH_COL, state.CONV_POS)  # placed from row/col instead
links.page(
    kernel=links.choice_param(state.CONV_PRESET, cv.PRESETS, clear=(state.CONV_KERNEL, state.CONV_CELLS)),
    size=links.choice_param(state.CONV_SIZE, (3, 5), clear=(state.CONV_KERNEL, state.CONV_CELLS)),
    cells=links.numbers_param(state.CONV_CELLS, (9, 25), -1000, 1000, clear=(state.CONV_KERNEL,)),
    stride=links.int_param(state.CONV_STRIDE, 1, 4),
    padding=links.int_param(state.CONV_PADDING, 0, 4),
    row=links.int_param(state.CONV_ROW, clear=STEPPER),
    col=links.int_param(state.CONV_COL, clear=STEPPER),
)
st.title(_("Convolution"))
st.caption(
    _(
        "A convolution layer slides a small grid of weights (the *kernel*) over the image. At each "
        "position it multiplies the pixels under the window by the weights and adds the products up: "
        "one output number per position. Try a preset, then edit the numbers yourself."
    )
)

lm = loaders.current_model()
view = loaders.model_view().convert("RGB")  # the same crop the model sees
rgb = np.asarray(view, dtype=np.float32) / 255.0  # (H, W, 3) in 0..1
grey = cv.to_grey(rgb)  # (H, W)


c1, c2, c3, c4, c5 = st.columns([1.4, 0.8, 1, 1, 1.2])
# in the session, not as index=: a language switch assigns it (cnnviz.ui.language), and a
# widget given both made Streamlit log a session-state warning
st.session_state.setdefault(state.CONV_PRESET, "edge (Laplacian)")  # i18n: not UI (a preset's key)
# the preset's name is the link's kernel= value: only its display is translated
name = c1.selectbox(
    _("Kernel preset"), list(cv.PRESETS), key=state.CONV_PRESET, on_change=widgets.reset_kernel, format_func=_
)
size = c2.radio(
    _("Size"),
    [3, 5],
    format_func={3: "3×3", 5: "5×5"}.get,
    key=state.CONV_SIZE,
    on_change=widgets.reset_kernel,
    horizontal=True,
)
stride = c3.slider(_("Stride S"), 1, 4, 1, key=state.CONV_STRIDE, help=_("How many pixels the window jumps each step."))
widgets.clamp(state.CONV_PADDING, 0, size - 1)
padding = c4.slider(
    _("Padding P"),
    0,
    size - 1,
    1,
    key=state.CONV_PADDING,
    help=_("Rows and columns of zeros added around the image. P = K//2 with S = 1 keeps the size."),
)
colour = c5.radio(
    _("Apply to"),
    ["grey", "each colour"],  # i18n: not UI (the widget's values, kept in the session)
    key=state.CONV_COLOUR,
    horizontal=True,
    format_func={"grey": _("grey"), "each colour": _("each colour")}.get,  # i18n: not UI (keys)
)

left, right = st.columns([1, 2.2], gap="large")
with left:
    st.markdown(_("**Kernel K = {size}×{size}** — double-click a cell to edit it").format(size=size))
    kernel = widgets.kernel_editor(name, size)
    widgets.kernel_caption(kernel, name, size)
    h, w = grey.shape
    try:
        st.markdown(
            _("**Output size** = ⌊(W − K + 2P) / S⌋ + 1  \n= {formula}  \n{w}×{h} in → **{ow}×{oh}** out").format(
                formula=cv.size_formula(w, size, stride, padding),
                w=w,
                h=h,
                ow=cv.output_size(w, size, stride, padding),
                oh=cv.output_size(h, size, stride, padding),
            )
        )
    except CnnvizError as e:
        st.error(str(e))
        links.stop()
    fixed = widgets.fixed_scale_toggle()

out = cv.conv2d(grey, kernel, stride, padding)  # (OH, OW)
with right:
    a, b = st.columns(2)
    with a:
        hit = widgets.clickable_map(
            render.grey_rgb(grey) if colour == "grey" else (rgb * 255).astype(np.uint8),
            _("Input {w}×{h}: click a spot to follow the output pixel there (below)").format(w=w, h=h),
            state.CONV_INPUT_CLICK,
            360,
            alt=alt_lessons.conv_input(colour == "grey", w, h),
        )
    with b:
        if colour == "grey":
            widgets.show_map(
                render.map_rgb(out, limit=1.0 if fixed else render.robust_limit(out)),
                _("Output {w}×{h} (min {low}, max {high})").format(
                    w=out.shape[1], h=out.shape[0], low=number(out.min(), 2), high=number(out.max(), 2)
                ),
                360,
                "convolution_output",
                alt=alt_lessons.conv_output(out, name),
            )
        else:
            per = cv.conv2d_per_channel(rgb.transpose(2, 0, 1), kernel, stride, padding)  # (3, OH, OW)
            if per.min() >= 0:  # a blur or identity: show it as a colour photo again
                pic = (np.clip(per, 0, 1).transpose(1, 2, 0) * 255).astype(np.uint8)
                caption, side = _("Output, the kernel run on red, green and blue separately"), 360
            else:
                top = 1.0 if fixed else render.robust_limit(per)
                pic = render.tile(
                    np.stack([render.map_rgb(p, signed=True, limit=top) for p in per]), ncols=3, pad=4, fill=255
                )
                caption, side = _("Output on red | green | blue (blue < 0, white 0, red > 0)"), 600
            text = alt_lessons.conv_colour_output(per, name)
            widgets.show_map(pic.astype(np.uint8), caption, side, "convolution_output", alt=text)
with st.expander(_("What am I looking at?")):
    st.markdown(_(texts.CONV_PLAYGROUND))

stp = conv_views.follow_pixel(grey, out, kernel, hit, (size, stride, padding))
conv_views.network_filter(lm, stp)
