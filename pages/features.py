"""Feature maps: every channel of one layer for the current image, and one channel up close."""

import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_text
from cnnviz.i18n import _, ngettext, number
from cnnviz.inside import featuremaps as fm
from cnnviz.inside.receptive_field import unit_box
from cnnviz.ui import channel_views, links, loaders, state
from cnnviz.ui.clickable import clicked, pick_unit
from cnnviz.ui.layer_picker import layer_select
from cnnviz.ui.scales import colour_scale

links.page(
    layer=links.layer_param(state.FEAT_LAYER),
    channel=links.int_param(state.FEAT_CHANNEL),
    row=links.int_param(state.FEAT_ROW),
    col=links.int_param(state.FEAT_COL),
    sort=links.choice_param(state.FEAT_SORT, fm.SORTS),
    norm=links.choice_param(state.FEAT_NORM, fm.NORMS),
)
st.title(_("Feature maps"))
lm = loaders.current_model()
loaders.current_image()  # no photo: the page says so and stops here
name, weights = loaders.model_key()
layers = loaders.cached_catalogue(name, weights)
default = next((la.name for la in layers if la.kind == "act"), None)
layer = layer_select(_("Layer"), layers, state.FEAT_LAYER, default=default)
maps = loaders.cached_maps(layer.name)  # (C, H, W), read-only: this layer only, computed on demand

c1, c2, c3 = st.columns([1, 1, 2])
with c1:
    sort = st.radio(
        _("Order"),
        fm.SORTS,
        key=state.FEAT_SORT,
        horizontal=True,
        format_func={"channel": _("channel #"), "mean": _("mean ↓"), "max": _("max ↓")}.get,
    )
with c2:
    norm = st.radio(
        _("Normalise"),
        fm.NORMS,
        key=state.FEAT_NORM,
        horizontal=True,
        format_func={"channel": _("per channel"), "layer": _("per layer"), "global": _("global")}.get,
    )
g_range = loaders.cached_capture_range() if norm == "global" else None
grid = loaders.cached_feature_grid(layer.name, sort, norm, g_range)
signed = grid.cmap == fm.DIVERGING
with c3:
    st.markdown(
        ngettext(
            "**{layer}** · {type} · {n} channel of {h}×{w} · each unit sees {rf}×{rf} input pixels",
            "**{layer}** · {type} · {n} channels of {h}×{w} · each unit sees {rf}×{rf} input pixels",
            maps.shape[0],
        ).format(layer=layer.name, type=layer.type, n=maps.shape[0], h=maps.shape[1], w=maps.shape[2], rf=layer.rf)
    )

order = [int(i) for i in grid.order]
if st.session_state.get(state.FEAT_CHANNEL) not in order:
    st.session_state[state.FEAT_CHANNEL] = order[0]
chosen = st.session_state[state.FEAT_CHANNEL]
grid_alt = alt_text.feature_grid(layer.name, maps, grid.order, sort=sort, norm=norm, chosen=chosen)
hit = clicked(
    grid.picture(chosen),
    key=state.FEAT_GRID_CLICK,
    alt=grid_alt,
    hotspots=grid.hotspots(f"{layer.name}, "),
    selected=grid.position(chosen),
)
if hit is not None and grid.channel_at(hit) is not None:
    st.session_state[state.FEAT_CHANNEL] = grid.channel_at(hit)
    st.rerun()  # redraw the outline on the clicked tile
ORDERS = {"channel": _("by channel number"), "mean": _("strongest mean first"), "max": _("strongest max first")}
st.caption(
    ngettext(
        "{n} channel, left to right, top to bottom ({order}). "
        "Click a tile to see that channel up close (outlined in magenta).",
        "{n} channels, left to right, top to bottom ({order}). "
        "Click a tile to see that channel up close (outlined in magenta).",
        maps.shape[0],
    ).format(n=maps.shape[0], order=ORDERS[sort])
)
lo = number(grid.vmin, 2) if grid.vmin is not None else (_("−max") if signed else _("min"))
hi = number(grid.vmax, 2) if grid.vmax is not None else (_("+max") if signed else _("max"))
colour_scale(grid.cmap, lo, hi, "0" if signed else None)
if signed:
    st.caption(
        _(
            "Blue: negative, white: zero, red: positive — this layer's values have both signs "
            "(it comes before an activation)."
        )
    )
else:
    st.caption(_("Dark purple: zero (no response), yellow: the strongest response."))
if norm == "channel":
    st.caption(_("Per channel: every tile uses its own range, so weak channels look as bright as strong ones."))
st.download_button(  # encoded when clicked, not on every run
    _("Download grid (PNG)"), grid.png, file_name=f"{name}_{layer.name}.png", mime="image/png"
)

