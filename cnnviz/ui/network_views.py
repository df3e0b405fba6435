"""Streamlit glue of the Network page: the cached diagram, the selection it drives, the
clicked channel up close and one unit's arithmetic."""

from __future__ import annotations

import numpy as np
import streamlit as st
from babel.numbers import get_decimal_symbol

from cnnviz import i18n, render
from cnnviz.a11y import alt_text
from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _, ngettext, number, pgettext
from cnnviz.inside import featuremaps as fm
from cnnviz.inside import network
from cnnviz.inside.catalogue import LayerInfo
from cnnviz.inside.receptive_field import unit_box
from cnnviz.teaching.unit_math import following, unit_math
from cnnviz.ui import channel_views, loaders, selection, state
from cnnviz.ui.clickable import clicked, pick_unit
from cnnviz.ui.scales import colour_scale
from cnnviz.ui.widgets import grids, num_grid

NORM_LABELS = {"channel": N_("per channel"), "layer": N_("per column"), "global": N_("global")}


# what one colour scale means for each choice of featuremaps.NORMS (the legend's caption)
SCALE_NOTES = {
    "layer": N_("One colour scale per column: tiles of a column compare; columns do not."),
    "channel": N_("Each tile stretched to its own range: shapes show, strengths do not compare."),
    "global": N_("One scale for the whole network: deep layers with large values stand out."),
}


def _g(x: float, digits: int) -> str:
    """``x`` to ``digits`` significant digits (``:g``), with the reader's decimal sign (0.1234 / 0,1234)."""
    return f"{x:.{digits}g}".replace(".", get_decimal_symbol(i18n.current()))


def stat_name(key: str) -> str:
    """A key of featuremaps.channel_stats as the statistics table shows it ("max" is also a
    kind of pooling elsewhere: the context keeps the two apart)."""
    return {
        "min": pgettext("statistic", "min"),
        "max": pgettext("statistic", "max"),
        "mean": pgettext("statistic", "mean"),
        "std": pgettext("statistic", "std"),
        "positive %": pgettext("statistic", "positive %"),
    }.get(key, key)


def norm_label(norm: str) -> str:
    """The colour-scale choice ``norm`` (a key of featuremaps.NORMS) in the reader's words."""
    return _(NORM_LABELS[norm])


@loaders.shared_result
def cached_diagram(lm, img, n: int, norm: str, label_font: int = 11, lang: str = i18n.SOURCE) -> network.Diagram:
    """The forward-pass picture for the sidebar's model and image (``n`` strongest channels
    per column of a big model; ``norm`` as in featuremaps; labels ``label_font`` px high,
    in language ``lang``: part of the key, as the picture has words drawn in it).
    Reads the shared one-pass capture."""
    layers = loaders.cached_catalogue(lm.name, lm.weights)
    top = loaders.cached_prediction()["top"][:3]
    maps = loaders.cached_capture()
    global_range = loaders.cached_capture_range() if norm == "global" else None
    with i18n.use(lang):  # a job of the queue has no session to ask its language
        return network.diagram(
            lm.preprocess_spec.crop(img),
            maps,
            network.columns(layers),
            n=n,
            every_channel=network.is_small(layers),
            norm=norm,
            global_range=global_range,
            classes=[(t["label"], t["prob"]) for t in top],
            label_font=label_font,
        )


def current_selection(d: network.Diagram) -> tuple[str, int]:
    """(layer, channel) chosen on the Network page: from a link (?layer=&channel=) once, else the
    session's last click, else the first column's strongest channel."""
    if not d.columns:
        st.info(_("This model has no layers with feature maps (channels × height × width) to draw."))
        st.stop()
    by_name = {c.layer.name: c for c in d.columns}
    query = selection.fresh_query("network", ("layer", "channel", "row", "col"))
    if query.get("layer") in by_name:
        st.session_state[state.NET_LAYER] = query["layer"]
    for param, key in (("channel", state.NET_CHANNEL), ("row", state.NET_ROW), ("col", state.NET_COL)):
        if (v := selection.as_int(query.get(param), 0, 1 << 20)) is not None:
            st.session_state[key] = v
    layer = st.session_state.get(state.NET_LAYER)
    if layer not in by_name:
        layer = st.session_state[state.NET_LAYER] = d.columns[0].layer.name
        st.session_state[state.NET_CHANNEL] = d.columns[0].channels[0]
    return layer, st.session_state.get(state.NET_CHANNEL, 0)


