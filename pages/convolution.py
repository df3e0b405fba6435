"""Convolution: a kernel playground on the user's photo, one output pixel traced, the model's own filter."""

import numpy as np
import streamlit as st

from cnnviz import convolution as cv
from cnnviz import render
from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
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
st.title("Convolution")
st.caption(
    "A convolution layer slides a small grid of weights (the *kernel*) over the image. At each "
    "position it multiplies the pixels under the window by the weights and adds the products up: "
    "one output number per position. Try a preset, then edit the numbers yourself."
)

lm = loaders.current_model()
view = loaders.model_view().convert("RGB")  # the same crop the model sees
rgb = np.asarray(view, dtype=np.float32) / 255.0  # (H, W, 3) in 0..1
grey = cv.to_grey(rgb)  # (H, W)


c1, c2, c3, c4, c5 = st.columns([1.4, 0.8, 1, 1, 1.2])
name = c1.selectbox("Kernel preset", list(cv.PRESETS), index=1, key=state.CONV_PRESET, on_change=widgets.reset_kernel)
size = c2.radio(
    "Size",
    [3, 5],
    format_func={3: "3×3", 5: "5×5"}.get,
    key=state.CONV_SIZE,
    on_change=widgets.reset_kernel,
    horizontal=True,
)
stride = c3.slider("Stride S", 1, 4, 1, key=state.CONV_STRIDE, help="How many pixels the window jumps each step.")
widgets.clamp(state.CONV_PADDING, 0, size - 1)
padding = c4.slider(
    "Padding P",
    0,
    size - 1,
    1,
    key=state.CONV_PADDING,
    help="Rows and columns of zeros added around the image. P = K//2 with S = 1 keeps the size.",
)
colour = c5.radio("Apply to", ["grey", "each colour"], key=state.CONV_COLOUR, horizontal=True)

left, right = st.columns([1, 2.2], gap="large")
with left:
    st.markdown(f"**Kernel K = {size}×{size}** — double-click a cell to edit it")
    kernel = widgets.kernel_editor(name, size)
    widgets.kernel_caption(kernel, name, size)
    h, w = grey.shape
    try:
        st.markdown(
            f"**Output size** = ⌊(W − K + 2P) / S⌋ + 1  \n"
            f"= {cv.size_formula(w, size, stride, padding)}  \n"
            f"{w}×{h} in → **{cv.output_size(w, size, stride, padding)}×"
            f"{cv.output_size(h, size, stride, padding)}** out"
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
            f"Input {w}×{h}: click a spot to follow the output pixel there (below)",
            state.CONV_INPUT_CLICK,
            360,
            alt=alt_lessons.conv_input(colour == "grey", w, h),
        )
    with b:
        if colour == "grey":
            widgets.show_map(
                render.map_rgb(out, limit=1.0 if fixed else render.robust_limit(out)),
                f"Output {out.shape[1]}×{out.shape[0]} (min {out.min():.2f}, max {out.max():.2f})",
                360,
                "convolution_output",
                alt=alt_lessons.conv_output(out, name),
            )
        else:
            per = cv.conv2d_per_channel(rgb.transpose(2, 0, 1), kernel, stride, padding)  # (3, OH, OW)
            if per.min() >= 0:  # a blur or identity: show it as a colour photo again
                pic = (np.clip(per, 0, 1).transpose(1, 2, 0) * 255).astype(np.uint8)
                caption, side = "Output, the kernel run on red, green and blue separately", 360
            else:
                top = 1.0 if fixed else render.robust_limit(per)
                pic = render.tile(
                    np.stack([render.map_rgb(p, signed=True, limit=top) for p in per]), ncols=3, pad=4, fill=255
                )
                caption, side = "Output on red | green | blue (blue < 0, white 0, red > 0)", 600
            text = alt_lessons.conv_colour_output(per, name)
            widgets.show_map(pic.astype(np.uint8), caption, side, "convolution_output", alt=text)
with st.expander("What am I looking at?"):
    st.markdown(texts.CONV_PLAYGROUND)

