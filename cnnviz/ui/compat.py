"""Streamlit's private parts the app leans on, in one place: nothing else in the app imports
``streamlit.runtime`` or reads a Streamlit object's private attributes (a test checks it, and
tests/unit/test_streamlit_compat.py checks each part against the pinned Streamlit).

- the script run's context and the server's sessions: whose run this is, whether a tab is
  still connected;
- the upload manager: its placeholders for dropped files, dropping files, the bytes it
  holds, a policy run after each file it receives (the caps, clean names);
- pushing a class's steps: rerunning another session from any thread;
- the media endpoint's addresses for the app's own components;
- pages served only through ``st.navigation``;
- ``streamlit run`` started in a process of the app's own (the prefork launcher's children).

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
import functools
import json
from collections.abc import Callable
from urllib.parse import urlencode

from streamlit import config, runtime
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import RerunData, ScriptRunContext, get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import DeletedFile, UploadedFileRec

from cnnviz.kept import KeptBytes, digest

Holdings = dict[str, list[tuple[str, int]]]  # session id -> [(file id, bytes)], oldest first
# policy(bytes held in all, holdings (computed only when called), (session id, new file id))
# -> the (session id, file id) pairs to drop
UploadPolicy = Callable[[int, Callable[[], Holdings], tuple[str, str]], list[tuple[str, str]]]


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


def run_context() -> ScriptRunContext | None:
    """The context of the script run in this thread (None outside a run: a worker thread, a
    unit test). Pages keep per-run values on it (the reader's language)."""
    return get_script_run_ctx(suppress_warning=True)


def session_id() -> str | None:
    """The id of the session whose script runs in this thread (None outside a run)."""
    ctx = run_context()
    return ctx.session_id if ctx is not None else None


def fragment_run() -> bool:
    """Whether this run is a fragment's own rerun (app.py does not run around it)."""
    ctx = run_context()
    return ctx is not None and bool(ctx.fragment_ids_this_run)


def main_script_path() -> str | None:
    """The app's main script (app.py) of this run, or None outside a run."""
    ctx = run_context()
    return ctx.pages_manager.main_script_path if ctx is not None else None


def server_running() -> bool:
    """Whether a Streamlit server runs in this process (False under AppTest and unit tests)."""
    return Runtime.exists()


def _connected(rt: Runtime, sid: str) -> bool:
    return rt.is_active_session(sid)


def session_connected(sid: str) -> bool:
    """Whether session ``sid``'s websocket is open now (False without a server)."""
    return Runtime.exists() and _connected(Runtime.instance(), sid)


def connection_check(sid: str) -> Callable[[], bool] | None:
    """A callable, safe on any thread, saying whether session ``sid``'s websocket is still open
    (a closed tab leaves the runtime's active sessions at once); None without a server."""
    if not Runtime.exists():
        return None
    return functools.partial(_connected, Runtime.instance(), sid)


def is_dropped_file(value) -> bool:
    """Whether an uploader's session-state value is Streamlit's placeholder for a file the
    server no longer holds (dropped by the caps, or deleted by a client)."""
    return isinstance(value, DeletedFile)


def drop_uploads(sid: str, file_ids: list[str]) -> None:
    """Remove files of session ``sid`` from the runtime's upload manager (no-op without one)."""
    if Runtime.exists():
        mgr = Runtime.instance().uploaded_file_mgr
        for fid in file_ids:
            mgr.remove_file(sid, fid)


def _holdings(mgr: MemoryUploadedFileManager) -> Holdings:
    with mgr._lock:
        return {sid: [(fid, len(rec.data)) for fid, rec in files.items()] for sid, files in mgr.file_storage.items()}


def uploads_held_bytes() -> int | None:
    """Bytes of uploaded files the runtime holds now (None outside a running server)."""
    if not Runtime.exists():
        return None
    mgr = Runtime.instance().uploaded_file_mgr
    if not isinstance(mgr, MemoryUploadedFileManager):
        return None
    return sum(n for files in _holdings(mgr).values() for _, n in files)


# What the policed manager reads of Streamlit 1.67's in-memory manager.
UPLOAD_INTERNALS = ("_lock", "file_storage", "_total_bytes")


class PolicedUploads(MemoryUploadedFileManager):
    """Streamlit's in-memory upload manager that cleans each file's name, then runs
    :attr:`policy` after each add and drops the files it names.

    Installed by swapping the class of the runtime's own instance: the upload route and
    every session already hold a reference to that object, so it cannot be replaced."""

    policy: UploadPolicy | None = None
    clean_name: Callable[[str], str] | None = None

    def add_file(self, session_id: str, file: UploadedFileRec) -> None:
        clean = type(self).clean_name
        if clean is not None and clean(file.name) != file.name:
            file = file._replace(name=clean(file.name))
        super().add_file(session_id, file)
        policy = type(self).policy
        if policy is None:
            return
        with self._lock:
            total = self._total_bytes
        for sid, fid in policy(total, functools.partial(_holdings, self), (session_id, file.file_id)):
            self.remove_file(sid, fid)


def police_uploads(*, policy: UploadPolicy | None = None, clean_name: Callable[[str], str] | None = None) -> bool:
    """Put ``policy`` (and/or ``clean_name``) on the running server's upload manager; True
    once it is on. A no-op under AppTest (no runtime), with another manager type, or with a
    Streamlit whose internals moved."""
    if not Runtime.exists():
        return False
    mgr = Runtime.instance().uploaded_file_mgr
    if not isinstance(mgr, PolicedUploads):
        if type(mgr) is not MemoryUploadedFileManager or not all(hasattr(mgr, a) for a in UPLOAD_INTERNALS):
            return False
        mgr.__class__ = PolicedUploads
    if policy is not None:
        PolicedUploads.policy = staticmethod(policy)
    if clean_name is not None:
        PolicedUploads.clean_name = staticmethod(clean_name)
    return True


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


def streamlit_command(args: list[str]) -> None:
    """Streamlit's own command line in this process, ``streamlit ARGS`` (``run asgi.py ...``):
    the prefork launcher's children serve the app this way, without a new interpreter.
    Imported by the launcher before it forks (:func:`preload_command`). Raises SystemExit
    with the command's exit code, as click's main does."""
    from streamlit.web import cli

    cli.main(args, prog_name="streamlit")


def preload_command() -> None:
    """Import what :func:`streamlit_command` runs: Streamlit's server, shared by a launcher's children."""
    import streamlit.web.cli  # noqa: F401


_resized = KeptBytes(32 << 20)  # pictures Streamlit shrank for an element's width, by content
_chart_data = KeptBytes(8 << 20)  # charts' data as Arrow bytes


def remember_resized_pictures() -> bool:
    """Once per process: a picture that Streamlit shrinks to an element's pixel width (``st.image(...,
    width=300)``) is shrunk once per content, not on every run.

    Streamlit decodes every picture given a width smaller than its own, resizes and re-encodes
    it (``image_utils._ensure_image_size_and_format``) on each run that draws it. The result
    depends only on the bytes, the width and the format, so it is kept by those.

    Returns:
        False where this Streamlit has no such function (nothing is changed).
    """
    from streamlit.elements.lib import image_utils

    original = getattr(image_utils, "_ensure_image_size_and_format", None)
    if original is None:
        return False
    if getattr(original, "_remembered", False):
        return True

    @functools.wraps(original)
    def ensure(image_data: bytes, layout_config: object, image_format: str) -> bytes:
        key = digest(image_data) + f" {getattr(layout_config, 'width', None)!r} {image_format}".encode()
        if (found := _resized.get(key)) is not None:
            return found
        out = original(image_data, layout_config, image_format)
        if out is not image_data:  # shrunk or re-encoded: worth keeping
            _resized.put(key, out)
        return out

    ensure._remembered = True  # type: ignore[attr-defined]
    image_utils._ensure_image_size_and_format = ensure
    return True


def remember_chart_data() -> bool:
    """Once per process: a chart's data (a Vega-Lite spec's ``values``, a list) is converted to
    Arrow once per content, not on every run.

    Streamlit turns a spec's inline values into a pandas DataFrame and then Arrow bytes
    (``dataframe_util.convert_anything_to_arrow_bytes``) each time the chart is drawn. Lists
    are kept by their JSON text; any other data is converted as before.

    Returns:
        False where this Streamlit has no such function (nothing is changed).
    """
    from streamlit import dataframe_util

    original = getattr(dataframe_util, "convert_anything_to_arrow_bytes", None)
    if original is None:
        return False
    if getattr(original, "_remembered", False):
        return True

    @functools.wraps(original)
    def convert(data: object, *args: object, **kwargs: object) -> bytes:
        if not isinstance(data, list) or args or kwargs:
            return original(data, *args, **kwargs)
        try:
            key = digest(json.dumps(data, separators=(",", ":")).encode())
        except (TypeError, ValueError):  # not plain JSON (numpy numbers...): as before
            return original(data)
        if (found := _chart_data.get(key)) is None:
            found = original(data)
            _chart_data.put(key, found)
        return found

    convert._remembered = True  # type: ignore[attr-defined]
    dataframe_util.convert_anything_to_arrow_bytes = convert
    return True
