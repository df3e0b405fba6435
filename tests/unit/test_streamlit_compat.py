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
