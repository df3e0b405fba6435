"""Live: the network watching the camera - its top-5, a layer's strongest channels and Grad-CAM, continuously."""

import streamlit as st

from cnnviz.camera.live import LiveSettings, cam_layer, default_layer
from cnnviz.i18n import _
from cnnviz.ui import links, live_view, loaders, state
from cnnviz.ui.layer_picker import layer_select

links.page(
    layer=links.layer_param(state.LIVE_LAYER),
    n=links.int_param(state.LIVE_N, 1, 16),
    cam=links.bool_param(state.LIVE_CAM),
    target=links.int_param(state.LIVE_TARGET, -1),
)
st.title(_("Live: the network watches your camera"))
lm = loaders.current_model()
name, weights = loaders.model_key()
layers = loaders.cached_catalogue(name, weights)

for key, default in ((state.LIVE_ON, True), (state.LIVE_CAM, True), (state.LIVE_N, 8)):
    st.session_state.setdefault(key, default)
c_on, c_cam, c_target, c_freeze = st.columns([0.8, 0.8, 1.5, 1.2], vertical_alignment="bottom")
on = c_on.toggle(_("Camera on"), key=state.LIVE_ON, help=_("Off: the camera light goes out and the stream ends."))
cam = c_cam.toggle(_("Grad-CAM"), key=state.LIVE_CAM, help=_("Where the network found evidence for the class."))
classes = {-1: _("the top class of each frame"), **{i: f"{lm.label(i)} ({i})" for i in range(len(lm.classes))}}
with c_target:
    if st.session_state.get(state.LIVE_TARGET) not in classes:
        st.session_state[state.LIVE_TARGET] = -1
    target = st.selectbox(
        _("Grad-CAM of"),
        list(classes),
        key=state.LIVE_TARGET,
        format_func=classes.get,
        disabled=not cam,
        help=_("Pin a class to see where its evidence moves as you move the camera. Type to search."),
    )
view = st.container()  # the camera and its answers, above the layer they show (drawn once it is chosen)
c_layer, c_n = st.columns([1.6, 1], vertical_alignment="bottom")
with c_layer:
    layer = layer_select(_("Channels of layer"), layers, state.LIVE_LAYER, default=default_layer(layers))
with c_n:
    n = st.slider(_("Channels shown"), 1, 16, key=state.LIVE_N)

settings = LiveSettings(layer, n=n, cam=cam, cam_layer=cam_layer(lm, layers), target=None if target < 0 else target)
with view:
    camera_state = live_view.camera(lm, settings, on)
    if not on:
        live_view.leave()
        st.info(_("The camera is off. Turn it on to watch the network answer, frame by frame."))
    elif camera_state in live_view.TROUBLE:
        live_view.still_camera(camera_state)
    else:
        with c_freeze:
            live_view.freeze_button()
        live_view.freeze_note()
if lm.preprocess_spec.channels == 1:
    st.caption(
        _("A digit model: hold a dark digit on white paper in the middle of the picture; it is read grey, inverted.")
    )

with st.expander(_("What am I looking at?")):
    st.markdown(
        _("""
Every fraction of a second your browser sends the camera's picture, made small, to the server; the
network answers with its five most probable classes, the **strongest channels** of the layer you chose
(the same tiles and colours as on the Network page: bright where the channel responds), and
**Grad-CAM**: where it found evidence for the top class, or for the class you pinned.

Move the object, turn it, cover half of it: watch which channels and which places change the answer.
**Freeze** keeps the current frame as the sidebar's image, so every other page looks at it.

The server sets the pace: when the class is busy, each live view gets fewer frames per second.
No frame is kept unless you freeze it.
""")
    )
