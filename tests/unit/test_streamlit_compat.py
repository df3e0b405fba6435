"""The private parts of Streamlit that cnnviz.ui.compat leans on are where it expects them in
the pinned version: an upgrade that moves one fails here, by name, before a class finds out
(pushed steps would fall back to polling, pictures to inline data, a fresh server to its
pages-folder list)."""

from __future__ import annotations

import inspect
from pathlib import Path

import streamlit
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import RerunData

from cnnviz.ui import compat


def test_the_pinned_streamlit():
    pinned = next(
        line.split("==")[1].split()[0]
        for line in (Path(__file__).parents[2] / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.startswith("streamlit==")
    )
    assert streamlit.__version__ == pinned


def test_a_session_can_be_rerun_from_another_thread():
    for name in compat._NEEDED:
        assert callable(getattr(AppSession, name, None)), name
    init = inspect.getsource(AppSession.__init__)
    for attribute in ("self._client_state", "self._scriptrunner", "self._pages_manager", "self._state"):
        assert attribute in init, attribute
    assert AppSessionState.SHUTDOWN_REQUESTED
    assert {"query_string", "page_script_hash"} <= set(inspect.signature(RerunData).parameters)
    assert "_session_mgr" in inspect.getsource(Runtime.__init__)


def test_pages_are_found_by_their_script_path():
    assert "script_path" in inspect.getsource(PagesManager) or "script_path" in inspect.getsource(
        inspect.getmodule(PagesManager)
    )
    assert {"main_script_parent", "get_pages"} <= set(dir(PagesManager))


def test_the_pages_folder_switch():
    before = PagesManager.uses_pages_directory
    try:
        compat.navigation_only()
        assert PagesManager.uses_pages_directory is False
    finally:
        PagesManager.uses_pages_directory = before


def test_media_files_are_added_by_content_and_place():
    params = inspect.signature(MediaFileManager.add).parameters
    assert list(params)[1:4] == ["path_or_data", "mimetype", "coordinates"]
    assert "media_file_mgr" in inspect.getsource(Runtime.__init__)
    assert compat.media_url(b"png", "image/png", "here") is None  # no server in this process


def test_the_upload_manager_parts():
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import DeletedFile, UploadedFileRec

    mgr = MemoryUploadedFileManager("/_stcore/upload_file")
    for name in compat.UPLOAD_INTERNALS:
        assert hasattr(mgr, name), name
    assert callable(getattr(mgr, "remove_file", None))
    assert "_replace" in dir(UploadedFileRec) and "name" in UploadedFileRec._fields
    assert compat.is_dropped_file(DeletedFile("f")) and not compat.is_dropped_file(None)
    assert "uploaded_file_mgr" in inspect.getsource(Runtime.__init__)


def test_the_run_context_parts():
    from streamlit.runtime.scriptrunner import ScriptRunContext

    fields = set(inspect.signature(ScriptRunContext).parameters)
    assert {"session_id", "pages_manager", "session_state"} <= fields
    assert "fragment_ids_this_run" in fields
    assert "main_script_path" in dir(PagesManager)
    assert callable(getattr(Runtime, "is_active_session", None))
    assert compat.run_context() is None and compat.session_id() is None  # outside a run
    assert compat.server_running() is False and compat.connection_check("x") is None


def test_nothing_else_reaches_into_streamlit():
    """Only cnnviz/ui/compat.py imports streamlit's runtime (or web, proto) modules."""
    import ast

    root = Path(__file__).resolve().parents[2]
    files = [root / "app.py", root / "asgi.py", *(root / "pages").glob("*.py"), *(root / "cnnviz").rglob("*.py")]
    private = ("streamlit.runtime", "streamlit.web", "streamlit.proto", "streamlit.elements")
    found = []
    for f in files:
        if f.name == "compat.py" and f.parent.name == "ui":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n.startswith(private) for n in names):
                found.append(f"{f.relative_to(root)}:{node.lineno}")
    assert not found, found
