"""CNN Explorer as served to a class: ``streamlit run asgi.py`` (``make run``, serve/, the test
and bench servers).

``app.py`` is the app; this file runs it in Streamlit's ASGI mode (``st.App``, which
``streamlit run`` recognises) to add the Live page's frame routes (``cnnviz/camera/live_http.py``),
``<base>/api/ready`` (200 once the warm start is done) and three middlewares: the owner
cookie, set by the server's reply with ``HttpOnly``, ``SameSite=Strict`` and, over HTTPS,
``Secure`` (``cnnviz/serving/owner_cookie.py``); the page's ``<html lang>`` in the reader's
language from the first byte (``cnnviz/serving/html_lang.py``); and the warm start's hold:
the server answers at once while a thread imports the app, uploads wait for it, and pages
show their first frame until then (``cnnviz/ui/warm_start.py``, ``cnnviz/ui/first_frame.py``).
Every option of ``.streamlit/config.toml`` and of the command line applies as with
``streamlit run app.py``.

Nothing here imports torch: the server listens before it is loaded.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from streamlit import config

from cnnviz.serving.html_lang import HtmlLang
from cnnviz.serving.owner_cookie import OwnerCookie
from cnnviz.ui import (
    first_frame,  # noqa: F401  (before the import thread starts: what app.py draws until it is done)
    warm_start,
)
from cnnviz.ui.compat import navigation_only

BASE = config.get_option("server.baseUrlPath")
ROOT_PATH = "/" + BASE.strip("/") if BASE.strip("/") else ""
LIVE_PREFIX = ROOT_PATH + "/api/live"  # live_http.routes' paths

navigation_only()  # a first visitor sees the app's own menu, never a list of pages/'s files
# torch, captum... beside the browser's start; then what the first visitors' pages compute first
warm_start.begin(Path(__file__).parent, then=warm_start.SERVER_WARMERS, after_server_start=True)


def _live_routes():
    # at the first frame, after the warm start imported it: it needs torch, which must not
    # hold up the server's start
    from cnnviz.camera import live_http

    return live_http.routes(BASE)


app = st.App(
    "app.py",
    lifespan=warm_start.serving,
    routes=[
        Mount(LIVE_PREFIX, app=warm_start.Deferred(_live_routes)),
        Route(ROOT_PATH + "/api/ready", warm_start.readiness),  # 200 once pages run at once, 503 before
    ],
    middleware=[Middleware(warm_start.HoldUntilWarm), Middleware(OwnerCookie), Middleware(HtmlLang)],
)
