"""The Train page's camera: name a class, take photos of it, then the next class.

The photos live in session state (small JPEGs, :mod:`cnnviz.training.shots`); the Train page
reads them like a folder of class sub-folders once every class has enough.
"""

from __future__ import annotations

import streamlit as st

from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, ngettext
from cnnviz.training import shots
from cnnviz.ui import accept, state


def _on_shot() -> None:
    """A new camera photo: add it to the class named beside the camera (errors shown on the next run)."""
    photo = st.session_state.get(state.TRAIN_CAMERA)
    if photo is None or accept.gone(photo):
        return
    try:
        st.session_state[state.TRAIN_SHOTS] = shots.add_shot(
            st.session_state.get(state.TRAIN_SHOTS) or {},
            st.session_state.get(state.TRAIN_SHOT_CLASS, ""),
            photo.getvalue(),
        )
        st.session_state[state.TRAIN_SHOT_ERROR] = None
    except CnnvizError as e:
        st.session_state[state.TRAIN_SHOT_ERROR] = str(e)


def _on_clear_shots() -> None:
    st.session_state[state.TRAIN_SHOTS] = {}


def shot_files() -> list[tuple[str, bytes]] | None:
    """Teachable Machine's idea: name a class, take a few photos of it, then the next class.

    Returns:
        The photos as (``class/shot_N.jpg``, bytes) pairs once every class has enough of
        them (the Train page reads them like a folder upload), else None.
    """
    left, right = st.columns([1, 1])
    with left:
        st.text_input(
            _("Class name"), key=state.TRAIN_SHOT_CLASS, placeholder=_("e.g. thumbs up"), max_chars=shots.MAX_NAME
        )
        st.camera_input(_("Each photo joins the class named above"), key=state.TRAIN_CAMERA, on_change=_on_shot)
    taken = st.session_state.get(state.TRAIN_SHOTS) or {}
    with right:
        if st.session_state.get(state.TRAIN_SHOT_ERROR):
            st.error(st.session_state[state.TRAIN_SHOT_ERROR])
        for name, photos in taken.items():
            n = len(photos)
            st.text(ngettext("{name}: {n} photo", "{name}: {n} photos", n).format(name=name, n=n))
            st.image([p for p in photos[-6:]], width=56, alt=alt_lessons.shots(name, len(photos[-6:])))
        if taken:
            st.button(_("Start again (forget every photo)"), key=state.TRAIN_SHOTS_CLEAR, on_click=_on_clear_shots)
    todo = shots.missing(taken)
    if todo:
        st.info(todo)
        return None
    return shots.as_files(taken)
