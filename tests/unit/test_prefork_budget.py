"""Each forked app process gets its share of the machine's memory budget and cores (cnnviz/ui/prefork.py)."""

from __future__ import annotations

import os

import pytest

from cnnviz.serving import memguard
from cnnviz.ui import prefork, process


def test_each_process_gets_its_share_of_the_machine_s_budget(monkeypatch):
    monkeypatch.delenv("CNNVIZ_MEMORY_BUDGET_MB", raising=False)
    monkeypatch.delenv("CNNVIZ_MODEL_REPLICAS", raising=False)
    whole = memguard.budget_bytes()
    prefork.share_budget(3)
    assert int(os.environ["CNNVIZ_MEMORY_BUDGET_MB"]) == whole // 3 >> 20
    assert abs(memguard.budget_bytes() * 3 - whole) < 3 << 20


@pytest.mark.parametrize("cores, processes, replicas", [(2, 2, 0), (2, 1, 1), (4, 2, 1), (8, 2, 3), (16, 1, 3)])
def test_each_process_keeps_extra_copies_for_its_share_of_the_cores(monkeypatch, cores, processes, replicas):
    monkeypatch.delenv("CNNVIZ_MODEL_REPLICAS", raising=False)
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", "1500")
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    prefork.share_budget(processes)
    assert process.model_replicas() == replicas
    if processes == 1:  # one process: the same copies as `make run`'s
        monkeypatch.delenv("CNNVIZ_MODEL_REPLICAS")
        assert process.model_replicas() == replicas


def test_what_the_teacher_set_is_kept(monkeypatch):
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", "1500")
    monkeypatch.setenv("CNNVIZ_MODEL_REPLICAS", "2")
    prefork.share_budget(2)
    assert os.environ["CNNVIZ_MEMORY_BUDGET_MB"] == "1500"
    assert os.environ["CNNVIZ_MODEL_REPLICAS"] == "2"
