"""serve/serve_lan.sh's app processes, forked from one launcher (cnnviz/ui/prefork.py): each
serves the app as a lone ``streamlit run`` does, they share what the launcher imported, a
process that dies is forked again, and stopping the launcher stops them all."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from bench.bench_load import _pages, walk
from testing.browser import _healthy, server_output, start_preforked, stop_server

MB = 1 << 20
pytestmark = pytest.mark.slow


def _rollup(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "kB":
            fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return fields


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # ended but not reaped yet: a zombie
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


@pytest.fixture()
def served(tmp_path):
    env = {"CNNVIZ_USER_MODELS": str(tmp_path / "models"), "CNNVIZ_UPLOADS": str(tmp_path / "uploads")}
    launcher, processes = start_preforked(env, processes=2)
    yield launcher, processes
    if launcher.poll() is None:
        stop_server(launcher)


def test_forked_processes_serve_alike_and_share_the_imports(served):
    launcher, processes = served
    walks = []
    for _pid, url in processes:
        pages = _pages(url)
        assert pages == ["Feature maps", "Grad-CAM"]
        walks.append(walk(url, 3, pages))
    assert not walks[0].errors and not walks[1].errors, (walks[0].errors, walks[1].errors)
    assert walks[0].views == walks[1].views  # the same photo: the same top-5, maps and Grad-CAM
    for pid, _url in processes:
        mem = _rollup(pid)
        shared = mem["Anonymous"] - mem["Pss_Anon"]  # anonymous pages it maps with the launcher
        print(
            f"\nprocess {pid}: RSS {mem['Rss'] / MB:.0f} MB, anonymous {mem['Anonymous'] / MB:.0f} MB, "
            f"of which shared (counted in others' PSS) {shared / MB:.0f} MB"
        )
        assert shared > 150 * MB  # torch's and the modules' ~400 MB, split three ways


def test_a_dead_process_is_forked_again_and_the_launcher_stops_them_all(served):
    launcher, processes = served
    (pid, url), (other, _) = processes
    os.kill(pid, signal.SIGKILL)
    t = time.monotonic()
    while "app process 0: pid" not in server_output(launcher).split(f"pid {pid}) ended", 1)[-1]:
        assert time.monotonic() - t < 30, server_output(launcher)
        time.sleep(0.2)
    while not _healthy(url):
        assert time.monotonic() - t < 60, server_output(launcher)
        time.sleep(0.1)
    print(f"\nforked again and listening {time.monotonic() - t:.1f} s after the kill")
    w = walk(url, 4, _pages(url))  # the new process serves the port
    assert not w.errors, w.errors
    new = int(server_output(launcher).rsplit("app process 0: pid ", 1)[1].split(",")[0])
    assert new != pid and _alive(new) and _alive(other)
    stop_server(launcher)
    assert launcher.returncode == 0
    t = time.monotonic()
    while (_alive(new) or _alive(other)) and time.monotonic() - t < 10:
        time.sleep(0.2)
    assert not _alive(new) and not _alive(other)
