"""Each forked app process gets its share of the machine's memory budget (cnnviz/ui/prefork.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cnnviz.serving import memguard
from cnnviz.ui import prefork


def test_each_process_gets_its_share_of_the_machine_s_budget(monkeypatch):
    monkeypatch.delenv("CNNVIZ_MEMORY_BUDGET_MB", raising=False)
    whole = memguard.budget_bytes()
    prefork.share_budget(3)
    assert int(os.environ["CNNVIZ_MEMORY_BUDGET_MB"]) == whole // 3 >> 20
    assert abs(memguard.budget_bytes() * 3 - whole) < 3 << 20


def test_a_budget_the_teacher_set_is_kept(monkeypatch):
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", "1500")
    prefork.share_budget(2)
    assert os.environ["CNNVIZ_MEMORY_BUDGET_MB"] == "1500"


_PRELOAD = """
import os, threading, torch
from cnnviz.serving import cache
from cnnviz.ui import prefork
prefork.preload()
print(threading.active_count(), torch.get_num_threads(), len(cache.MODELS), os.environ.get("CNNVIZ_TORCH_THREADS") or "-")
"""


@pytest.mark.parametrize("torch_threads", ["", "2"])
def test_the_launcher_forks_with_the_default_model_loaded_and_no_thread_of_its_own(torch_threads):
    """What the children inherit: the default model in the model cache (shared, not loaded
    again in each), torch at one thread even when the children will use more (no OpenMP pool
    lost at the fork), no Python thread."""
    env = {k: v for k, v in os.environ.items() if k != "CNNVIZ_TORCH_THREADS"}
    if torch_threads:
        env["CNNVIZ_TORCH_THREADS"] = torch_threads
    out = subprocess.run(
        [sys.executable, "-c", _PRELOAD], capture_output=True, text=True, timeout=300, check=True, env=env
    )
    assert out.stdout.split() == ["1", "1", "1", torch_threads or "-"], out.stderr[-2000:]
