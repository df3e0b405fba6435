"""Widgets of the convolution, activation and pooling pages: enlarged pictures, small
number grids that stay readable on a projector, the kernel editor, the softmax view and the
convolution step-through."""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import streamlit as st
from babel.numbers import get_decimal_symbol

from cnnviz import hotspots as hs
from cnnviz import render
from cnnviz.a11y import alt_lessons
from cnnviz.i18n import _, current, number, short
from cnnviz.teaching.activations import softmax_table
from cnnviz.teaching.convolution import PRESET_HELP, follow, pad2d, patch_at, patch_for, preset
from cnnviz.ui import chart_specs, present, state
from cnnviz.ui.charts import softmax_chart
from cnnviz.ui.clickable import clicked
from cnnviz.ui.download import download_png

# ---------------------------------------------------------------- numbers in the reader's language


# ---------------------------------------------------------------- pictures


def show_map(rgb: np.ndarray, caption: str, target: int = 448, download: str | None = None, *, alt: str) -> None:
    """An (H, W, 3) uint8 picture, enlarged with crisp pixels to about ``target`` px; with
    ``download`` (a file name, also the button's key) a "Download PNG" button for that picture.
    ``alt``: what it shows, for a screen reader (cnnviz.a11y)."""
    f = render.fit_factor(max(rgb.shape[:2]), target)
    png = render.to_png(render.upscale(rgb, f))
    st.image(png, caption=caption, width="stretch", output_format="PNG", alt=alt)
    if download:
        download_png(png, download, download)


