"""The caps on files Streamlit's upload manager holds (cnnviz/ui/upload_limits.py), on a
real MemoryUploadedFileManager; the same over the protocol: tests/browser/test_upload_limits_browser.py."""

from __future__ import annotations

import pytest
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from cnnviz.training import class_folders
from cnnviz.ui import compat, upload_limits, upload_names
from cnnviz.ui.upload_limits import victims

MB = 1 << 20


@pytest.fixture(autouse=True)
def _policies(monkeypatch):
    """What upload_limits.install() and upload_names.install() put on the runtime's manager."""
    monkeypatch.setattr(compat.PolicedUploads, "policy", staticmethod(upload_limits.policy))
    monkeypatch.setattr(compat.PolicedUploads, "clean_name", staticmethod(upload_names.clean))


def _mgr() -> MemoryUploadedFileManager:
    mgr = MemoryUploadedFileManager("/_stcore/upload_file")
    assert all(hasattr(mgr, a) for a in compat.UPLOAD_INTERNALS)  # else install() stays off
    mgr.__class__ = compat.PolicedUploads  # what install() does to the runtime's own
    return mgr


def _add(mgr, sid: str, fid: str, n: int) -> None:
    mgr.add_file(sid, UploadedFileRec(file_id=fid, name=fid, type="application/octet-stream", data=b"x" * n))


def _held(mgr) -> dict[str, list[str]]:
    return {sid: list(files) for sid, files in mgr.file_storage.items() if files}


def test_a_session_keeps_its_newest_files_within_its_cap(monkeypatch):
    monkeypatch.setenv("CNNVIZ_UPLOAD_SESSION_MB", "10")
    monkeypatch.setenv("CNNVIZ_UPLOAD_TOTAL_MB", "1000")
    mgr = _mgr()
    for i in range(7):
        _add(mgr, "a", f"f{i}", 4 * MB)
    # 7 × 4 MB put; a 10 MB cap keeps the newest two (8 MB): the third would make 12
    assert _held(mgr) == {"a": ["f5", "f6"]}
    assert sum(len(r.data) for r in mgr.file_storage["a"].values()) == 8 * MB
    # Streamlit's own byte count (its metrics) agrees with what is left
    assert mgr.get_stats()["cache_memory_bytes"][0].byte_length == 8 * MB
    assert upload_limits.held_bytes() is None  # no runtime in a unit test


def test_the_process_cap_drops_from_the_biggest_holder_first(monkeypatch):
    monkeypatch.setenv("CNNVIZ_UPLOAD_SESSION_MB", "30")
    monkeypatch.setenv("CNNVIZ_UPLOAD_TOTAL_MB", "20")
    mgr = _mgr()
    _add(mgr, "student", "photo", 2 * MB)
    for i in range(5):
        _add(mgr, "flood", f"f{i}", 4 * MB)
    # 2 + 20 MB > 20: the flooder's oldest goes, the classmate's older photo stays
    assert _held(mgr) == {"student": ["photo"], "flood": ["f1", "f2", "f3", "f4"]}
    _add(mgr, "student", "photo2", 4 * MB)  # now 22 MB again: still the flooder pays
    assert _held(mgr) == {"student": ["photo", "photo2"], "flood": ["f2", "f3", "f4"]}


def test_the_file_just_added_always_lands(monkeypatch):
    monkeypatch.setenv("CNNVIZ_UPLOAD_SESSION_MB", "1")
    monkeypatch.setenv("CNNVIZ_UPLOAD_TOTAL_MB", "1")
    mgr = _mgr()
    _add(mgr, "a", "old", 3 * MB)
    _add(mgr, "b", "big", 3 * MB)  # over both caps alone: kept, everything else dropped
    assert _held(mgr) == {"b": ["big"]}
    # re-sending one file id replaces it (Streamlit's own rule), counted once
    _add(mgr, "b", "big", 3 * MB)
    assert _held(mgr) == {"b": ["big"]} and mgr._total_bytes == 3 * MB


def test_victims_by_hand():
    h = {"a": [("a1", 5), ("a2", 5), ("a3", 5)], "b": [("b1", 1), ("b2", 9)]}
    # Session cap 10: a (15) drops a1. Total 20 > 12: a and b hold 10 each (a is first in
    # the tie) → a2; 15: b (10) holds most → b1; 14: b (9) still, but b2 is the new file →
    # a3; 9 ≤ 12.
    assert victims(h, ("b", "b2"), session_cap=10, total_cap=12) == [
        ("a", "a1"),
        ("a", "a2"),
        ("b", "b1"),
        ("a", "a3"),
    ]
    assert victims(h, ("b", "b2"), session_cap=100, total_cap=100) == []


def test_defaults_fit_a_folder_dataset(monkeypatch):
    monkeypatch.delenv("CNNVIZ_UPLOAD_SESSION_MB", raising=False)
    monkeypatch.delenv("CNNVIZ_UPLOAD_TOTAL_MB", raising=False)
    from streamlit import config

    upload = config.get_option("server.maxUploadSize") * MB
    per_session, total = upload_limits.caps()
    assert (per_session, total) == (5 * upload, 10 * upload)
    # a folder upload the Train page accepts, plus one more file, is never cut short
    assert per_session >= class_folders.MAX_TOTAL_BYTES + upload


@pytest.mark.parametrize("value", ["0", "-3"])
def test_caps_are_at_least_one_megabyte(monkeypatch, value):
    monkeypatch.setenv("CNNVIZ_UPLOAD_SESSION_MB", value)
    assert upload_limits.caps()[0] == MB


def test_gone_spots_a_file_the_server_dropped():
    from streamlit.runtime.uploaded_file_manager import DeletedFile, UploadedFile, UploadedFileRec

    from cnnviz.ui import accept

    here = UploadedFile(UploadedFileRec("f1", "a.png", "image/png", b"123"), None)
    assert not accept.gone(None) and not accept.gone(here) and not accept.gone([here, here])
    assert accept.gone(DeletedFile("f1")) and accept.gone([here, DeletedFile("f2")])


def test_a_nul_in_a_file_name_is_cleaned_on_arrival():
    mgr = _mgr()
    mgr.add_file("a", UploadedFileRec(file_id="f", name="cat\0.png", type="image/png", data=b"x"))
    assert mgr.file_storage["a"]["f"].name == "cat_.png"