def show_diagram(d: network.Diagram, layer: str, channel: int) -> None:
    """The diagram with the chosen thumbnail outlined; a click on a thumbnail selects it."""
    classes = [(t["label"], t["prob"]) for t in loaders.cached_prediction()["top"][:3]]
    hit = clicked(
        d.outlined(layer, channel),
        key=state.NET_CLICK,
        alt=alt_text.network(d, (layer, channel), classes),
        hotspots=d.hotspots,
        selected=d.index_of(layer, channel),
        # at most a little above its drawn size: wider, its labels blur and it no longer fits
        # a projector's height (1195 × 683 px with the sidebar collapsed at 1280 × 720)
        width=int(d.rgb.shape[1] * 1.2),
        min_width=network.readable_width(d),
        pixelated=False,
    )
    if hit is not None and (got := d.at(hit)) is not None:
        st.session_state[state.NET_LAYER], st.session_state[state.NET_CHANNEL] = got
        st.rerun()


def legend(d: network.Diagram, norm: str) -> None:
    """The two colour scales, and what a column's range means."""
    a, b, c = st.columns([1, 1, 1.6])
    if any(col.cmap == fm.SEQUENTIAL for col in d.columns):
        with a:
            colour_scale(fm.SEQUENTIAL, "0", _("largest"))
            st.caption(_("After an activation."))
    if any(col.cmap == fm.DIVERGING for col in d.columns):
        with b:
            colour_scale(fm.DIVERGING, _("negative"), _("positive"), "0")
            st.caption(_("White: 0. Before an activation."))
    c.caption(_(SCALE_NOTES[norm]))


def _unit(h: int, w: int) -> tuple[int, int]:
    for k, n in ((state.NET_ROW, h), (state.NET_COL, w)):
        if not isinstance(st.session_state.get(k), int) or not 0 <= st.session_state[k] < n:
            st.session_state[k] = n // 2
    return st.session_state[state.NET_ROW], st.session_state[state.NET_COL]


def detail(layer: LayerInfo, channel: int, m: np.ndarray, column: network.Column) -> tuple[int, int]:
    """The chosen channel large (click a unit to choose it) and that unit's receptive field;
    returns the unit (row, col)."""
    h, w = m.shape
    row, col = _unit(h, w)
    left, mid, right = st.columns([1, 1, 1], gap="medium")
    with left:
        lo, hi = (
            (column.vmin, column.vmax) if column.vmin is not None else fm.value_range([m], column.cmap == fm.DIVERGING)
        )
        pick_unit(
            fm.channel_view(m, cmap=column.cmap, vmin=lo, vmax=hi, width=300),
            state.NET_UNIT_CLICK,
            alt=alt_text.channel(layer.name, channel, m, unit=(row, col)),
            shape=(h, w),
            unit=(row, col),
            keys=(state.NET_ROW, state.NET_COL),
        )
        st.caption(
            _("Channel {channel}, {h}×{w}: click a unit (magenta) to follow it, or use the sliders.").format(
                channel=channel, h=h, w=w
            )
        )
    with mid:
        lm = loaders.current_model()
        spec = lm.preprocess_spec
        box = unit_box(layer, row, col, spec.size)
        st.image(
            render.photo_bytes(fm.draw_box(loaders.model_view(), box, width=300)),
            width="stretch",
            alt=alt_text.receptive_field((row, col), box, spec.size),
        )
        st.caption(
            _("Unit ({row}, {col}) sees rows {top}–{bottom}, columns {left}–{right} of the input.").format(
                row=row, col=col, top=box[0], bottom=box[2], left=box[1], right=box[3]
            )
        )
    with right:
        # the same choice as a click, in controls a thumb can hit (a unit of a 112×112 map is
        # under 3 px wide on a phone) and a keyboard can step
        row = st.slider(_("Unit row"), 0, h - 1, key=state.NET_ROW) if h > 1 else row
        col = st.slider(_("Unit column"), 0, w - 1, key=state.NET_COL) if w > 1 else col
        st.markdown(_("**Value at ({row}, {col}): {value}**").format(row=row, col=col, value=_g(m[row, col], 4)))
        stats = fm.channel_stats(m)
        st.dataframe(
            {_("statistic"): [stat_name(k) for k in stats], _("value"): [_g(v, 3) for v in stats.values()]},
            hide_index=True,
            alt=_("Statistics of channel {channel}: min, max, mean, std and share positive").format(channel=channel),
        )
        # as wide as the column: at their own width Streamlit cut their labels short (even in English)
        if st.button(
            _("Open in Feature maps →"),
            key="net_open_features",
            help=_("The same layer, channel and unit"),
            width="stretch",
        ):
            open_in_feature_maps(layer, channel, row, col)
        if st.button(
            _("What does it look for? →"),
            key=state.CH_OPEN,
            help=_("Its feature visualisation and top images"),
            width="stretch",
        ):
            channel_views.open_channel(layer.name, channel)
    return row, col


