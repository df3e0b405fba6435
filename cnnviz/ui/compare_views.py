"""Widgets and columns of the Compare-models page.

Each column's results come from the same shared caches as the single-model pages
(``loaders.prediction_for``, ``cached_capture.for_model``, ``explanation.for_model``), so
a model compared here is not loaded or run a second time for Feature maps or Grad-CAM.
"""

from __future__ import annotations

import streamlit as st
from PIL import Image

from cnnviz import render
from cnnviz.a11y import alt_text
from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _, ngettext, percent
from cnnviz.inside import featuremaps as fm
from cnnviz.inside import filters as fl
from cnnviz.inside import model_compare as mc
from cnnviz.models import usermodels
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.models.zoo import list_models
from cnnviz.ui import charts, explain_views, loaders, present, state
from cnnviz.ui.explain_views import explanation
from cnnviz.ui.owner import model_title, owner_token, visible_models
from cnnviz.ui.text import plain

WEIGHTS = {state.WEIGHTS_PRETRAINED: N_("Trained"), state.WEIGHTS_RANDOM: N_("Random")}  # shown translated
SLOTS = {
    "A": (state.CMP_MODEL_A, state.CMP_WEIGHTS_A, state.CMP_LAYER_A),
    "B": (state.CMP_MODEL_B, state.CMP_WEIGHTS_B, state.CMP_LAYER_B),
}

LESSONS = {
    "same": N_("Trained vs random"),
    "two_nets": N_("EfficientNet vs ResNet-18"),
    "digits": N_("Digits model vs yours"),
}

HELP = {
    "same": N_("Model B becomes model A's architecture with random weights: what training changed."),
    "two_nets": N_(
        "A light network for phones beside a classic residual one (random weights if ResNet-18's "
        "trained weights are not on this server)."
    ),
    "digits": N_("The shipped MNIST model beside your latest saved model."),
}


def model_names() -> list[str]:
    """The models either picker offers (the names a link may use for ``a`` and ``b``)."""
    return list(_titles())


def _titles() -> dict[str, str]:
    return {i.name: model_title(i) for i in visible_models()}


def _latest_user_model() -> str | None:
    """The saved model a student most likely means by "yours": their own first, then the newest."""
    users = [i for i in visible_models() if i.family == "user"]
    token = owner_token()

    def rank(info) -> tuple[bool, float]:
        sidecar = usermodels.user_models_dir() / f"{info.name}.json"
        return usermodels.owned_by(info.metadata, token), sidecar.stat().st_mtime if sidecar.exists() else 0.0

    return max(users, key=rank).name if users else None


def init_pair() -> None:
    """A starts on the sidebar's model (trained or random as there), B on SqueezeNet 1.1
    (trained weights offline), or EfficientNet-Lite0 when A is SqueezeNet."""
    titles = _titles()
    if st.session_state.get(state.CMP_MODEL_A) not in titles:
        st.session_state[state.CMP_MODEL_A] = st.session_state[state.MODEL]
        w = st.session_state[state.WEIGHTS]
        st.session_state[state.CMP_WEIGHTS_A] = w if w in WEIGHTS else state.WEIGHTS_PRETRAINED
    if st.session_state.get(state.CMP_MODEL_B) not in titles:
        a = st.session_state[state.CMP_MODEL_A]
        st.session_state[state.CMP_MODEL_B] = "efficientnet_lite0" if a == "squeezenet1_1" else "squeezenet1_1"
        st.session_state[state.CMP_WEIGHTS_B] = state.WEIGHTS_PRETRAINED
    for key in (state.CMP_WEIGHTS_A, state.CMP_WEIGHTS_B):
        if st.session_state.get(key) not in WEIGHTS:
            st.session_state[key] = state.WEIGHTS_PRETRAINED


def apply_lesson(lesson: str) -> None:
    """Button callback: set both pickers for one of LESSONS."""
    ss = st.session_state
    if lesson == "same":
        ss[state.CMP_MODEL_B] = ss[state.CMP_MODEL_A]
        ss[state.CMP_WEIGHTS_A], ss[state.CMP_WEIGHTS_B] = state.WEIGHTS_PRETRAINED, state.WEIGHTS_RANDOM
    elif lesson == "two_nets":
        ss[state.CMP_MODEL_A], ss[state.CMP_MODEL_B] = "efficientnet_lite0", "resnet18"
        ss[state.CMP_WEIGHTS_A] = state.WEIGHTS_PRETRAINED
        ss[state.CMP_WEIGHTS_B] = state.WEIGHTS_PRETRAINED if _available("resnet18") else state.WEIGHTS_RANDOM
    elif lesson == "digits":
        ss[state.CMP_MODEL_A] = "tinyvgg_mnist"
        ss[state.CMP_MODEL_B] = _latest_user_model() or "tinyvgg_mnist"
        ss[state.CMP_WEIGHTS_A] = state.WEIGHTS_PRETRAINED
        ss[state.CMP_WEIGHTS_B] = state.WEIGHTS_PRETRAINED if _latest_user_model() else state.WEIGHTS_RANDOM
    for key in (state.CMP_LAYER_A, state.CMP_LAYER_B):
        ss.pop(key, None)


