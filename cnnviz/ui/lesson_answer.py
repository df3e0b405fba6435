"""The model's own answer to a class question, and its pictures.

The answer is computed for the step's model and image (its view's ``model``, ``weights``
and ``image``), once for the whole class: it lives in ``cache.RESULTS``. ``reveal`` shows it
on the teacher's screen and the followers' devices alike.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import render
from cnnviz.a11y import alt_questions
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, percent
from cnnviz.inputs.gallery import SAMPLES, sample_bytes
from cnnviz.inputs.images import image_digest
from cnnviz.lessons import links as L
from cnnviz.lessons import questions as Q
from cnnviz.lessons.format import Question, Step
from cnnviz.serving import cache, uploads
from cnnviz.ui import loaders, selection, state
from cnnviz.ui.links import shared_images
from cnnviz.ui.owner import owner_token
from cnnviz.ui.text import plain


# ---------------------------------------------------------------- the step's model and pictures
def question_image(ref: str) -> tuple[bytes, str]:
    """(bytes, name) of an ``image=`` value: a gallery name (``gallery:`` optional) or an upload."""
    kind, name = L.image_ref(ref.removeprefix("gallery:"), SAMPLES)
    if kind == "gallery":
        return sample_bytes(name), name
    data = shared_images().get(name)
    if data is None:
        raise CnnvizError(_("This question's photo is no longer on the server."))
    return data, _("shared photo {digest}").format(digest=name[:8])  # the decoder's messages name it


def _model(step: Step):
    """The step's model (name, weights) as the links name them."""
    params = step.view.params
    name = params.get("model", state.DEFAULT_MODEL)
    kind, digest = L.weights_ref(params.get("weights", state.WEIGHTS_PRETRAINED))
    weights = kind
    if digest is not None:
        found = uploads.find(digest, owner=owner_token())
        if found is None:
            raise CnnvizError(_("This question's weights file is no longer on the server."))
        weights = str(found)
    return name, weights, loaders.cached_model(name, weights)


def _step_image(step: Step) -> tuple[Image.Image, str]:
    data, name = question_image(step.view.params.get("image", "grace_hopper"))
    return loaders.decoded_image(data, name), image_digest(data)


def step_crop(step: Step) -> Image.Image:
    """The picture the step's model sees: the crop a click question is answered on."""
    lm = _model(step)[2]
    img = _step_image(step)[0]
    return lm.preprocess_spec.crop(img)


def model_answer(step: Step):
    """The model's own answer to the step's question, computed once for the class:
    choice: ``TopClass``; click: ``questions.Peak``; pick_image: (4,) mean activations."""
    q = step.question
    name, weights, lm = _model(step)
    img, digest = _step_image(step)
    params = step.view.params
    key = ("lesson-answer", q.kind, name, weights, loaders.model_version(name, weights), digest, q.options)
    if q.kind == "choice":
        return cache.RESULTS.get_or_compute(key, lambda: Q.top1(lm, img))
    if q.kind == "click":
        return cache.RESULTS.get_or_compute(key, lambda: cache.freeze(Q.gradcam_peak(lm, img)))
    layer = params.get("layer") or lm.info.default_layer
    channel = selection.as_int(params.get("channel", "0"), 0, 1 << 20)
    if layer not in dict(lm.model.named_modules()) or channel is None:
        raise CnnvizError(_("This question's layer or channel is not one of the model's, so it has no answer."))
    pics = [loaders.decoded_image(*question_image(ref)) for ref in q.options]
    try:
        return cache.RESULTS.get_or_compute(
            (*key, layer, channel), lambda: cache.freeze(Q.channel_means(lm, pics, layer, channel))
        )
    except ValueError:  # a channel beyond the layer's
        raise CnnvizError(
            _("This question's channel {channel} is not one of layer {layer}'s, so it has no answer.").format(
                channel=channel, layer=layer
            )
        ) from None


# ---------------------------------------------------------------- the model's answer
def reveal(step: Step, q: Question, heat: np.ndarray | None = None) -> None:
    """The model's own answer, in words and (click, pick_image) pictures."""
    with st.spinner(_("The model is answering…")):
        answer = model_answer(step)
    if q.kind == "choice":
        match = Q.matching_option(q.options, answer.label)
        said = _("The model says “{label}” ({prob}).").format(label=plain(answer.label), prob=percent(answer.prob, 0))
        if match is None:
            said += " " + _("None of the options named it.")
        st.success(said, icon=":material/smart_toy:")
    elif q.kind == "click":
        crop = step_crop(step)
        heat = np.zeros((Q.CLICK_GRID,) * 2) if heat is None else heat
        st.image(heat_picture(crop, heat, answer.box), alt=alt_questions.clicks(heat, answer.box), width=448)
        st.success(
            _("The box shows where the model looked most for “{label}” (Grad-CAM).").format(label=plain(answer.label)),
            icon=":material/smart_toy:",
        )
    else:
        best = Q.best_of(answer)
        values = ", ".join(
            _("picture {k}: {value}").format(k=i + 1, value=alt_questions.sig3(v)) for i, v in enumerate(answer)
        )
        st.success(
            _("Picture {k} excites the channel most (mean activation {values}).").format(k=best + 1, values=values),
            icon=":material/smart_toy:",
        )


def heat_picture(crop: Image.Image, heat: np.ndarray, box=None) -> bytes:
    """PNG: the class's clicks as a heat map over the picture, the model's region as a box."""
    w, h = crop.size
    pic = render.overlay(crop, heat, alpha=0.55 if heat.max() > 0 else 0.0, cmap="inferno", vmin=0.0)
    if box is not None:
        x0, y0, x1, y1 = box
        pic = render.draw_box(
            pic, int(y0 * h), int(x0 * w), int((y1 - y0) * h), int((x1 - x0) * w), color=(0, 255, 255), thickness=3
        )
    return render.to_png(pic)
