"""One engine for every long job: a training is a job of the same queue as a feature
visualisation, so the fair queue's guarantees hold across kinds. Per student, not per tab;
first come, first served across students; a closed tab's training stopped within seconds;
the place in line shown. Real jobs on a real engine."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from cnnviz.channels import featvis
from cnnviz.models import small_cnn as arch
from cnnviz.models.zoo import load_model
from cnnviz.serving import jobs
from cnnviz.training import datasets, trainer
from cnnviz.training.fit import TrainConfig

HEARTBEAT_S = 0.5
REQ = featvis.Request("features.2.conv", 3, None, 24, 5)


@pytest.fixture(scope="module")
def parts():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # each job on one torch thread, as the server runs them
    yield load_model("tinyvgg_mnist", device="cpu"), datasets.shapes(n_per_class=60, size=16)
    torch.set_num_threads(n)


def featvis_work(lm):
    return lambda on_progress, should_stop: featvis.visualize(
        lm, REQ, on_step=lambda s, n, _v: on_progress(s, n), should_stop=should_stop
    )


def test_a_training_and_a_featvis_share_one_queue(parts, tmp_path, monkeypatch):
    lm, ds = parts
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path / "alone"))
    alone = featvis.visualize(lm, REQ)
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path / "queued"))  # the jobs compute, not read a cache
    engine = jobs.Engine(slots=1, heartbeat_s=HEARTBEAT_S, grace_s=60, quantum_s=math.inf)
    release = []

    def hold(on_progress, should_stop):  # zed's job holds the one slot while the others queue
        while not release and not should_stop():
            time.sleep(0.01)

    tabs_open = {"ann-tab": True}
    zed = engine.submit("zed", "zed-tab", "block", 0, hold, alive=lambda: True)
    ann = trainer.start(
        "ann-tab",
        ds,
        arch.preset("tinyvgg"),
        TrainConfig(epochs=100),
        owner="ann",
        alive=lambda: tabs_open["ann-tab"],
        engine=engine,
    )
    bob = engine.submit("bob", "bob-tab", "featvis", 1, featvis_work(lm), alive=lambda: True)
    ann2 = engine.submit("ann", "ann-tab2", "featvis", 2, featvis_work(lm), alive=lambda: True)  # her other tab

    # One line, across kinds: ann's training, then bob's featvis, then ann's second job (one
    # running job per student, so her other tab's comes after her classmate's first).
    assert engine.order() == [ann.job, bob, ann2]
    assert [ann.snapshot().position, bob.snapshot().position, ann2.snapshot().position] == [1, 2, 3]
    assert ann.snapshot().status == "queued" and ann.snapshot().wait_s is None  # behind zed's, of unknown length
    assert engine.get("ann-tab", trainer.KIND) is ann.job and ann.job.task is ann

    release.append(True)
    assert zed.join(30)
    while ann.snapshot().done < 3:  # her page polls while her training runs
        bob.snapshot(), ann2.snapshot()
        assert ann.job.status in ("queued", "running")
        time.sleep(0.02)
    s = ann.snapshot()
    assert s.status == "running" and bob.snapshot().position == 1 and ann2.snapshot().position == 2
    assert s.eta is None or s.eta > 0  # from her progress: her training has far to go

    tabs_open["ann-tab"] = False  # she closes the tab: no more polls, the connection gone
    closed = time.monotonic()
    while not ann.job.join(0.05):
        bob.snapshot(), ann2.snapshot()  # the classmates' pages go on polling
    took = ann.job.ended - closed
    s = ann.snapshot()
    assert s.status == "stopped" and "closed" in str(s.message) and 0 < s.done < s.total
    assert took < HEARTBEAT_S + 3.0, took  # the heartbeat, then the end of the batch in hand
    assert s.fit is not None and 0 < s.fit.epochs_done < 100  # stopped, keeping what it learnt

    while not ann2.join(0.05):
        bob.snapshot(), ann2.snapshot()
    # First come, first served: each started after the one before it in line ended.
    assert ann.job.ended <= bob.started and bob.ended <= ann2.started
    assert not bob.result.cached  # bob's job computed it (ann's same request then reads his result)
    for job in (bob, ann2):  # what each student gets is what they get alone, bit for bit
        got = job.snapshot()
        assert got.status == "done"
        np.testing.assert_array_equal(got.result.picture, alone.picture)
    print(f"\nann's closed tab: training stopped {took:.2f} s after her last poll (heartbeat {HEARTBEAT_S} s)")
