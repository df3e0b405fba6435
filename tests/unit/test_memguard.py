"""Issue 10: near its memory budget the server refuses new heavy work with a message
(CNNVIZ_MEMORY_BUDGET_MB), instead of being killed for everyone. Issue 23: the guard counts
the work already admitted, not only the memory at the start."""

from __future__ import annotations

import resource
import threading
import time

import numpy as np
import pytest

from cnnviz.serving import memguard
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
    # 64 MB: under what this process holds whatever the guard's own sweep (gc + malloc_trim)
    # returns first; after the browser tests that sweep can free more than the headroom
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", "64")
    with pytest.raises(memguard.ServerBusy) as e:
        memguard.check("decoding this image")
    msg = str(e.value)
    assert "decoding this image cannot start" in msg and "of 64 MB" in msg
    # no room for a dataset either
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", "64")
    with pytest.raises(memguard.ServerBusy):
        class_folders.from_files([("cat/a.png", b"x"), ("dog/b.png", b"y")])
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str(rss_mb + 2000))
    memguard.check("decoding this image")  # with room, it goes ahead


# ---------------------------------------------------------------- work in flight (issue 23)
MB = 1 << 20


def test_two_works_that_each_fit_alone_do_not_both_start(monkeypatch):
    """Checking only at the start let five works run 828 MB past a 2500 MB budget: a work
    admitted now holds its estimate until it ends, and the next one is refused while both
    together would not fit - with ServerBusy's sentence."""
    rss = memguard.rss_bytes()
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str((rss >> 20) + 1000))
    with memguard.reserve(600 * MB, "loading this model"):  # fits alone: rss + 600 MB <= budget
        assert memguard.in_flight_bytes() >= 600 * MB - (memguard.rss_bytes() - rss) - MB
        with pytest.raises(memguard.ServerBusy) as e, memguard.reserve(600 * MB, "decoding this image"):
            pass  # also fits alone
        msg = str(e.value)
        assert msg.startswith("The server is busy (memory ") and "decoding this image cannot start" in msg
        assert "MB more on its way" in msg and msg.endswith("try again in a minute.")
        with memguard.reserve(300 * MB, "a smaller one"):  # what is left fits
            pass
    assert memguard.in_flight_bytes() == 0  # released when done, also after a refusal
    with memguard.reserve(600 * MB, "decoding this image"):
        pass


def test_a_work_in_flight_counts_what_it_has_not_allocated_yet(monkeypatch):
    """The growth since the oldest work began is theirs: a load half done holds half (counting
    its whole estimate on top of what it already made resident would refuse the class for
    memory nobody is about to use)."""
    rss = memguard.rss_bytes()
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str((rss >> 20) + 1000))
    with memguard.reserve(400 * MB, "loading this model"):
        block = np.ones(200 * MB, np.uint8)  # the load's first half, resident (ones: touched)
        left = memguard.in_flight_bytes()
        assert 150 * MB <= left <= 210 * MB, left >> 20
        with memguard.reserve(550 * MB, "reading this dataset"):  # 200 + 200 + 550 fit in 1000
            pass
        with pytest.raises(memguard.ServerBusy), memguard.reserve(650 * MB, "reading this dataset"):
            pass  # 200 + 200 + 650 do not
        del block


def test_check_counts_the_work_in_flight(monkeypatch):
    rss = memguard.rss_bytes()
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str((rss >> 20) + 1000))
    memguard.check("this training")  # 700 MB of headroom fits
    with memguard.reserve(400 * MB, "loading this model"), pytest.raises(memguard.ServerBusy):
        memguard.check("this training")


def test_threads_reserving_at_once_never_admit_more_than_the_budget(monkeypatch):
    rss = memguard.rss_bytes()
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str((rss >> 20) + 1000))
    inside, admitted, go = [], [], threading.Barrier(8)
    lock = threading.Lock()

    def work():
        go.wait()
        try:
            with memguard.reserve(300 * MB, "work"):
                with lock:
                    inside.append(1)
                    admitted.append(len(inside))
                time.sleep(0.2)
                with lock:
                    inside.pop()
        except memguard.ServerBusy:
            pass

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= max(admitted) <= 3  # 3 × 300 MB fit in 1000 MB, a fourth does not
