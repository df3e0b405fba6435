"""Every session-state key in one place, and the one ``init_state()``.

Session state holds choices, bytes and numpy arrays — never tensors or models (those are
shared through ``st.cache_resource``).
"""

import streamlit as st

# sidebar choices (widget keys: kept across page switches because app.py renders them)
MODEL = "model_name"
WEIGHTS = "weights_choice"
IMAGE_SOURCE = "image_source"
GALLERY = "gallery_choice"
UPLOAD = "image_upload"
CAMERA = "camera_photo"

# the image every page works on, copied out of the widgets (an uploader forgets its file
# when it is not rendered)
IMAGE_BYTES = "image_bytes"
IMAGE_NAME = "image_name"

WEIGHTS_PRETRAINED = "pretrained"
WEIGHTS_RANDOM = "random"

SOURCE_GALLERY = "Gallery"
SOURCE_UPLOAD = "Upload"
SOURCE_CAMERA = "Camera"

DEFAULT_MODEL = "efficientnet_lite0"

_DEFAULTS = {
    MODEL: DEFAULT_MODEL,
    WEIGHTS: WEIGHTS_PRETRAINED,
    IMAGE_SOURCE: SOURCE_GALLERY,
    GALLERY: "grace_hopper",
    IMAGE_BYTES: None,
    IMAGE_NAME: None,
}

# widget keys re-assigned at the top of every run (see init_state)
_WIDGET_KEYS = (MODEL, WEIGHTS, IMAGE_SOURCE, GALLERY)


def init_state() -> None:
    """Fill in defaults once per session and pin widget values across page switches.

    Re-assigning a widget's own key keeps its value when a page switch (or the first
    change after a server start) would otherwise read a stale default.
    """
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value
    for key in _WIDGET_KEYS:
        st.session_state[key] = st.session_state[key]
