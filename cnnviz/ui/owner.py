"""Who this browser is: a random owner token kept in a cookie across reloads.

A model saved in the app belongs to the token that saved it (the sidecar keeps a digest
of it, cnnviz.models.usermodels.owner_id). The server sets the cookie (``HttpOnly``,
``SameSite=Strict``, ``Secure`` over HTTPS) on the app's websocket when the app runs as
``streamlit run asgi.py`` (``cnnviz/serving/owner_cookie.py``); Streamlit hands it to the session
in ``st.context.cookies``. Started as ``streamlit run app.py`` instead, nothing sets it:
then, as before that middleware, a script in the page does (readable by scripts, never
``Secure``), and the server's log says how to start the app.
Clearing cookies (or another browser) is a new owner: models saved before stay, owned by
the old token, and are visible only if they were shared.
"""

from __future__ import annotations

import logging
import os
import threading

import streamlit as st

from cnnviz.errors import ModelError
from cnnviz.i18n import N_, _
from cnnviz.models import usermodels
from cnnviz.models.loaded_model import ModelInfo
from cnnviz.models.timm_names import is_timm_name
from cnnviz.models.zoo import list_models
from cnnviz.serving import owner_cookie, student_key
from cnnviz.serving.owner_cookie import COOKIE, is_token, new_token
from cnnviz.training import results
from cnnviz.ui import state

_LOG = logging.getLogger(__name__)
_warned = threading.Event()
NOT_OPENABLE = N_("There is no model of that name that you can open here (it may be another browser's private model).")


def share_default() -> bool:
    """The teacher's default for "Share with the class" (env CNNVIZ_SHARE_MODELS=1; off)."""
    return os.environ.get("CNNVIZ_SHARE_MODELS", "0").strip().lower() in ("1", "true", "yes", "on")


def owner_token() -> str:
    """This browser's token: from session state, else its cookie, else a new one."""
    token = st.session_state.get(state.OWNER)
    if token:
        return token
    try:
        cookie = st.context.cookies.get(COOKIE)
        browser = cookie is None or isinstance(cookie, str)  # AppTest answers with a mock
    except Exception:  # no browser behind this session: a token per session
        cookie, browser = None, False
    if not is_token(cookie):
        cookie = None
    token = cookie or new_token()
    st.session_state[state.OWNER] = token
    if token != cookie and browser:
        _warn_script_cookie()
        # Run in the page itself (the token is 32 hex digits: nothing to escape). Not
        # components.html: deprecated, it logged a warning on every run of a cookieless client.
        st.html(
            f"<script>document.cookie = '{COOKIE}={token}; max-age=31536000; path=/; SameSite=Strict';</script>",
            unsafe_allow_javascript=True,
        )
    return token


def student() -> str:
    """Whom fairness counts this session as (the job queue, the page gate, the stores' shares):
    the key the server's middleware handed it (:mod:`cnnviz.serving.student_key`: the owner token, or
    the address of a client that keeps no cookies); else, with no middleware in this process
    (``streamlit run app.py``, AppTest), the owner token."""
    key = st.session_state.get(state.STUDENT)
    if key:
        return key
    value = None
    if owner_cookie.INSTALLED.is_set():  # else a client could name its own key in the header
        try:
            value = st.context.headers.get(student_key.HEADER.decode())
        except Exception:  # no browser behind this session
            value = None
    valid = isinstance(value, str) and (is_token(value) or value.startswith(student_key.ADDRESS))
    key = value if valid else owner_token()
    st.session_state[state.STUDENT] = key
    return key


def _warn_script_cookie() -> None:
    """Say once in the log that a websocket came without the owner cookie: only a server
    started without asgi.py's middleware lets that happen."""
    if not _warned.is_set():
        _warned.set()
        _LOG.warning(
            "The owner cookie is set by the page's script (not HttpOnly, never Secure): "
            "start the app with `streamlit run asgi.py` (make run) so the server sets it."
        )


def name_tag() -> str:
    """The random part of this session's default model names, drawn once per session."""
    if not st.session_state.get(state.NAME_TAG):
        st.session_state[state.NAME_TAG] = results.name_tag()
    return st.session_state[state.NAME_TAG]


def visible_models() -> list[ModelInfo]:
    """The models this browser may pick: every registry model, and of the saved ones its
    own, those shared with the class and those without an owner (command line, shipped)."""
    token = owner_token()
    return [i for i in list_models() if i.family != "user" or usermodels.visible_to(i.metadata, token)]


def openable() -> frozenset[str]:
    """Names of the models this browser may open (:func:`visible_models`).

    The same work whatever name is asked about: every sidecar is listed (from a cache of
    parsed versions), so an existing private name and an unknown one cost the same."""
    return frozenset(i.name for i in visible_models())


def check_openable(name: str) -> None:
    """The one check of whose model a session may open; every path that opens a model for a
    session goes through it (``loaders.cached_model``, before the cache is even asked).

    Raises ModelError, with the same sentence for another browser's private model and for a
    name nobody uses: nothing is loaded or read that depends on which it is."""
    if name not in openable() and not is_timm_name(name):  # timm's models are everyone's
        raise ModelError(_(NOT_OPENABLE))


def model_title(info: ModelInfo) -> str:
    """The picker's text: the title, and whose a saved model is."""
    if info.family != "user":
        return info.title
    if usermodels.owned_by(info.metadata, owner_token()):
        text = _("{title} (yours, shared)") if info.metadata.get("shared") else _("{title} (yours)")
    else:
        text = _("{title} (shared)") if info.metadata.get("owner") else _("{title} (saved)")
    return text.format(title=info.title)