# ---------------------------------------------------------------- one output pixel, step by step
st.header("Follow one output pixel")
oh, ow = out.shape
ph, pw = min(4, oh), min(4, ow)  # a 4×4 patch of output positions
widgets.place_patch(hit, (size, stride, padding), (oh, ow), (ph, pw))
s1, s2, s3 = st.columns(3)
pr = s1.slider("Patch row", 0, oh - ph, (oh - ph) // 2, key=state.CONV_PATCH_ROW)
pc = s2.slider("Patch column", 0, ow - pw, (ow - pw) // 2, key=state.CONV_PATCH_COL)
pos = s3.slider(
    "Position in the patch", 1, ph * pw, 1, key=state.CONV_POS, help="Moves the window across the patch, row by row."
)
row, col = pr + (pos - 1) // pw, pc + (pos - 1) % pw
st.session_state[state.CONV_AT] = (size, stride, padding, row, col)
st.session_state[state.CONV_ROW], st.session_state[state.CONV_COL] = row, col  # the link's row=, col=
stp = cv.step(grey, kernel, stride, padding, row, col)

widgets.step_pictures(grey, out, stp, (pr, pc, ph, pw), stride, padding)

widgets.grids(
    widgets.num_grid(stp.window, title=f"{size * size} input values"),
    widgets.num_grid(stp.kernel, title="kernel"),
    widgets.num_grid(stp.products, title="products", tint=True),
    between=("×", "="),
)
st.markdown(
    f"### Add the {size * size} products: {stp.value:.2f} — output pixel (row {row}, column {col}) "
    f"is **{out[row, col]:.2f}**"
)
with st.expander("What am I looking at?"):
    st.markdown(texts.CONV_STEP)

# ---------------------------------------------------------------- the network's own first filter
st.header("A real filter from the network")
try:
    fc = cv.first_conv(lm.model)
except CnnvizError as e:
    st.error(str(e))
    links.stop()
n_out, n_in, k, _ = fc.weight.shape
widgets.clamp(state.CONV_FILTER, 0, n_out - 1)
i = st.slider(f"Filter of `{fc.name}` ({n_out} filters, each {n_in}×{k}×{k})", 0, n_out - 1, 0, key=state.CONV_FILTER)
x = loaders.network_input()  # (C, H, W) normalised
weight = fc.weight[i]  # (C, k, k)
mine = cv.conv2d(x, weight, fc.stride, fc.padding, bias=float(fc.bias[i]))
real = loaders.captured((fc.name,))[fc.name][i]
n1, n2, n3 = st.columns([0.8, 1, 1])
with n1:
    wpic = render.scale(weight, -np.abs(weight).max(), np.abs(weight).max())  # (C, k, k), 0.5 = zero weight
    wrgb = (wpic.transpose(1, 2, 0) * 255).astype(np.uint8) if n_in == 3 else render.colorize(wpic[0], "RdBu_r")
    widgets.show_map(
        wrgb, f"Filter {i} as a picture ({k}×{k})", 200, alt=alt_lessons.kernel_picture(i, fc.name, weight)
    )
for col, m, caption, what in (
    (n2, mine, f"Applied by hand: {mine.shape[1]}×{mine.shape[0]}", f"Filter {i} applied by hand to the input"),
    (n3, real, "The network's own output", f"Channel {i} of {fc.name} as the network computed it"),
):
    with col:
        lim = render.robust_limit(mine)
        widgets.show_map(render.map_rgb(m, limit=lim), caption, 340, alt=alt_lessons.signed_map(what, m))
diff = float(np.abs(mine - real[: mine.shape[0], : mine.shape[1]]).max())
same = (
    "the same numbers."
    if diff < 1e-3
    else "this model changes its input once more before the first layer "
    "(GoogLeNet re-scales the colours its weights came with), so the two differ a little."
)
st.markdown(
    f"Stride {fc.stride}, padding (left, right, top, bottom) = {fc.padding}. "
    f"Largest difference between the two maps: **{diff:.1e}** — {same}"
)

# the window of the network's filter nearest the playground's window
nr = int(np.clip(round((stp.top + fc.padding[2]) / fc.stride), 0, mine.shape[0] - 1))
nc = int(np.clip(round((stp.left + fc.padding[0]) / fc.stride), 0, mine.shape[1] - 1))
nst = cv.step(x, weight, fc.stride, fc.padding, nr, nc, bias=float(fc.bias[i]))
names = ["red", "green", "blue"] if n_in == 3 else ["grey"]
widgets.grids(
    *[widgets.num_grid(nst.products[c], title=f"{names[c]}: values × weights", tint=True) for c in range(n_in)]
)
terms = " + ".join(f"{float(nst.products[c].sum()):.2f}" for c in range(n_in))
st.markdown(f"### Output ({nr}, {nc}) = {terms} + bias {nst.bias:.2f} = **{nst.value:.2f}**")
with st.expander("The input values and weights"):
    widgets.grids(*[widgets.num_grid(nst.window[c], title=f"{names[c]} input") for c in range(n_in)])
    widgets.grids(*[widgets.num_grid(nst.kernel[c], title=f"{names[c]} weights", tint=True) for c in range(n_in)])
with st.expander("What am I looking at?"):
    st.markdown(texts.CONV_NETWORK.format(i=i, k=k, n=n_in * k * k))