def open_in_feature_maps(layer: LayerInfo, channel: int, row: int, col: int) -> None:
    """Feature maps with this layer, channel and unit chosen (also in its URL)."""
    st.session_state[state.FEAT_LAYER] = layer.name
    st.session_state[state.FEAT_LAYER + "_block"] = layer.group
    st.session_state[state.FEAT_CHANNEL] = channel
    st.session_state[state.FEAT_ROW], st.session_state[state.FEAT_COL] = row, col
    selection.forget_query("features")
    st.switch_page(
        "pages/features.py",
        query_params={"layer": layer.name, "channel": str(channel), "row": str(row), "col": str(col)},
    )


def conv_of(layers: list[LayerInfo], name: str) -> str | None:
    """The conv layer whose unit arithmetic explains layer ``name``: itself, or the conv
    right before a norm/activation chain ending at ``name``; None otherwise."""
    names = [la.name for la in layers]
    i = names.index(name)
    for la in reversed(layers[: i + 1]):
        if la.kind == "conv":
            return la.name if la.name == name or name in {f.name for f in following(layers, la.name)} else None
        if la.kind not in ("norm", "act", "block"):
            return None
    return None


def arithmetic(layers: list[LayerInfo], name: str, channel: int, row: int, col: int, captured: float) -> None:
    """How unit (channel, row, col) of conv ``name`` was computed, with the numbers."""
    if "#" in name:  # a module's second call: its input is not the one layer_input_output hooks
        st.info(_("This layer runs more than once per image; its arithmetic is shown for single-call layers only."))
        return
    lm = loaders.current_model()
    x, _out = loaders.layer_input_output(name)
    try:
        with lm.use() as model:
            u = unit_math(model, layers, name, x, channel, row, col)
    except CnnvizError as e:
        st.info(str(e))
        return
    n = u.windows.shape[0]
    k = u.kernel.shape[-1]
    st.markdown(
        ngettext(
            "`{layer}`, channel {channel}, unit ({row}, {col}): the {k}×{k} window of its input channel "
            "(it has {n}) times its kernel, plus the bias.",
            "`{layer}`, channel {channel}, unit ({row}, {col}): each of the {n} input channels' "
            "{k}×{k} window times its kernel, summed, plus the bias.",
            n,
        ).format(layer=name, channel=channel, row=row, col=col, n=n, k=k)
    )
    shown = min(n, 3)
    for i in range(shown):
        grids(
            num_grid(u.windows[i], title=_("input channel {i}").format(i=i)),
            num_grid(u.kernel[i], title=_("kernel"), tint=True),
            num_grid(np.array([[u.sums[i]]]), title=_("sum of products"), fmt="{:.4f}"),
            between=("×", "="),
        )
    if n > shown:
        with st.expander(
            ngettext("The other {n} input channel", "The other {n} input channels", n - shown).format(n=n - shown)
        ):
            for i in range(shown, n):
                grids(
                    num_grid(u.windows[i], title=_("input channel {i}").format(i=i)),
                    num_grid(u.kernel[i], title=_("kernel"), tint=True),
                    num_grid(np.array([[u.sums[i]]]), title=_("sum"), fmt="{:.4f}"),
                    between=("×", "="),
                )
    terms = " + ".join(number(s, 3) for s in u.sums[:16]) + (" + …" if n > 16 else "")
    chain = "".join(f" → {t} → **{number(v, 4)}**" for _n, t, v in u.after)
    st.markdown(
        _("#### {terms} + bias {bias} = **{value}**{chain}").format(
            terms=terms, bias=number(u.bias, 3), value=number(u.value, 4), chain=chain
        )
    )
    st.caption(_("The network's own output at this unit: {value}").format(value=number(captured, 4)))
