"""Issue 10: near its memory budget the server refuses new heavy work with a message
(CNNVIZ_MEMORY_BUDGET_MB), instead of being killed for everyone."""

from __future__ import annotations

import resource

import pytest

from cnnviz import memguard
from cnnviz.training import class_folders


def test_rss_is_this_process_resident_memory():
    rss = memguard.rss_bytes()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert 10 << 20 < rss <= peak * 1.01


def test_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", "1234")
    assert memguard.budget_bytes() == 1234 << 20
    monkeypatch.delenv("CNNVIZ_MEMORY_BUDGET_MB")
    assert memguard.budget_bytes() > 1 << 30  # default: 85 % of this machine


def test_near_the_budget_heavy_work_is_refused_with_a_message(monkeypatch):
    rss_mb = memguard.rss_bytes() >> 20
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str(rss_mb + 100))  # less than the headroom left
    with pytest.raises(memguard.ServerBusy) as e:
        memguard.check("decoding this image")
    msg = str(e.value)
    assert "decoding this image cannot start" in msg and f"of {rss_mb + 100} MB" in msg
    with pytest.raises(memguard.ServerBusy):
        class_folders.from_files([("cat/a.png", b"x"), ("dog/b.png", b"y")])
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str(rss_mb + 2000))
    memguard.check("decoding this image")  # with room, it goes ahead
