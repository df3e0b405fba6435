"""The Channel page's panels: the channel's map, its feature visualisation and top images
(computed in the background with progress and a stop button), and its weights."""

from __future__ import annotations

import contextlib
import functools

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from babel.numbers import get_decimal_symbol, get_group_symbol

from cnnviz import render
from cnnviz.a11y import alt_lessons, alt_text, chart_text
from cnnviz.channels import example_pools, examples, featvis
from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _, current, ngettext
from cnnviz.inside import channel as chan
from cnnviz.inside import featuremaps as fm
from cnnviz.inside.catalogue import LayerInfo
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.ui import job_views, loaders, present, selection, state

STEPS = (32, 64, 128, 256, 512)
FEATVIS_SIZE = 128  # px: ImageNet models are visualised at 128², smaller models at their own size
SHOWN = 240  # px: side of the pictures in the three columns
TOP_K = 9

EXPLAIN = N_("""
A **channel** is one filter's answer at every position of the image. This page asks what that
filter is looking for, in three ways:

* **Its map on your image**: where in your picture the channel fires (bright = strong).
* **Feature visualisation**: a picture made from scratch to make this channel fire as strongly
  as possible on average. It starts as faint noise and is changed step by step in the direction
  that raises the channel (gradient ascent on the input). Small random shifts, turns and zooms
  at every step keep it from cheating with pixel-exact tricks, and building it from smooth
  waves (a Fourier basis) keeps it from turning into high-frequency noise. Early layers give
  stripes and colour blobs; deeper ones textures and object parts.
* **Top images**: real pictures from a pool that excite the channel most, each cut to the
  window of the input that its strongest unit can see (its receptive field), with its score
  (the channel's highest value on that picture).

**Weights**: for a first layer, the filter itself (a small picture the channel compares every
patch with). Deeper filters read many channels at once: the bars show how strongly this filter
weighs each input channel.
""")


