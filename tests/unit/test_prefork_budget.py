"""Each forked app process gets its share of the machine's memory budget (cnnviz/ui/prefork.py)."""

from __future__ import annotations

import os

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