def clickable_map(rgb: np.ndarray, caption: str, key: str, target: int = 448, *, alt: str) -> tuple[int, int] | None:
    """:func:`show_map`, clickable: (row, col) of ``rgb``'s own pixel that was clicked (a new
    click only, see cnnviz.ui.clickable), else None."""
    f = render.fit_factor(max(rgb.shape[:2]), target)
    h, w = rgb.shape[:2]
    hit = clicked(render.upscale(rgb, f), key=key, alt=alt, hotspots=hs.units(h, w, f, "pixel"))
    st.caption(caption)
    return None if hit is None else (hit[0] // f, hit[1] // f)


# ---------------------------------------------------------------- number grids

_CELL = (
    "padding:3px 7px;text-align:right;font-family:monospace;font-size:1rem;border:1px solid #ccc;"  # i18n: not UI (CSS)
)


def num_grid(
    arr: np.ndarray,
    *,
    title: str = "",
    mark: set[tuple[int, int]] | None = None,
    tint: bool = False,
    fmt: str | None = None,
    block: int = 0,
    digits: int = 2,
) -> str:
    """An HTML table of a small (h, w) array, ``digits`` decimals in the reader's language. ``mark``
    outlines one cell (a max-pooling winner) per (row, col) in the set; ``tint`` colours cells blue
    (negative) / red (positive) like the maps; ``block`` > 0 draws a thick line every ``block`` cells
    (the pooling windows). ``fmt`` (a ``str.format`` pattern such as "{:.4f}") overrides ``digits``;
    its decimal point becomes the language's decimal sign."""
    arr = np.asarray(arr, dtype=np.float32)
    top = float(np.abs(arr).max()) or 1.0
    point = get_decimal_symbol(current())
    rows = []
    for r in range(arr.shape[0]):
        cells = []
        for c in range(arr.shape[1]):
            v = float(arr[r, c])
            style = _CELL
            if block and (c + 1) % block == 0 and c + 1 < arr.shape[1]:
                style += "border-right:3px solid #111;"  # i18n: not UI (CSS)
            if block and (r + 1) % block == 0 and r + 1 < arr.shape[0]:
                style += "border-bottom:3px solid #111;"  # i18n: not UI (CSS)
            if tint and v:
                colour = "220,38,38" if v > 0 else "37,99,235"
                style += f"background:rgba({colour},{0.12 + 0.4 * abs(v) / top:.2f});"
            if mark and (r, c) in mark:
                style += (
                    "outline:3px solid #c2410c;font-weight:bold;background:#fde68a;color:#111;"  # i18n: not UI (CSS)
                )
            text = number(v, digits) if fmt is None else fmt.format(v).replace(".", point)
            cells.append(f'<td style="{style}">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # the title is the table's <caption>: a screen reader announces it with the table
    head = (
        f'<caption style="caption-side:top;text-align:left;font-weight:600;margin-bottom:2px">{html.escape(title)}</caption>'
        if title
        else ""
    )
    return (
        f'<div style="display:inline-block;margin:0 14px 8px 0;vertical-align:top">'
        f'<table style="border-collapse:collapse">{head}{"".join(rows)}</table></div>'
    )


def grids(*tables: str, between: tuple[str, ...] = ()) -> None:
    """Tables side by side; ``between[i]`` (e.g. '×', '=') is written between table i and i + 1."""
    parts = []
    for i, t in enumerate(tables):
        parts.append(t)
        if i < len(between):
            parts.append(
                '<div style="display:inline-block;font-size:1.8rem;margin:40px 14px 0 0;'
                f'vertical-align:top">{html.escape(between[i])}</div>'
            )
    st.markdown('<div class="cnnviz-grids">' + "".join(parts) + "</div>", unsafe_allow_html=True)


def place_patch(
    hit: tuple[int, int] | None, geometry: tuple[int, int, int], out_shape: tuple[int, int], patch: tuple[int, int]
) -> None:
    """Before the Convolution stepper's sliders are drawn: a click on the input (``hit``) puts
    the window there; a link's output row and column (state.CONV_ROW/COL with the sliders'
    keys cleared) put it on that output position; a new kernel size, stride or padding (``geometry``) keeps it on the same
    input spot (:func:`convolution.follow`); then every slider is clamped to its range."""
    keys = (state.CONV_PATCH_ROW, state.CONV_PATCH_COL, state.CONV_POS)
    ss = st.session_state
    wanted = (ss.get(state.CONV_ROW), ss.get(state.CONV_COL))
    if hit is not None:
        placed = patch_at(hit, *geometry, out_shape, patch)
    elif None not in wanted and not any(k in ss for k in keys):  # a link's row/col (it clears the sliders)
        placed = patch_for(wanted, out_shape, patch)
    else:
        placed = follow(st.session_state.get(state.CONV_AT), geometry, out_shape, patch)
    for key, v in zip(keys, placed or (), strict=False):
        st.session_state[key] = v
    (oh, ow), (ph, pw) = out_shape, patch
    for key, hi in zip(keys, (oh - ph, ow - pw, ph * pw), strict=True):
        clamp(key, 1 if key == state.CONV_POS else 0, hi)


def clamp(key: str, lo: int, hi: int) -> None:
    """Bring a slider's remembered value back into lo..hi before it is drawn (its range can shrink
    when another control changes, e.g. a bigger stride makes the output smaller)."""
    v = st.session_state.get(key)
    if isinstance(v, int) and not lo <= v <= hi:
        st.session_state[key] = min(max(v, lo), hi)


# ---------------------------------------------------------------- the kernel editor


def reset_kernel() -> None:
    """on_change of the preset and size pickers: the editor starts again from the preset."""
    st.session_state.pop(state.CONV_KERNEL, None)
    st.session_state[state.CONV_CELLS] = None


def kernel_caption(kernel: np.ndarray, name: str, size: int) -> None:
    """What the kernel is: the preset's help, or "your kernel" once a number was edited."""
    if np.allclose(kernel, preset(name, size), atol=1e-6):
        st.caption(_("*{name}*: {help}").format(name=_(name), help=_(PRESET_HELP[name])))
    else:
        st.caption(_("*your kernel (edited from {name})*").format(name=_(name)))


def fixed_scale_toggle() -> bool:
    """The Convolution output's scale: its own range (default) or a fixed −1…1."""
    return st.toggle(
        _("Fixed scale (−1 … 1)"),
        key=state.CONV_FIXED,
        help=_(
            "Draw the output on one fixed scale instead of stretching it to its own range: "
            "then doubling the kernel visibly doubles the output."
        ),
    )


def kernel_editor(name: str, size: int) -> np.ndarray:
    """An editable (size, size) grid that starts as the preset, or as the kernel the student made
    (state.CONV_CELLS, which a link can set); returns the kernel as float32 and keeps it in
    CONV_CELLS when it differs from the preset (None when it is the preset)."""
    base = preset(name, size)
    cells = st.session_state.get(state.CONV_CELLS)
    if cells is not None and len(cells) == size * size:
        base = np.asarray(cells, dtype=np.float32).reshape(size, size)
    df = pd.DataFrame(base.astype(np.float64), columns=[str(c) for c in range(size)])
    edited = st.data_editor(
        df,
        key=state.CONV_KERNEL,
        hide_index=True,
        num_rows="fixed",
        width="content",
        column_config={c: st.column_config.NumberColumn(c, format="%.3f", width=70) for c in df.columns},
        alt=_("The kernel's {size}×{size} weights, row by row; edit a cell to change it").format(size=size),
    )
    kernel = np.nan_to_num(edited.to_numpy(dtype=np.float32, na_value=0.0))  # (size, size)
    same = np.array_equal(kernel, preset(name, size).astype(np.float32))
    st.session_state[state.CONV_CELLS] = None if same else tuple(float(v) for v in kernel.ravel())
    return kernel


# ---------------------------------------------------------------- the softmax view


def softmax_view(logits: np.ndarray, temp: float, classes: list[str], top: int = 8) -> None:
    """Bars of the top classes' probabilities at T = 1 and at T, beside their numbers (one frame)."""
    table = softmax_table(logits, temp, classes, top)
    left, right = st.columns([1, 1.15])
    left.vega_lite_chart(spec=present.chart(chart_specs.spec(softmax_chart, table, temp)), width="stretch")
    shown = table.drop(columns=["pT", "z / T"]) if temp == 1.0 else table  # the same numbers twice (z / T is z)
    # short headers: all five columns fit beside the chart at 1280 px (the T column was cut)
    heads = {"class": _("class"), "z": "z", "z / T": "z / T", "p1": _("p% at T=1"), "pT": _("p% at your T")}
    numeric = [heads[c] for c in shown.columns if c != "class"]
    shown = shown.rename(columns=heads)
    right.dataframe(
        shown.style.format(lambda v: number(v, 2), subset=numeric),
        hide_index=True,
        width="stretch",
        alt=_("The {n} most probable classes: logit, and probability at T = 1 and at T = {temp}").format(
            n=len(table), temp=short(temp)
        ),
    )


# ---------------------------------------------------------------- the convolution step-through


def step_pictures(
    grey: np.ndarray,
    out: np.ndarray,
    stp,
    patch: tuple[int, int, int, int],
    stride: int,
    padding: int,
) -> None:
    """Three pictures of one convolution step: the photo with the patch and window outlined, the
    patch's input pixels enlarged (padding included), and the patch's output pixels.

    ``grey`` (H, W) the input, ``out`` (OH, OW) the output, ``stp`` a ``convolution.Step``,
    ``patch`` = (first output row, first output column, rows, columns).
    """
    pr, pc, ph, pw = patch
    size = stp.kernel.shape[-1]
    h, w = grey.shape
    z1, z2, z3 = st.columns([1.2, 1, 0.6])
    with z1:
        f = render.fit_factor(max(h, w), 360)
        m = max(4, h // 40)  # the patch is tiny on the whole photo: outline it with a margin
        span_h, span_w = (ph - 1) * stride + size, (pw - 1) * stride + size  # input pixels the patch covers
        big = render.draw_box(render.grey_rgb(grey), pr * stride - padding - m, pc * stride - padding - m,
                              span_h + 2 * m, span_w + 2 * m, factor=f, color=(37, 99, 235), thickness=3)  # fmt: skip
        big = render.draw_box(big, stp.top * f, stp.left * f, size * f, size * f, color=(255, 0, 0), thickness=3)
        text = alt_lessons.conv_window(patch, (stp.top, stp.left), size, (stp.row, stp.col), (h, w))
        st.image(render.to_png(big), caption=_("The patch is inside the large blue box; the small red box is the window now."),
                 width="stretch", output_format="PNG", alt=text)  # fmt: skip
    with z2:
        ptop, pleft = pr * stride, pc * stride  # in padded coordinates
        region = pad2d(grey, padding)[ptop : ptop + span_h, pleft : pleft + span_w]
        f2 = render.fit_factor(max(region.shape), 260, most=40)
        zoom = render.draw_box(render.grey_rgb(region), stp.top + padding - ptop, stp.left + padding - pleft, size, size,
                               factor=f2, color=(255, 0, 0), thickness=3)  # fmt: skip
        text = alt_lessons.conv_patch(region, padding, (stp.row, stp.col), size)
        st.image(render.to_png(zoom), caption=_("The patch, enlarged (zeros = padding)"), width="stretch",
                 output_format="PNG", alt=text)  # fmt: skip
    with z3:
        f3 = render.fit_factor(max(ph, pw), 160, most=40)
        cells = render.map_rgb(
            out[pr : pr + ph, pc : pc + pw], signed=bool(out.min() < 0), limit=render.robust_limit(out)
        )
        cells = render.draw_box(cells, stp.row - pr, stp.col - pc, 1, 1, factor=f3, color=(255, 196, 0), thickness=3)
        text = alt_lessons.conv_cells(out[pr : pr + ph, pc : pc + pw], (stp.row, stp.col), float(out[stp.row, stp.col]))
        st.image(render.to_png(cells), caption=_("Its output pixels"), width="stretch", output_format="PNG", alt=text)


# ---------------------------------------------------------------- scrolling to a section


def scroll_to(key: str, nonce: str) -> None:
    """Scroll the page so that the container made with ``st.container(key=key)`` starts at the
    top of the window, once: ``nonce`` must differ each time (the same script is not run twice).

    For what a click starts further down than the window reaches (the Train page's live
    charts sat below a 720 px projector's fold after Train)."""
    target = json.dumps(f".st-key-{key}")
    # The script runs while the rest of the page is still being drawn (nothing below to scroll
    # yet): it tries again every 100 ms for 3 s until the container sits at the top.
    st.html(
        f"<script>/* {html.escape(nonce)} */ (() => {{ let tries = 0; const go = () => {{"
        f" const el = document.querySelector({target});"
        " if (el) el.scrollIntoView({block: 'start'});"
        " const top = el ? el.getBoundingClientRect().top : 1e9;"
        " if (top > 120 && tries++ < 30) setTimeout(go, 100); };"
        " setTimeout(go, 100); })();</script>",
        unsafe_allow_javascript=True,
    )
