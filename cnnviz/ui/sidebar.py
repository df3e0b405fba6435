"""The sidebar every page shares: the model picker and the image picker."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cnnviz.i18n import N_, _
from cnnviz.inputs.gallery import SAMPLES, sample_bytes
from cnnviz.models.zoo import is_onnx
from cnnviz.serving import uploads
from cnnviz.ui import accept, held_photos, state, timm_picker
from cnnviz.ui.loaders import store_upload
from cnnviz.ui.onnx_form import preprocessing_form
from cnnviz.ui.owner import model_title, student, visible_models
from cnnviz.ui.text import plain

WEIGHTS_LABEL = {
    state.WEIGHTS_PRETRAINED: N_("Trained"),
    state.WEIGHTS_RANDOM: N_("Random"),
    state.WEIGHTS_FILE: N_("My file"),
}
SOURCE_DRAW = "Draw"  # i18n: not UI (a value; shown through SOURCE_LABEL). A digit drawn with the mouse
SOURCE_LABEL = {
    state.SOURCE_GALLERY: N_("Gallery"),
    state.SOURCE_UPLOAD: N_("Upload"),
    state.SOURCE_CAMERA: N_("Camera"),
    SOURCE_DRAW: N_("Draw"),
}

SAMPLE_TITLES = {name: sample.title for name, sample in SAMPLES.items()}  # English (translate where shown)


def _sample_title(name: str) -> str:
    return _(SAMPLES[name].title)


def _on_weights_upload() -> None:
    f = st.session_state.get(state.WEIGHTS_UPLOAD)
    if accept.gone(f):
        return
    st.session_state[state.WEIGHTS_PATH] = None if f is None else str(store_upload(f.getvalue(), f.name, student()))


def _model_picker() -> None:
    infos = {i.name: i for i in visible_models()}
    if (timm_info := timm_picker.current()) is not None:
        infos[timm_info.name] = timm_info
    # A user model deleted meanwhile, or another student's private one named in a link.
    if st.session_state[state.MODEL] not in infos:
        st.session_state[state.MODEL] = state.DEFAULT_MODEL
    st.selectbox(
        _("Model"),
        list(infos),
        key=state.MODEL,
        format_func={n: model_title(i) for n, i in infos.items()}.get,
        help=_("Every page looks inside this model."),
    )
    timm_picker.name_box()
    info = infos[st.session_state[state.MODEL]]
    st.radio(
        _("Weights"),
        [state.WEIGHTS_PRETRAINED, state.WEIGHTS_RANDOM, state.WEIGHTS_FILE],
        key=state.WEIGHTS,
        format_func={k: _(v) for k, v in WEIGHTS_LABEL.items()}.get,
        horizontal=True,
        help=_(
            "Random weights show what the same network looks like before any training. "
            "A file: a state dict you trained for this architecture (.safetensors or .pt), or a whole "
            "model from any framework as ONNX (.onnx), which takes this architecture's place."
        ),
    )
    file = st.session_state[state.WEIGHTS] == state.WEIGHTS_FILE
    whole_model = file and is_onnx(st.session_state.get(state.WEIGHTS_PATH) or "")
    if file:
        st.file_uploader(
            _("Weights file"),
            type=accept.CHECKPOINTS,
            key=state.WEIGHTS_UPLOAD,
            on_change=_on_weights_upload,
            help=_(
                "Read as data only: files that contain code are refused. An .onnx file is checked "
                "(size, operators, no links to other files) before anything is built from it."
            ),
        )
        linked = st.session_state.get(state.WEIGHTS_LINKED)
        if linked and linked == st.session_state.get(state.WEIGHTS_PATH):  # no file in the uploader: say which
            st.caption(_("Using the weights file from the link: {name}").format(name=plain(Path(linked).name, 80)))
        if whole_model:
            st.caption(
                _("An ONNX file is a whole model: it takes the place of {model} on every page.").format(
                    model=plain(info.title, 80)
                )
            )
            preprocessing_form(st.session_state[state.WEIGHTS_PATH], info.name)
        used, budget = uploads.disk_usage()
        mine, share = uploads.held_by(student())
        st.caption(
            _(
                "Uploaded weights on this server: {used} of {budget} MB, yours {mine} of {share} MB "
                "(kept {hours} h; past your share, your oldest go)."
            ).format(
                used=used >> 20,
                budget=budget >> 20,
                mine=mine >> 20,
                share=share >> 20,
                hours=f"{uploads.UPLOAD_TTL_S / 3600:g}",
            )
        )
    if st.session_state[state.WEIGHTS] == state.WEIGHTS_PRETRAINED and not info.available():
        st.warning(_("The trained weights of this model are not on this server (they download once when online)."))
    if info.description and not whole_model:
        st.caption(plain(_(info.description), 300))


def _set_image(data: bytes | held_photos.Photo | None, name: str | None, ref: str | None = None) -> None:
    if not isinstance(data, held_photos.Photo):  # a gallery photo or a drawing: the held one goes
        held_photos.STORE.release(held_photos.holder())
    st.session_state[state.IMAGE_BYTES] = data
    st.session_state[state.IMAGE_NAME] = name
    st.session_state[state.IMAGE_REF] = ref  # None: shared (upload:<sha256>) when a link is made


def _on_gallery() -> None:
    name = st.session_state[state.GALLERY]
    _set_image(sample_bytes(name), name, name)


def use_sample(name: str) -> None:
    """on_click of a page's "use this photo" button: the gallery photo ``name`` becomes the image."""
    st.session_state[state.IMAGE_SOURCE] = state.SOURCE_GALLERY
    st.session_state[state.GALLERY] = name
    _on_gallery()


