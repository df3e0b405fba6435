"""CNN Explorer as served to a class: ``streamlit run asgi.py`` (``make run``, serve/, the test
and bench servers).

``app.py`` is the app; this file runs it in Streamlit's ASGI mode (``st.App``, which
``streamlit run`` recognises) to add the Live page's frame routes (``cnnviz/camera/live_http.py``)
and one middleware: the owner cookie, set by the server's
reply with ``HttpOnly``, ``SameSite=Strict`` and, over HTTPS, ``Secure``
(``cnnviz/serving/owner_cookie.py``). Every option of ``.streamlit/config.toml`` and of the command
line applies as with ``streamlit run app.py``.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

from cnnviz.camera import live_http
from cnnviz.serving.owner_cookie import OwnerCookie
from cnnviz.ui.compat import navigation_only
from cnnviz.ui.process import preload_at_start

navigation_only()  # a first visitor sees the app's own menu, never a list of pages/'s files
preload_at_start(Path(__file__).parent)  # torch, captum... before a student waits for them

app = st.App(
    "app.py",
    routes=live_http.routes(config.get_option("server.baseUrlPath")),
    middleware=[Middleware(OwnerCookie)],
)
