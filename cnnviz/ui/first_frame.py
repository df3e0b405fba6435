"""A fresh server's first page, drawn while torch is still being imported.

A cold server imports torch, torchvision, captum... in a thread (``cnnviz.ui.warm_start``):
seconds of CPU before any page of the app can run. Until they are done, a run draws this
instead of its page: the app's own menu, the page's name and a line saying the network is
loading; on Predict's own view (no link parameters but the language) also its heading and the default photo,
where the prediction will be. When the imports are done, each session that saw it runs its
page again by itself (the same page and query, as the browser last asked).

Nothing here imports torch, and asgi.py imports this module before the import thread starts:
a run never imports a module that thread is half-way through (see ``warm_start``).
"""

from __future__ import annotations

import io
import threading

import streamlit as st
from PIL import Image

from cnnviz.a11y import alt_text
from cnnviz.i18n import N_, _
from cnnviz.inputs import gallery
from cnnviz.ui import compat, language, menu, menu_semantics, state, theme, warm_start

LOADING = N_(
    "CNN Explorer has just started and is loading its networks: this page fills in by itself in a few seconds."
)

_lock = threading.Lock()
_waiting: set[str] = set()  # sessions shown the first frame, run again at READY


def until_warm() -> None:
    """Draw the first frame and end the run while the warm start's imports are under way; return
    at once otherwise (a warm server, AppTest, ``streamlit run app.py``: no warm start)."""
    if not warm_start.pending():
        return
    with warm_start.visitor_turn():  # the imports give way to it
        theme.apply()
        language.begin()
        nav = st.navigation(menu.pages(), position="top")
        if nav.url_path == "" and set(st.query_params) <= {"lang"}:  # no link's model, image...
            _home()
        else:
            st.title(nav.title)
            st.info(_(LOADING), icon=":material/hourglass_top:")
        menu_semantics.repair()
    sid = compat.session_id()
    with _lock:
        late = warm_start.READY.is_set()
        if not late and sid is not None:
            _waiting.add(sid)
    if late:  # the imports ended while this was drawn
        st.rerun()
    st.stop()


def _home() -> None:
    """Predict's default view as far as it goes without the network: its heading and photo."""
    st.title(_(menu.HOME_TITLE))
    st.caption(_(menu.HOME_CAPTION))
    left, right = st.columns([1, 1.25], gap="large")
    sample = gallery.SAMPLES[state.DEFAULT_GALLERY]
    data = sample.loader()
    with Image.open(io.BytesIO(data)) as img:  # the header only: its size for the alt text
        size = img.size
    left.image(
        data,
        caption=_("Your image ({width}×{height})").format(width=size[0], height=size[1]),  # as the page's
        width="stretch",
        alt=alt_text.photo(_(sample.title), size),
    )
    right.info(_(LOADING), icon=":material/hourglass_top:")


def _rerun_waiting() -> None:
    """At READY (in the import thread): every session shown the first frame runs its page."""
    with _lock:
        waiting = list(_waiting)
        _waiting.clear()
    for sid in waiting:
        compat.rerun_session(sid)


warm_start.when_ready(_rerun_waiting)