def use_photo(data: bytes | held_photos.Photo, name: str) -> None:
    """From a callback (before the sidebar draws): the photo ``data`` (bytes, or a ticket
    :func:`held_photos.take` gave) becomes the image, held by content, as a camera shot."""
    st.session_state[state.IMAGE_SOURCE] = state.SOURCE_CAMERA
    _set_image(data if isinstance(data, held_photos.Photo) else held_photos.keep(data), name)


def _on_upload() -> None:
    f = st.session_state.get(state.UPLOAD)
    if (photo := held_photos.take(state.UPLOAD)) is not None:
        _set_image(photo, f.name)


def _on_camera() -> None:
    if (photo := held_photos.take(state.CAMERA)) is not None:
        _set_image(photo, "camera.jpg")


def _on_source() -> None:
    if st.session_state[state.IMAGE_SOURCE] == state.SOURCE_GALLERY:
        _on_gallery()


def _draw() -> None:
    # Imported here: the component needs a running Streamlit app to declare itself.
    import numpy as np
    from streamlit_drawable_canvas import st_canvas

    from cnnviz.render import to_png

    st.caption(_("Draw a digit, white on black like MNIST, for a digit model such as TinyVGG."))
    # the canvas's toolbar rises 2.65rem above it on hover: 0.75rem and the two 1rem gaps keep
    # it off the hint
    st.space("small")
    res = st_canvas(
        stroke_width=18,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=224,
        width=224,
        drawing_mode="freedraw",
        return_image_data=True,
        key=state.DRAW_CANVAS,
    )
    img = getattr(res, "image_data", None)  # (H, W, 4) RGBA at the canvas's CSS size
    if img is not None and np.asarray(img)[..., :3].max() > 0:
        data = to_png(np.asarray(img)[..., :3].astype(np.uint8))
        if data != st.session_state.get(state.IMAGE_BYTES):
            _set_image(data, "drawing.png")


def _image_picker() -> None:
    source = st.radio(
        _("Image"),
        [state.SOURCE_GALLERY, state.SOURCE_UPLOAD, state.SOURCE_CAMERA, SOURCE_DRAW],
        key=state.IMAGE_SOURCE,
        horizontal=True,
        format_func={k: _(v) for k, v in SOURCE_LABEL.items()}.get,
        on_change=_on_source,
    )
    if source == state.SOURCE_GALLERY:
        st.selectbox(
            _("Sample photo"),
            list(SAMPLES),
            key=state.GALLERY,
            format_func=_sample_title,
            on_change=_on_gallery,
        )
        if st.session_state[state.IMAGE_BYTES] is None:
            _on_gallery()
    elif source == state.SOURCE_UPLOAD:
        st.file_uploader(
            _("Your photo"),
            type=accept.IMAGES,
            key=state.UPLOAD,
            on_change=_on_upload,
        )
    elif source == SOURCE_DRAW:
        _draw()
    else:
        st.camera_input(_("Take a photo"), key=state.CAMERA, on_change=_on_camera)
    name = st.session_state.get(state.IMAGE_NAME)
    if name and not held_photos.dropped():  # a dropped photo: the page asks for it again
        st.caption(_("Using: {image}").format(image=_sample_title(name) if name in SAMPLES else plain(name, 80)))


def render_sidebar() -> None:
    with st.sidebar:
        if st.session_state.get(state.PRESENT):  # presenter mode: the choices come from the link
            if st.session_state[state.IMAGE_BYTES] is None:
                _on_gallery()
            name = st.session_state.get(state.IMAGE_NAME)
            st.caption(
                _("Presenter mode · {model} · {image}").format(
                    model=st.session_state[state.MODEL], image=_sample_title(name) if name in SAMPLES else name
                )
            )
            return
        _model_picker()
        st.divider()
        _image_picker()
