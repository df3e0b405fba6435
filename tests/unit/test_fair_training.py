"""Issue 10: one student cannot hold training for the class. A run's cost is estimated
before it starts and refused above the teacher's limit; a refused run leaves the
session's state alone; a closed tab frees its slot within the heartbeat."""

from __future__ import annotations

import time

import pytest
import torch

from cnnviz.errors import CnnvizError
from cnnviz.models.small_cnn import PRESETS, forward_macs, preset
from cnnviz.serving import jobs
from cnnviz.training import datasets, estimate, trainer
from cnnviz.training.fit import TrainConfig, build_and_fit
from cnnviz.training.recipes import recipe_for
from cnnviz.training.results import evaluate


@pytest.fixture(scope="module")
def shapes():
    return datasets.load("shapes", size=64)


def test_forward_macs_by_hand():
    # TinyVGG 8-8-16-16, 3x3, pool every 2, on 28² grey with 10 classes
    by_hand = 1 * 8 * 9 * 28 * 28 + 8 * 8 * 9 * 28 * 28 + 8 * 16 * 9 * 14 * 14 + 16 * 16 * 9 * 14 * 14 + 16 * 7 * 7 * 10
    assert forward_macs(PRESETS["tinyvgg"], 1, 10, 28) == by_hand


def test_estimate_grows_with_the_work(shapes):
    one = trainer.estimate_seconds(preset("tinyvgg"), shapes, TrainConfig(epochs=1))
    two = trainer.estimate_seconds(preset("tinyvgg"), shapes, TrainConfig(epochs=2))
    ten = trainer.estimate_seconds(preset("tinyvgg"), shapes, TrainConfig(epochs=10))
    assert 0 < one < two < ten
    assert ten - one == pytest.approx(9 * (two - one))  # one probe, kept: epochs only multiply it
    # 100x the multiply-adds. Each probe is timed apart, on a machine other work slows at
    # any moment: the least of three alternating probes of each is what each costs.
    small, wide = [], []
    for _ in range(3):
        estimate.forget()
        small.append(trainer.estimate_seconds(preset("tinyvgg"), shapes, TrainConfig(epochs=1)))
        wide.append(
            trainer.estimate_seconds(preset("tinyvgg", channels=[128, 128, 256, 256]), shapes, TrainConfig(epochs=1))
        )
    assert min(wide) > 5 * min(small)


def test_the_estimate_is_within_1_5x_of_a_run_timed_beside_it(monkeypatch):
    """Calibrated here and now: the estimate probes the very configuration on this machine.
    Both the probe and the run are timed in this thread's CPU time (one torch thread), which
    other work on a shared machine does not stretch, so the comparison holds under load."""
    ds = datasets.load("shapes", size=32)
    arch, cfg = preset("tinyvgg"), TrainConfig(epochs=2, batch_size=32, augment=recipe_for("shapes").augment)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setattr(estimate, "CLOCK", time.thread_time)
    try:
        estimate.forget()
        est = trainer.estimate_seconds(arch, ds, cfg)
        t0 = time.thread_time()
        model, _ = build_and_fit(ds, arch, cfg)
        evaluate(model, ds, "cpu")  # as a training job does
        took = time.thread_time() - t0
    finally:
        torch.set_num_threads(threads)
        estimate.forget()
    print(f"estimate {est:.2f} s, measured {took:.2f} s of CPU")
    assert 1 / 1.5 <= est / took <= 1.5, (est, took)


def test_heaviest_settings_are_refused_before_anything_runs(shapes, monkeypatch):
    monkeypatch.setattr(trainer, "MAX_MINUTES", 10.0)
    heavy = preset("tinyvgg", channels=[256, 256, 512, 512])
    est = trainer.estimate_seconds(heavy, shapes, TrainConfig(epochs=100))
    assert est > 600
    keep = trainer.start("fair-a", shapes, preset("tinyvgg"), TrainConfig(epochs=1))  # a normal run is fine
    with pytest.raises(CnnvizError, match=r"about \d+ minutes here; the limit is 10"):
        trainer.start("fair-a", shapes, heavy, TrainConfig(epochs=100))
    assert trainer.get("fair-a") is keep  # the refused run replaced nothing
    trainer.forget("fair-a")
    assert keep.job.join(60)  # nothing of it runs on into the next tests


def test_a_closed_tab_frees_the_slot_within_the_heartbeat(shapes):
    engine = jobs.Engine(slots=1, heartbeat_s=0.5, grace_s=60)
    t = trainer.start("fair-closed", shapes, preset("tinyvgg"), TrainConfig(epochs=8), engine=engine)  # minutes
    nxt = trainer.start("fair-next", shapes, preset("tinyvgg"), TrainConfig(epochs=1), engine=engine)
    while nxt.job.status == "queued":  # the next student's page polls; the first's is gone
        nxt.snapshot()
        time.sleep(0.05)
    assert t.snapshot().status == "stopped"  # it gave up its slot long before finishing
    while not nxt.job.join(0.05):  # its page goes on polling
        nxt.snapshot()
    assert nxt.snapshot().status == "done"  # and the next student got the slot
    trainer.forget("fair-closed", engine)
    trainer.forget("fair-next", engine)
