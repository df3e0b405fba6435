"""reclaim: garbage hidden from the collector by the per-run gc.freeze is collected by a
sweep, and freed heap goes back to the OS (issue 23: closed sessions kept 40 MB each)."""

from __future__ import annotations

import gc
import time
import weakref

from cnnviz.serving import memguard, page_activity, reclaim
from cnnviz.ui import session_end

MB = 1 << 20


class _Session:
    """A stand-in for a closed session: an object in a reference cycle holding a big buffer."""

    def __init__(self) -> None:
        self.me = self
        self.query = bytearray(b"q" * (40 * MB))  # touched pages, as a received message


def test_a_sweep_collects_frozen_cycles_and_returns_their_memory():
    gc.collect()
    s = _Session()
    alive = weakref.ref(s)
    reclaim.freeze()  # a script run starts while the session is alive
    del s  # the session closes: its cycle is garbage, but frozen
    gc.collect()
    assert alive() is not None  # the collector cannot see it
    # measured across the sweep only: in the whole suite other threads (a test server's
    # session watcher) trim the heap meanwhile, so a baseline taken earlier drifts
    during = memguard.rss_bytes()
    assert reclaim.sweep(min_interval_s=0)
    assert alive() is None
    assert during - memguard.rss_bytes() > 30 * MB  # the 40 MB went back to the OS
    assert gc.get_freeze_count() > 0  # survivors are frozen again


def test_sweeps_are_rate_limited():
    assert reclaim.sweep(min_interval_s=0)
    assert not reclaim.sweep(min_interval_s=60)


def test_a_session_end_sweeps_only_after_the_server_grew_and_in_a_pause(monkeypatch):
    """A sweep holds the interpreter's lock 0.25-0.45 s: not for sessions that held little,
    and not while the class's clicks are being served, nor between two of them (unless put
    off for a minute). The server's RSS is given here: in the whole suite other threads trim
    the heap meanwhile."""
    swept = []
    monkeypatch.setattr(reclaim, "sweep", lambda: swept.append(1) or True)
    rss = 1000 * MB
    monkeypatch.setattr(memguard, "rss_bytes", lambda: rss)
    growth = int(session_end.SWEEP_GROWTH_MB * MB)
    sweeper = session_end.Sweeper(rss - growth // 2)
    assert not sweeper.tick(1, now=100.0)  # due, not worth it
    assert sweeper.due == 100.0 and not swept
    sweeper.swept = rss - growth - 1
    with page_activity.page_run():  # a click in flight: put off
        assert not sweeper.tick(0, now=130.0)
        assert not swept
        assert sweeper.tick(0, now=100.0 + session_end.SWEEP_PUT_OFF_S + 1)  # swept anyway
        assert (sweeper.due, sweeper.swept, len(swept)) == (None, rss, 1)
    sweeper.swept = rss - growth - 1
    assert not sweeper.tick(0, now=130.0, idle_s=9.0)  # nothing ended: no sweep
    assert not sweeper.tick(1, now=131.0, idle_s=0.3)  # between two clicks of a walking class
    assert sweeper.tick(0, now=134.0, idle_s=session_end.SWEEP_PAUSE_S)  # the class paused
    assert len(swept) == 2


def test_the_class_pauses_when_no_page_run_came_for_a_while():
    with page_activity.page_run():
        assert page_activity.idle_for() == 0.0
    time.sleep(0.05)
    assert 0.05 <= page_activity.idle_for() < 5.0


def test_a_class_leaving_together_is_swept_though_the_server_did_not_grow(monkeypatch):
    """A sweep while half of 100 sessions had closed took the other half's memory as its
    floor; when they closed nothing had grown, and 76 MB stayed for good."""
    swept = []
    monkeypatch.setattr(reclaim, "sweep", lambda: swept.append(1) or True)
    monkeypatch.setattr(memguard, "rss_bytes", lambda: 1000 * MB)
    sweeper = session_end.Sweeper(1000 * MB)
    few = session_end.SWEEP_AFTER_ENDED - 1
    assert not sweeper.tick(few, now=100.0, idle_s=9.0)
    assert not sweeper.tick(0, now=103.0, idle_s=9.0) and not swept
    assert sweeper.tick(1, now=106.0, idle_s=9.0)  # the twentieth
    assert sweeper.ended == 0 and len(swept) == 1
