"""Any timm CNN by name, under the sidebar's model picker (``timm:NAME``: cnnviz/models/timm_zoo.py)."""

from __future__ import annotations

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.i18n import _
from cnnviz.models.loaded_model import ModelInfo
from cnnviz.models.timm_names import PREFIX, is_timm_name
from cnnviz.models.timm_zoo import SUGGESTED
from cnnviz.models.zoo import get_info
from cnnviz.ui import state


def current() -> ModelInfo | None:
    """The session's model when it is a timm one timm knows (it then joins the picker's
    options), else None; a name that no longer resolves goes back to the default model."""
    name = st.session_state.get(state.MODEL)
    if not isinstance(name, str) or not is_timm_name(name):
        return None
    try:
        return get_info(name)
    except CnnvizError as e:  # a link's unknown name or a transformer: say why, then the default
        st.session_state[state.TIMM_ERROR] = str(e)
        st.session_state[state.MODEL] = state.DEFAULT_MODEL
        return None


def _chosen() -> None:
    raw = str(st.session_state.get(state.TIMM_NAME) or "").strip().lower()
    st.session_state[state.TIMM_ERROR] = None
    if not raw:
        return
    name = raw if raw.startswith(PREFIX) else PREFIX + raw
    try:
        info = get_info(name)
    except CnnvizError as e:
        st.session_state[state.TIMM_ERROR] = str(e)
        return
    st.session_state[state.MODEL] = name
    if not info.available():  # offline: random weights (marked as such on every page) until a download
        st.session_state[state.WEIGHTS] = state.WEIGHTS_RANDOM


def name_box() -> None:
    """The expander with the name field (open while the session explores a timm model)."""
    with st.expander(_("Any timm CNN, by name"), expanded=is_timm_name(str(st.session_state.get(state.MODEL)))):
        st.text_input(
            _("timm model"),
            key=state.TIMM_NAME,
            placeholder="convnext_tiny",  # i18n: not UI (a model name)
            on_change=_chosen,
            help=_(
                "A CNN from the timm library (PyTorch Image Models), built by name. Its trained weights "
                "download once when the server is online; offline it has random weights."
            ),
        )
        st.caption(
            _("For example: {names}. Vision transformers are not CNNs and are refused.").format(
                names=", ".join(SUGGESTED)
            )
        )
        if err := st.session_state.get(state.TIMM_ERROR):
            st.error(err)