def _available(name: str) -> bool:
    return any(i.name == name and i.available() for i in list_models())


def reset_layers() -> None:
    """Depth slider callback: both layer pickers follow the new relative depth."""
    for key in (state.CMP_LAYER_A, state.CMP_LAYER_B):
        st.session_state.pop(key, None)


def lesson_buttons() -> None:
    cols = st.columns(len(LESSONS))
    for col, (key, label) in zip(cols, LESSONS.items(), strict=True):
        col.button(
            _(label), key=f"cmp_lesson_{key}", on_click=apply_lesson, args=(key,), width="stretch", help=_(HELP[key])
        )


def picker(slot: str) -> tuple[str, str]:
    """Model and weights pickers of one column; (name, weights)."""
    model_key, weights_key, _layer_key = SLOTS[slot]
    titles = _titles()
    name = st.selectbox(_("Model {slot}").format(slot=slot), list(titles), key=model_key, format_func=titles.get)
    shown = {k: _(v) for k, v in WEIGHTS.items()}
    weights = st.radio(
        _("Weights {slot}").format(slot=slot), list(WEIGHTS), key=weights_key, format_func=shown.get, horizontal=True
    )
    return name, weights


def load(name: str, weights: str) -> LoadedModel | None:
    """The shared model, or a message in the column (e.g. trained weights not on this server)."""
    try:
        return loaders.cached_model(name, weights)
    except CnnvizError as e:
        st.info(str(e))
        return None


def top5(name: str, weights: str) -> dict:
    pred = loaders.prediction_for(name, weights, 5)
    st.vega_lite_chart(spec=present.chart(charts.top_k_chart(pred["top"])), width="stretch")
    return pred


def feature_maps(slot: str, lm: LoadedModel, name: str, weights: str, depth: float) -> None:
    """The strongest channels of the chosen layer (default: the one at ``depth``)."""
    layer_key = SLOTS[slot][2]
    layers = loaders.cached_catalogue(name, weights)
    cands = mc.depth_layers(layers)
    if not cands:
        st.info(_("This model has no layers with feature maps."))
        return
    names = [la.name for la in cands]
    if st.session_state.get(layer_key) not in names:
        st.session_state[layer_key] = mc.layer_at_depth(layers, depth).name
    by_name = {la.name: la for la in cands}
    labels = {n: f"{n} · {'×'.join(map(str, by_name[n].out_shape))}" for n in names}
    layer = st.selectbox(_("Layer {slot}").format(slot=slot), names, key=layer_key, format_func=labels.get)
    maps = loaders.cached_capture.for_model(name, weights)[layer]
    shown = mc.strongest_channels(maps)
    grid = fm.feature_grid(shown, sort="channel", norm="layer", width=420)
    text = alt_text.feature_grid(layer, shown, grid.order, sort="channel", norm="layer", total=maps.shape[0])
    st.image(grid.rgb, width="stretch", alt=f"{name}: {text}")
    where = mc.relative_depth(layers, layer)
    st.caption(
        _(
            "{k} strongest of {n} channels, {h}×{w} each · {depth} of the way through {layers} layers · "
            "each unit sees {rf} px"
        ).format(
            k=len(shown),
            n=maps.shape[0],
            h=maps.shape[1],
            w=maps.shape[2],
            depth=percent(where, 0),
            layers=len(cands),
            rf=by_name[layer].rf,
        )
    )


def first_filters(lm: LoadedModel, name: str, weights: str) -> None:
    conv = mc.first_conv(loaders.cached_catalogue(name, weights))
    if conv is None:
        st.info(_("This model has no convolution layer."))
        return
    w = fl.conv_weight(lm.model, conv.name)
    text = alt_text.filters(
        conv.name, w.shape, fl.filter_norms(w), label=f"{name}, {_(WEIGHTS.get(weights, weights))}", mode="average"
    )
    st.image(fl.filter_grid(w, width=300), width=300, alt=text)
    st.caption(
        ngettext("{layer}: {n} filter of {i}×{kh}×{kw}", "{layer}: {n} filters of {i}×{kh}×{kw}", w.shape[0]).format(
            layer=conv.name, n=w.shape[0], i=w.shape[1], kh=w.shape[2], kw=w.shape[3]
        )
    )


def gradcam(lm: LoadedModel, name: str, weights: str, img: Image.Image, target: int) -> None:
    layer = mc.gradcam_layer(lm.info.default_layer, loaders.cached_catalogue(name, weights))
    try:
        e = explanation.for_model(name, weights, "gradcam", target, layer)
    except CnnvizError as err:
        st.info(str(err))
        return
    picture = lm.preprocess_spec.crop(img).convert("RGB")
    st.image(
        render.overlay_png(picture, render.display(e.map, cmap=explain_views.cmap()), alpha=0.5),
        width=300,
        alt=f"{name}: " + alt_text.explanation("Grad-CAM", e.label, e.layer, e.map),
    )
    st.caption(
        _("Evidence for “{label}” ({p}) at {layer}").format(label=plain(e.label), p=percent(e.prob, 1), layer=e.layer)
    )