def short_number(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, as ``f"{x:.3g}"``, with the current language's decimal sign."""
    return f"{x:.{digits}g}".replace(".", get_decimal_symbol(current()))


def number_locale() -> dict:
    """Vega's number locale for the current language: a chart's axis ticks then read 0,15 in de/es."""
    lang = current()
    sep = {"decimal": get_decimal_symbol(lang), "thousands": get_group_symbol(lang), "grouping": [3]}
    return {"number": {**sep, "currency": ["", ""]}}  # Vega requires a currency; none is shown


def open_channel(layer: str, channel: int) -> None:
    """Go to the Channel page showing ``channel`` of ``layer`` (a page link, with query parameters)."""
    selection.forget_query("channel")
    st.switch_page("pages/channel.py", query_params={"layer": layer, "channel": str(channel)})


def has_channel(layer: LayerInfo, channel: object) -> bool:
    return isinstance(channel, int) and 0 <= channel < layer.out_shape[0]


def channel_input(layer: LayerInfo) -> int:
    """The channel number widget for ``layer``; with none chosen (or a number another layer
    left that this one lacks) the channel most active on the current image."""
    n = layer.out_shape[0]
    if not has_channel(layer, st.session_state.get(state.CH_CHANNEL)):
        st.session_state[state.CH_CHANNEL] = chan.most_active(loaders.captured((layer.name,))[layer.name])
    return int(st.number_input(_("Channel (0–{last})").format(last=n - 1), 0, n - 1, step=1, key=state.CH_CHANNEL))


# ------------------------------------------------------------------ the map on the current image
def map_panel(layer: LayerInfo, channel: int) -> None:
    st.markdown(_("**On your image**"))
    maps = loaders.captured((layer.name,))[layer.name]  # (C, H, W)
    m = maps[channel]
    signed = fm.is_signed(maps)
    lo, hi = fm.value_range([m], signed)
    cmap = fm.DIVERGING if signed else fm.SEQUENTIAL
    st.image(
        fm.channel_view(m, cmap=cmap, vmin=lo, vmax=hi, width=SHOWN),
        width=SHOWN,
        alt=alt_text.channel(layer.name, channel, m),
    )
    st.caption(
        _("{h}×{w} map · mean {mean} · max {max}").format(
            h=m.shape[0], w=m.shape[1], mean=short_number(m.mean()), max=short_number(m.max())
        )
    )


# ------------------------------------------------------------------ feature visualisation
def _featvis_work(lm: LoadedModel, req: featvis.Request, on_progress, should_stop) -> featvis.Result:
    def on_step(step: int, total: int, _value: float) -> None:
        on_progress(step, total)

    return featvis.visualize(lm, req, on_step=on_step, should_stop=should_stop)


def featvis_panel(lm: LoadedModel, layer: LayerInfo, channel: int) -> None:
    st.markdown(_("**Feature visualisation**"))
    if state.CH_STEPS not in st.session_state:
        st.session_state[state.CH_STEPS] = 256
    steps = st.select_slider(_("Steps"), STEPS, key=state.CH_STEPS)
    req = featvis.Request(layer.name, channel, min(lm.preprocess_spec.size, FEATVIS_SIZE), steps, 0)
    try:
        featvis.check_target(loaders.cached_catalogue(lm.name, lm.weights), layer.name, channel)
        res = featvis.cached(lm, req)
    except CnnvizError as e:
        st.error(str(e))
        return
    if res is not None:
        pic = res.picture if res.picture.ndim == 3 else np.repeat(res.picture[:, :, None], 3, axis=2)
        st.image(
            render.upscale(pic, render.fit_factor(pic.shape[1], SHOWN)),
            width=SHOWN,
            alt=alt_lessons.featvis(layer.name, channel, req.size, steps, res.activation),
        )
        st.caption(
            _("{size}×{size} px, {steps} steps · mean activation {value}").format(
                size=req.size, steps=steps, value=short_number(res.activation)
            )
        )
        return
    key = (lm.name, lm.weights, req)  # the request names no model
    if job_views.show("featvis", key, state.CH_FV_STOP, unit="steps"):
        return
    st.caption(
        _("Not made yet: {steps} steps at {size}×{size} px (then kept for everyone).").format(
            steps=steps, size=req.size
        )
    )
    if st.button(_("Visualise"), key=state.CH_FV_START, icon=":material/auto_awesome:"):
        work = functools.partial(_featvis_work, lm, req)
        job_views.submit("featvis", key, work, units=steps, cost=("featvis", lm.name, req.size))
        st.rerun()


# ------------------------------------------------------------------ weights
def weights_panel(lm: LoadedModel, layers: list[LayerInfo], layer: LayerInfo, channel: int) -> None:
    st.markdown(_("**Its weights**"))
    conv = chan.source_conv(layers, layer)
    if conv is None:
        st.caption(_("No convolution before this layer computes this channel on its own."))
        return
    with lm.use() as model:
        w = chan.channel_filter(model, conv, channel)  # (I, k, k)
    if w.shape[0] in (1, 3) and conv.name == next(la.name for la in layers if la.kind == "conv"):
        k = np.abs(w).max() or 1.0
        pic = ((0.5 + 0.5 * w / k) * 255).round().astype(np.uint8).transpose(1, 2, 0)  # 0 → grey
        pic = np.repeat(pic, 3, axis=2) if pic.shape[2] == 1 else pic
        st.image(
            render.upscale(pic, render.fit_factor(pic.shape[1], SHOWN)),
            width=SHOWN,
            alt=alt_lessons.channel_filter(conv.name, channel, w),
        )
        st.caption(
            _("The {h}×{w} filter {channel} of {layer}: grey is 0, brighter adds, darker subtracts.").format(
                h=w.shape[1], w=w.shape[2], channel=channel, layer=conv.name
            )
        )
        return
    norms = chan.input_norms(w)
    frame = pd.DataFrame({"channel": np.arange(len(norms)), "norm": norms})
    # an Altair chart rather than st.bar_chart: its labels can grow in presenter mode
    bars = (
        alt.Chart(frame, description=chart_text.input_norms(conv.name, channel, norms))
        .mark_bar()
        .encode(
            x=alt.X("channel:O", title=_("input channel")),
            y=alt.Y("norm:Q", title=_("weight norm")),
            tooltip=[
                alt.Tooltip("channel:O", title=_("input channel")),
                alt.Tooltip("norm:Q", title=_("weight norm"), format=".3g"),
            ],
        )
        .properties(height=SHOWN)
        .configure(locale=number_locale())
    )
    st.altair_chart(present.chart(bars), width="stretch")
    top = np.argsort(-norms)[:3]
    st.caption(
        _(
            "filter {channel} of {layer}: {h}×{w} weights on each of {n} input channels; "
            "it reads most from input channels {top}."
        ).format(
            channel=channel,
            layer=conv.name,
            h=w.shape[1],
            w=w.shape[2],
            n=w.shape[0],
            top=", ".join(str(int(i)) for i in top),
        )
    )


# ------------------------------------------------------------------ top images
def _pool(lm: LoadedModel) -> list[example_pools.Part]:
    parts = [examples.parse(s) for s in examples.default_parts(lm)]
    got = loaders.current_image_bytes()
    if got is not None and st.session_state.get(state.IMAGE_SOURCE) in (state.SOURCE_UPLOAD, state.SOURCE_CAMERA):
        data, name, _ = got
        with contextlib.suppress(CnnvizError):  # an unreadable upload has its own message on every page
            parts.append(example_pools.upload(data, name))
    return parts


def _examples_work(lm: LoadedModel, parts: list, layer: LayerInfo, on_progress, should_stop) -> None:
    total = sum(len(p) for p in parts)
    before = 0
    for p in parts:

        def step(done: int, _n: int, before: int = before) -> None:
            on_progress(before + done, total)

        examples.score_part(lm, p, [layer], on_progress=step, should_stop=should_stop)
        before += len(p)


def _short(source: str, most: int = 14) -> str:
    """'skimage:chelsea.png [0, 0, 300, 300]' → 'chelsea.png'; 'mnist5k' stays."""
    name = source.split(" [")[0].rpartition(":")[2] or source
    return name if len(name) <= most else name[: most - 1] + "…"


def examples_panel(lm: LoadedModel, layer: LayerInfo, channel: int) -> None:
    try:
        parts = _pool(lm)
        ready = all(examples.is_cached(lm, p, [layer]) for p in parts)
    except CnnvizError as e:
        st.error(str(e))
        return
    n = sum(len(p) for p in parts)
    if not ready:
        key = (lm.name, lm.weights, layer.name, tuple(p.key for p in parts))
        if job_views.show("examples", key, state.CH_EX_STOP, unit="images"):
            return
        st.caption(
            ngettext(
                "One pass over {n} image scores every channel of {layer} at once (then kept for everyone).",
                "One pass over {n} images scores every channel of {layer} at once (then kept for everyone).",
                n,
            ).format(n=n, layer=layer.name)
        )
        if st.button(_("Find the top {n} images").format(n=TOP_K), key=state.CH_EX_START, icon=":material/search:"):
            work = functools.partial(_examples_work, lm, parts, layer)
            job_views.submit("examples", key, work, units=n, cost=("examples", lm.name))
            st.rerun()
        return
    spec = lm.preprocess_spec
    scores = [examples.score_part(lm, p, [layer]) for p in parts]  # from the disk cache
    best = examples.top_k(parts, scores, layer, channel, spec.size, TOP_K)
    cols = st.columns(TOP_K)
    texts = alt_text.examples(layer.name, channel, [e.score for e in best], [_short(e.source, 40) for e in best])
    for col, e, text in zip(cols, best, texts, strict=False):
        pic = examples.example_picture(parts[e.part], e.index, spec, e.box)
        with col:
            st.image(pic.resize((96, 96), 0).convert("RGB"), width="stretch", alt=text)
            # data: shown as text, never markdown; the mean breaks ties at a ceiling (ReLU6's 6)
            mean = _("mean {value}").format(value=short_number(e.mean, 2))
            st.text(f"{short_number(e.score)}\n{mean}\n{_short(e.source)}")
    photos = examples.photos_in(parts)
    st.caption(
        _(
            "Best of {n} images from {photos} photos, one crop per photo, each cut to {window}. "
            "The first number is the channel's highest value on it; equal ones are ranked by the second, "
            "its mean over the whole map."
        ).format(n=n, photos=photos, window=examples.window_text(layer.rf, spec.size))
    )
