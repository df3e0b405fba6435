"""Time-sliced jobs on real work: with one slot, a classmate's feature visualisation no longer
waits for a whole training. It starts within a quantum and one training batch, and the
training, paused meanwhile, ends with exactly the model and curves it gets alone."""

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

Q = 0.5  # s: the quantum here (the server's is 5 s)
REQ = featvis.Request("features.2.conv", 3, None, 48, 5)
CFG = TrainConfig(epochs=15, seed=3)


@pytest.fixture(scope="module")
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # each job on one torch thread, as the server runs them
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def parts(one_thread):
    return load_model("tinyvgg_mnist", device="cpu"), datasets.shapes(n_per_class=80, size=16)


def lone_training(ds) -> tuple[trainer.Snapshot, dict, float]:
    engine = jobs.Engine(slots=1, heartbeat_s=300, grace_s=300)
    t0 = time.monotonic()
    t = trainer.start("lone", ds, arch.preset("tinyvgg"), CFG, owner="ann", engine=engine)
    assert t.job.join(300)
    return t.snapshot(), {k: v.clone() for k, v in t.model.state_dict().items()}, time.monotonic() - t0


def curves(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in p.items() if k != "seconds"} for p in history]


def run_side_by_side(lm, ds, quantum: float) -> tuple[trainer.Trainer, jobs.Job, float, float]:
    """Ann's training first, then bob's featvis; returns both, when bob asked and when his first
    step ran (monotonic seconds)."""
    engine = jobs.Engine(slots=1, heartbeat_s=300, grace_s=300, quantum_s=quantum)
    t = trainer.start("ann-tab", ds, arch.preset("tinyvgg"), CFG, owner="ann", engine=engine)
    while t.snapshot().done < 3:  # her training is under way
        time.sleep(0.01)
    first: list[float] = []

    def work(on_progress, should_stop):
        def step(s, n, _v):
            first.append(first[0] if first else time.monotonic())
            on_progress(s, n)

        return featvis.visualize(lm, REQ, on_step=step, should_stop=should_stop)

    asked = time.monotonic()
    bob = engine.submit("bob", "bob-tab", "featvis", 0, work)
    assert bob.join(300) and t.job.join(300)
    return t, bob, asked, first[0]


def test_a_classmates_featvis_runs_within_a_quantum_of_a_training(parts, tmp_path, monkeypatch):
    lm, ds = parts
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path / "alone"))
    t0 = time.monotonic()
    alone = featvis.visualize(lm, REQ)
    featvis_alone = time.monotonic() - t0
    snap, weights, training_alone = lone_training(ds)
    # a quantum that slices this machine's training several times (a quiet machine trains in
    # well under a second; a busy one in several)
    q = min(Q, training_alone / 5)
    assert snap.status == "done"
    waits = {}
    for name, quantum in (("sliced", q), ("whole", math.inf)):  # "whole": jobs ran to their end before
        monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path / name))
        t, bob, asked, first_step = run_side_by_side(lm, ds, quantum)
        waits[name] = bob.started - asked  # he got the slot then (his first step follows its setup)
        got = bob.snapshot()
        assert got.status == "done" and not got.result.cached
        for f in ("x", "picture", "curve"):  # bob's picture is the one he gets alone, bit for bit
            np.testing.assert_array_equal(getattr(got.result, f), getattr(alone, f))
        assert got.result.activation == alone.activation
        s = t.snapshot()
        assert s.status == "done" and curves(s.history) == curves(snap.history)  # ann's too
        assert all(torch.equal(v, weights[k]) for k, v in t.model.state_dict().items())
        assert np.array_equal(s.results.confusion, snap.results.confusion)
        if name == "sliced":
            assert t.job.pauses >= 1 and first_step < t.job.ended
            batch = training_alone / s.total
            assert waits[name] < q + 3 * batch + 0.5  # the quantum, a batch, and slack for a busy machine
        else:
            assert t.job.pauses == 0 and first_step > t.job.ended  # bob waited for her whole training
    print(
        f"\nbob's wait for a slot: {waits['sliced']:.2f} s sliced (quantum {q:.2f} s) vs {waits['whole']:.2f} s "
        f"unsliced; ann's training alone {training_alone:.2f} s, bob's featvis alone {featvis_alone:.2f} s"
    )
