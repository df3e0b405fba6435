"""Convolution: a kernel playground on the user's photo, one output pixel traced, the model's own filter."""

import numpy as np
import streamlit as st

from cnnviz import i18n, render
from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, number
from cnnviz.teaching import convolution as cv
from cnnviz.ui import compute_texts as texts
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

# ---------------------------------------------------------------- one output pixel, step by step
st.header(_("Follow one output pixel"))
oh, ow = out.shape
ph, pw = min(4, oh), min(4, ow)  # a 4×4 patch of output positions
widgets.place_patch(hit, (size, stride, padding), (oh, ow), (ph, pw))
s1, s2, s3 = st.columns(3)
pr = s1.slider(_("Patch row"), 0, oh - ph, (oh - ph) // 2, key=state.CONV_PATCH_ROW)
pc = s2.slider(_("Patch column"), 0, ow - pw, (ow - pw) // 2, key=state.CONV_PATCH_COL)
pos = s3.slider(
    _("Position in the patch"),
    1,
    ph * pw,
    1,
    key=state.CONV_POS,
    help=_("Moves the window across the patch, row by row."),
)
row, col = pr + (pos - 1) // pw, pc + (pos - 1) % pw
st.session_state[state.CONV_AT] = (size, stride, padding, row, col)
st.session_state[state.CONV_ROW], st.session_state[state.CONV_COL] = row, col  # the link's row=, col=
stp = cv.step(grey, kernel, stride, padding, row, col)

widgets.step_pictures(grey, out, stp, (pr, pc, ph, pw), stride, padding)

widgets.grids(
    widgets.num_grid(stp.window, title=_("{n} input values").format(n=size * size)),
    widgets.num_grid(stp.kernel, title=_("kernel")),
    widgets.num_grid(stp.products, title=_("products"), tint=True),
    between=("×", "="),
)
st.markdown(
    _("### Add the {n} products: {total} — output pixel (row {row}, column {col}) is **{value}**").format(
        n=size * size, total=number(stp.value, 2), row=row, col=col, value=number(out[row, col], 2)
    )
)
with st.expander(_("What am I looking at?")):
    st.markdown(_(texts.CONV_STEP))

# ---------------------------------------------------------------- the network's own first filter
st.header(_("A real filter from the network"))
try:
    fc = cv.first_conv(lm.model)
except CnnvizError as e:
    st.error(str(e))
    links.stop()
n_out, n_in, k, _k = fc.weight.shape
widgets.clamp(state.CONV_FILTER, 0, n_out - 1)
i = st.slider(
    _("Filter of `{layer}` ({n} filters, each {c}×{k}×{k})").format(layer=fc.name, n=n_out, c=n_in, k=k),
    0,
    n_out - 1,
    0,
    key=state.CONV_FILTER,
)
x = loaders.network_input()  # (C, H, W) normalised
weight = fc.weight[i]  # (C, k, k)
mine = cv.conv2d(x, weight, fc.stride, fc.padding, bias=float(fc.bias[i]))
real = loaders.captured((fc.name,))[fc.name][i]
n1, n2, n3 = st.columns([0.8, 1, 1])
with n1:
    wpic = render.scale(weight, -np.abs(weight).max(), np.abs(weight).max())  # (C, k, k), 0.5 = zero weight
    wrgb = (wpic.transpose(1, 2, 0) * 255).astype(np.uint8) if n_in == 3 else render.colorize(wpic[0], "RdBu_r")
    widgets.show_map(
        wrgb,
        _("Filter {i} as a picture ({k}×{k})").format(i=i, k=k),
        200,
        alt=alt_lessons.kernel_picture(i, fc.name, weight),
    )
for col, m, caption, what in (
    (
        n2,
        mine,
        _("Applied by hand: {w}×{h}").format(w=mine.shape[1], h=mine.shape[0]),
        _("Filter {i} applied by hand to the input").format(i=i),
    ),
    (
        n3,
        real,
        _("The network's own output"),
        _("Channel {i} of {layer} as the network computed it").format(i=i, layer=fc.name),
    ),
):
    with col:
        lim = render.robust_limit(mine)
        widgets.show_map(render.map_rgb(m, limit=lim), caption, 340, alt=alt_lessons.signed_map(what, m))
diff = float(np.abs(mine - real[: mine.shape[0], : mine.shape[1]]).max())
same = (
    _("the same numbers.")
    if diff < 1e-3
    else _(
        "this model changes its input once more before the first layer "
        "(GoogLeNet re-scales the colours its weights came with), so the two differ a little."
    )
)
st.markdown(
    _(
        "Stride {stride}, padding (left, right, top, bottom) = {padding}. "
        "Largest difference between the two maps: **{diff}** — {same}"
    ).format(stride=fc.stride, padding=fc.padding, diff=i18n.scientific(diff), same=same)
)

# the window of the network's filter nearest the playground's window
nr = int(np.clip(round((stp.top + fc.padding[2]) / fc.stride), 0, mine.shape[0] - 1))
nc = int(np.clip(round((stp.left + fc.padding[0]) / fc.stride), 0, mine.shape[1] - 1))
nst = cv.step(x, weight, fc.stride, fc.padding, nr, nc, bias=float(fc.bias[i]))
names = [_("red"), _("green"), _("blue")] if n_in == 3 else [_("grey")]
widgets.grids(
    *[
        widgets.num_grid(nst.products[c], title=_("{colour}: values × weights").format(colour=names[c]), tint=True)
        for c in range(n_in)
    ]
)
terms = " + ".join(number(nst.products[c].sum(), 2) for c in range(n_in))
st.markdown(
    _("### Output ({row}, {col}) = {terms} + bias {bias} = **{value}**").format(
        row=nr, col=nc, terms=terms, bias=number(nst.bias, 2), value=number(nst.value, 2)
    )
)
with st.expander(_("The input values and weights")):
    widgets.grids(
        *[widgets.num_grid(nst.window[c], title=_("{colour} input").format(colour=names[c])) for c in range(n_in)]
    )
    widgets.grids(
        *[
            widgets.num_grid(nst.kernel[c], title=_("{colour} weights").format(colour=names[c]), tint=True)
            for c in range(n_in)
        ]
    )
with st.expander(_("What am I looking at?")):
    st.markdown(_(texts.CONV_NETWORK).format(i=i, k=k, n=n_in * k * k))
