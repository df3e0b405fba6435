"""Streamlit's private parts the app leans on, in one place: pushing a class's steps, and the
media endpoint's addresses for the app's own components, and pages served only through
``st.navigation``.

Streamlit has no public way for another thread to rerun a session (``st.rerun`` reruns the
session whose script calls it). A class's watcher (``cnnviz.ui.lesson_push``) must rerun
exactly the follower sessions whose class moved, so it goes through the runtime's session
manager and the session's own event loop, as Streamlit's file watcher does for "run on
save". Checked on Streamlit 1.67.0 (``AppSession._client_state``, ``_scriptrunner``,
``_create_scriptrunner``, ``_event_loop``, ``_state``, ``_pages_manager``;
``Runtime._session_mgr``). When any of them is missing, :func:`can_rerun` says so and
followers poll instead (without ``_pages_manager``, a pushed follower switches pages itself).
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

from streamlit import config, runtime
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import RerunData, get_script_run_ctx


def navigation_only() -> None:
    """Serve pages only through app.py's ``st.navigation``, from the server's start.

    Streamlit decides per process whether ``pages/`` is a pages folder of its own (its first
    app session sees the folder) and keeps doing so until a run calls ``st.navigation``: a
    fresh server's first visitors got Streamlit's raw list of the files in pages/ and their
    links until the first run had imported the app and reached ``st.navigation``. Called by
    asgi.py before any session exists. (AppTest sets the flag again before each of its runs:
    ``links.page`` covers that case.)
    """
    PagesManager.uses_pages_directory = False


_NEEDED = ("_create_scriptrunner", "_call_soon_on_event_loop")


def session_id() -> str | None:
    """The id of the session whose script runs in this thread (None outside a run)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def can_rerun() -> bool:
    """Whether :func:`rerun_session` works with this Streamlit (its private parts are there)."""
    return (
        Runtime.exists()
        and hasattr(Runtime.instance(), "_session_mgr")
        and all(hasattr(AppSession, n) for n in _NEEDED)
    )


def _page_hash(session: AppSession, page_file: str) -> str | None:
    """The script hash under which ``session``'s navigation registered ``page_file``
    (relative to the app's folder), or None."""
    pm = getattr(session, "_pages_manager", None)
    if pm is None:
        return None
    want = str((pm.main_script_parent / page_file).resolve())
    return next((h for h, info in pm.get_pages().items() if info.get("script_path") == want), None)


def _rerun_on_loop(session: AppSession, page_file: str | None, query: dict[str, str] | None) -> None:
    """On the session's event loop: a whole run of its page (or of ``page_file`` with
    ``query``: what ``st.switch_page`` asks, without a run of the old page first), with its
    widgets as they are (``widget_states`` None, as ``st.rerun``: none reset, no callback)."""
    if session._state == AppSessionState.SHUTDOWN_REQUESTED:
        return
    last = session._client_state
    data = RerunData(query_string=last.query_string, page_script_hash=last.page_script_hash)
    page_hash = _page_hash(session, page_file) if page_file is not None else None
    if page_hash is not None:
        data = RerunData(query_string=urlencode(query or {}), page_script_hash=page_hash)
    runner = session._scriptrunner
    if runner is None or not runner.request_rerun(data):  # none running, or one shutting down
        session._create_scriptrunner(data)


def rerun_session(sid: str, page_file: str | None = None, query: dict[str, str] | None = None) -> bool:
    """Ask session ``sid`` of this process to run its page again, from any thread.

    Args:
        sid: the session's id (:func:`session_id` in its runs).
        page_file: run this page (``"pages/features.py"``) instead, with ``query`` as its
            query parameters; a page its navigation lacks: its own page again.

    Returns:
        False when it is gone (closed tab) or this Streamlit lacks the private parts.
    """
    if not can_rerun():
        return False
    with contextlib.suppress(AttributeError, RuntimeError):  # a version without them; a closed loop
        info = Runtime.instance()._session_mgr.get_active_session_info(sid)
        if info is None:
            return False
        session = info.session
        session._call_soon_on_event_loop(lambda: _rerun_on_loop(session, page_file, query))
        return True
    return False


def media_url(data: bytes, mimetype: str, coordinates: str) -> str | None:
    """The address under which Streamlit's media endpoint serves ``data`` to this session (as
    it serves ``st.image``'s pictures: named by content, kept while a run of the session shows
    it), or None where there is no such endpoint (a test's run without a server).

    A component given a picture's address instead of its bytes sends a few dozen bytes on each
    run, and the browser fetches each picture once (its cache keeps it by address).

    Args:
        data: the file's bytes; mimetype: its type ("image/png").
        coordinates: a name unique to its place on the page (the component's key).
    """
    if not runtime.exists():
        return None
    try:
        url = runtime.get_instance().media_file_mgr.add(data, mimetype, coordinates)
    except (AttributeError, RuntimeError):  # no session context (a thread of our own)
        return None
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{url}" if base else url
