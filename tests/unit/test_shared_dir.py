"""Issue 31: one shared folder roots every store; trainings in flight leave markers that a
lost process's classmates can read; a reconnecting tab from another process is recognised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnviz.lessons import db
from cnnviz.models import usermodels
from cnnviz.serving import diskcache, inflight, memguard, sharing, uploads
from cnnviz.serving.shared_dir import ROOT_ENV, STORES, store_path
from cnnviz.ui import replica

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_store_vars(monkeypatch):
    for name in (ROOT_ENV, *STORES):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_store_lives_under_the_shared_dir_unless_its_own_variable_says_otherwise(no_store_vars, tmp_path):
    mp = no_store_vars
    mp.setenv(ROOT_ENV, str(tmp_path))
    found = {
        "CNNVIZ_UPLOADS": uploads.uploads_dir(),
        "CNNVIZ_SHARED_IMAGES": sharing.default_store().folder,
        "CNNVIZ_USER_MODELS": usermodels.user_models_dir(),
        "CNNVIZ_DISK_CACHE": diskcache.cache_dir(),
        "CNNVIZ_CLASSES": db.default_path(),
        "CNNVIZ_TRAININGS": inflight.trainings_dir(),
    }
    assert set(found) == set(STORES)
    for env, path in found.items():
        assert Path(path) == tmp_path / STORES[env], env
    # a store's own variable still wins (existing deployments keep working)
    mp.setenv("CNNVIZ_UPLOADS", str(tmp_path / "elsewhere"))
    assert uploads.uploads_dir() == tmp_path / "elsewhere"
    mp.setenv("CNNVIZ_UPLOADS", "")  # set but empty: as unset
    assert uploads.uploads_dir() == tmp_path / "uploads"


def test_without_the_shared_dir_the_single_machine_defaults_stay(no_store_vars, tmp_path):
    no_store_vars.setenv("TMPDIR", str(tmp_path))
    import tempfile

    tempfile.tempdir = None  # read TMPDIR again
    try:
        assert store_path("CNNVIZ_UPLOADS") is None
        assert usermodels.user_models_dir() == Path("user_models")
        assert Path(tempfile.gettempdir()) == tmp_path
        assert uploads.uploads_dir() == tmp_path / "cnnviz_uploads"
        assert db.default_path() == tmp_path / "cnnviz_classes" / "classes.sqlite3"
    finally:
        tempfile.tempdir = None


def test_a_marker_lives_while_its_training_runs_and_is_gone_after(no_store_vars, tmp_path):
    no_store_vars.setenv("CNNVIZ_TRAININGS", str(tmp_path))
    with inflight.running("ann", "tinyvgg on digits, 3 epochs") as path:
        meta = json.loads(path.read_text())
        assert meta["instance"] == inflight.INSTANCE and meta["pid"] == os.getpid()
        assert path.parent.name != "ann"  # the token never reaches the disk
        assert inflight.interrupted("ann") == []  # this process's own: running, not interrupted
    assert not path.exists()
    with pytest.raises(RuntimeError), inflight.running("ann", "x") as path:
        raise RuntimeError("the training failed")
    assert not path.exists()


def _marker_of_another_process(folder: Path, owner: str, *, pid: int, host: str, beat_age: float) -> Path:
    from cnnviz.serving import shares

    path = folder / shares.owner_key(owner) / "other.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"what": "lenet on <b>shapes</b>", "started": time.time() - 300, "instance": "0" * 16}
    path.write_text(json.dumps({**meta, "host": host, "pid": pid}))
    t = time.time() - beat_age
    os.utime(path, (t, t))
    return path


def test_a_marker_left_by_a_dead_process_is_interrupted_for_its_owner_only(no_store_vars, tmp_path):
    no_store_vars.setenv("CNNVIZ_TRAININGS", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended
    path = _marker_of_another_process(tmp_path, "ann", pid=pid, host=inflight.HOST, beat_age=1)
    assert inflight.interrupted("bob") == []
    (m,) = inflight.interrupted("ann")
    assert m.what == "lenet on <b>shapes</b>" and m.path == path
    text = replica.interrupted_text(m, now=m.started + 300)
    assert "5 min ago" in text and "<b>" not in text and "\\<b\\>" in text  # data shown as text
    inflight.dismiss(m)
    assert inflight.interrupted("ann") == []


def test_a_live_process_elsewhere_is_not_interrupted_until_its_heartbeat_is_stale(no_store_vars, tmp_path):
    no_store_vars.setenv("CNNVIZ_TRAININGS", str(tmp_path))
    # another pod: its pid means nothing here; only the heartbeat's age counts
    _marker_of_another_process(tmp_path, "ann", pid=1, host="pod-b", beat_age=inflight.STALE_S / 2)
    assert inflight.interrupted("ann") == []
    _marker_of_another_process(tmp_path, "ann", pid=1, host="pod-b", beat_age=inflight.STALE_S + 1)
    assert len(inflight.interrupted("ann")) == 1
    # this host, a pid that runs (this very process) and a fresh beat: alive
    _marker_of_another_process(tmp_path, "cat", pid=os.getpid(), host=inflight.HOST, beat_age=1)
    assert inflight.interrupted("cat") == []


def test_the_heartbeat_renews_this_process_markers(no_store_vars, tmp_path, monkeypatch):
    no_store_vars.setenv("CNNVIZ_TRAININGS", str(tmp_path))
    monkeypatch.setattr(inflight, "HEARTBEAT_S", 0.05)
    with inflight.running("ann", "x") as path:
        os.utime(path, (0, 0))
        deadline = time.time() + 10
        while path.stat().st_mtime == 0 and time.time() < deadline:
            time.sleep(0.02)
        assert time.time() - path.stat().st_mtime < 5


def test_a_new_session_naming_a_session_this_process_never_started_came_from_elsewhere():
    assert replica.resumed_session(None) is None
    assert replica.resumed_session("streamlit, xsrf") is None  # a page load
    assert replica.resumed_session("streamlit, , abc-1") == "abc-1"  # positions kept, as Streamlit parses
    assert replica.came_from_elsewhere("s1", None) is False
    assert replica.came_from_elsewhere("s2", "s1") is False  # s1 was started here (an expired session)
    assert replica.came_from_elsewhere("s3", "gone-elsewhere") is True
    assert replica.came_from_elsewhere("s4", "s4") is False


def test_the_memory_budget_defaults_to_the_containers_limit(tmp_path, monkeypatch):
    assert memguard.container_limit(tmp_path) is None
    (tmp_path / "memory.max").write_text("max\n")  # cgroup v2 without a limit
    assert memguard.container_limit(tmp_path) is None
    (tmp_path / "memory.max").write_text(f"{2 << 30}\n")
    assert memguard.container_limit(tmp_path) == 2 << 30
    monkeypatch.delenv("CNNVIZ_MEMORY_BUDGET_MB", raising=False)
    monkeypatch.setattr(memguard, "container_limit", lambda: 2 << 30)
    assert memguard.budget_bytes() == int(0.85 * (2 << 30))
