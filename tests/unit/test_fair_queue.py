"""Issue 23 item 7 on real work: one student's ten tabs of feature visualisations, queued
before a classmate's one, do not hold it back. With the server's default slots it starts at
once; with one slot it is next, right after the job already running. (The time it takes
against its time alone is a ratio in bench/bench_featvis.py.)"""

from __future__ import annotations

import time

import pytest
import torch

from cnnviz.channels import featvis
from cnnviz.models.zoo import load_model
from cnnviz.serving import jobs

LAYER, CHANNEL, SIZE, STEPS = "blocks.3.expand.act", 5, 64, 24


@pytest.fixture(scope="module")
def lm():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # each job on one torch thread, as the server runs them
    yield load_model("efficientnet_lite0", device="cpu")
    torch.set_num_threads(n)


class Timed:
    """Featvis jobs that record when each starts and ends (monotonic seconds)."""

    def __init__(self, lm) -> None:
        self.lm, self.spans = lm, {}

    def work(self, name: str, seed: int):
        req = featvis.Request(LAYER, CHANNEL, SIZE, STEPS, seed)  # a seed of its own: nothing cached

        def run(on_progress, should_stop):
            self.spans[name] = [time.monotonic(), None]
            res = featvis.visualize(self.lm, req, on_step=lambda s, n, _v: on_progress(s, n), should_stop=should_stop)
            self.spans[name][1] = time.monotonic()
            return res

        return run


@pytest.mark.parametrize("slots", [jobs.MAX_JOBS, 1])
def test_ten_tabs_of_featvis_do_not_hold_back_a_classmates_one(lm, slots, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path))
    engine = jobs.Engine(slots=slots, heartbeat_s=300, grace_s=300)
    t = Timed(lm)
    seed = 1000 * slots
    eve = [engine.submit("eve", f"eve-tab{i}", "featvis", i, t.work(f"eve{i}", seed + i)) for i in range(10)]
    while "eve0" not in t.spans:
        time.sleep(0.01)
    ann = engine.submit("ann", "ann-tab", "featvis", 0, t.work("ann", seed + 99))
    assert ann.snapshot().position in ((None, 1) if slots > 1 else (1,))  # next at worst
    assert ann.join(120) and ann.snapshot().status == "done"
    assert ann.snapshot().result.activation > 0  # a real visualisation: it excites its channel
    started, eve0_end = t.spans["ann"][0], t.spans["eve0"][1] or float("inf")  # eve's may still run
    if slots > 1:
        assert started < eve0_end  # a free slot: she did not wait for eve's running job
    else:
        while "eve1" not in t.spans:  # eve's second tab comes next
            time.sleep(0.01)
        # she went before eve's second tab: after eve's first, or while it was paused for her
        assert (eve0_end <= started or eve[0].pauses > 0) and started < t.spans["eve1"][0]
    for i in range(10):
        engine.forget(f"eve-tab{i}", "featvis")
    assert all(j.join(60) for j in eve)
    runs = [t.spans[f"eve{i}"] for i in range(10) if f"eve{i}" in t.spans]
    assert all(b[0] >= a[1] for a, b in zip(runs, runs[1:], strict=False) if a[1])  # one at a time