st.header(_("One channel up close"))
flat = maps.reshape(maps.shape[0], -1)
means, maxes = flat.mean(axis=1).tolist(), flat.max(axis=1).tolist()  # at once: 2 numpy calls per channel took ms
option, short = _("channel {n} (mean {mean}, max {max})"), channel_views.short_number
ch = st.selectbox(
    _("Channel"),
    order,
    key=state.FEAT_CHANNEL,
    # a dict's .get, not a lambda: a lambda would keep this page's globals (the whole capture) alive
    format_func={i: option.format(n=i, mean=short(means[i]), max=short(maxes[i])) for i in order}.get,
)
m = maps[ch]
h, w = m.shape
for k, n in ((state.FEAT_ROW, h), (state.FEAT_COL, w)):  # another layer may have left a bigger value
    if not isinstance(st.session_state.get(k), int) or not 0 <= st.session_state[k] < n:
        st.session_state[k] = n // 2
left, mid, right = st.columns([1.1, 1.1, 0.8], gap="medium")
with left:  # drawn first: a click here sets the sliders' values before they are drawn
    row, col = st.session_state[state.FEAT_ROW], st.session_state[state.FEAT_COL]
    lo_, hi_ = fm.value_range([m], signed)
    pick_unit(
        fm.channel_view(m, cmap=grid.cmap, vmin=lo_, vmax=hi_, width=400),
        state.FEAT_UNIT_CLICK,
        alt=alt_text.channel(layer.name, ch, m, unit=(row, col)),
        shape=(h, w),
        unit=(row, col),
        keys=(state.FEAT_ROW, state.FEAT_COL),
    )
    st.caption(_("Channel {n}: {h}×{w}, the chosen unit in magenta. Click a unit to choose it.").format(n=ch, h=h, w=w))
with right:
    stats = fm.channel_stats(m)
    st.dataframe(
        {
            _("statistic"): [_(fm.STAT_LABELS[k]) for k in stats],
            _("value"): [channel_views.short_number(v) for v in stats.values()],
        },
        hide_index=True,
        alt=_("Statistics of channel {n}: min, max, mean, std and share positive").format(n=ch),
    )
    row = st.slider(_("Unit row"), 0, h - 1, key=state.FEAT_ROW) if h > 1 else 0
    col = st.slider(_("Unit column"), 0, w - 1, key=state.FEAT_COL) if w > 1 else 0
    st.caption(
        _("Value at ({row}, {col}): **{value}**").format(
            row=row, col=col, value=channel_views.short_number(m[row, col])
        )
    )
    if st.button(
        _("What does channel {n} look for?").format(n=ch), key=state.CH_OPEN, icon=":material/center_focus_strong:"
    ):
        channel_views.open_channel(layer.name, ch)  # the Channel page: feature visualisation, top images
with mid:
    spec = lm.preprocess_spec
    box = unit_box(layer, row, col, spec.size)
    st.image(
        render.photo_bytes(fm.draw_box(loaders.model_view(), box, width=400)),
        width="stretch",
        alt=alt_text.receptive_field((row, col), box, spec.size),
    )
    clipped = layer.rf > spec.size or min(box) == 0 or max(box) == spec.size - 1
    where = dict(row=row, col=col, top=box[0], bottom=box[2], left=box[1], right=box[3], size=spec.size)
    st.caption(
        _(
            "Receptive field of unit ({row}, {col}): rows {top}–{bottom}, columns {left}–{right} "
            "of the {size}×{size} input (clipped at the border)"
        ).format(**where)
        if clipped
        else _(
            "Receptive field of unit ({row}, {col}): rows {top}–{bottom}, columns {left}–{right} "
            "of the {size}×{size} input"
        ).format(**where)
    )

with st.expander(_("What am I looking at?")):
    st.markdown(
        _("""
Each small tile is one **channel** of this layer: one filter's response at every position of the image.
Bright (or strongly coloured) places are where that filter found its pattern. Early layers react to
edges and colours; deeper layers to textures, parts and whole objects, on smaller maps.

A unit of this layer depends on a **{rf}×{rf}-pixel** window of the input (its *receptive
field*, the magenta box); neighbouring units are **{jump}** input pixels apart. Each convolution
or pooling layer widens the window, which is how deep layers can see whole objects. Where the box is
larger than the picture, the unit also "sees" the zero padding around it.

**Per channel** stretches every tile to its own range (good for shapes, bad for comparing strength);
**per layer** uses one scale for the whole layer; **global** one scale for every layer of the network.
""").format(rf=layer.rf, jump=layer.jump)
    )
