"""Issue 10: one student cannot hold training for the class. A run's cost is estimated
before it starts and refused above the teacher's limit; a refused run leaves the
session's state alone; a closed tab frees its slot within the heartbeat."""

from __future__ import annotations

import time

import pytest

from cnnviz import jobs
from cnnviz.errors import CnnvizError
from cnnviz.models.small_cnn import PRESETS, forward_macs, preset
from cnnviz.training import datasets, trainer
from cnnviz.training.fit import TrainConfig


@pytest.fixture(scope="module")
def shapes():
    return datasets.load("shapes", size=64)


def test_forward_macs_by_hand():
    # TinyVGG 8-8-16-16, 3x3, pool every 2, on 28² grey with 10 classes
    by_hand = 1 * 8 * 9 * 28 * 28 + 8 * 8 * 9 * 28 * 28 + 8 * 16 * 9 * 14 * 14 + 16 * 16 * 9 * 14 * 14 + 16 * 7 * 7 * 10
    assert forward_macs(PRESETS["tinyvgg"], 1, 10, 28) == by_hand


def test_estimate_grows_with_the_work(shapes):
    small = trainer.estimate_seconds(preset("tinyvgg"), shapes, TrainConfig(epochs=1))
    assert small > 0
    assert trainer.estimate_seconds(preset("tinyvgg"), shapes, TrainConfig(epochs=10)) == pytest.approx(10 * small)
    wide = trainer.estimate_seconds(preset("tinyvgg", channels=[128, 128, 256, 256]), shapes, TrainConfig(epochs=1))
    assert wide > 5 * small  # 100x the multiply-adds; the per-image overhead is shared


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
    assert keep.join(60)  # nothing of it runs on into the next tests


def test_a_closed_tab_frees_the_slot_within_the_heartbeat(shapes):
    engine = jobs.Engine(slots=1, heartbeat_s=0.5, grace_s=60)
    t = trainer.start("fair-closed", shapes, preset("tinyvgg"), TrainConfig(epochs=8), engine=engine)  # minutes
    nxt = trainer.start("fair-next", shapes, preset("tinyvgg"), TrainConfig(epochs=1), engine=engine)
    while nxt.job.status == "queued":  # the next student's page polls; the first's is gone
        nxt.snapshot()
        time.sleep(0.05)
    assert t.snapshot().status == "stopped"  # it gave up its slot long before finishing
    while not nxt.join(0.05):  # its page goes on polling
        nxt.snapshot()
    assert nxt.snapshot().status == "done"  # and the next student got the slot
    trainer.forget("fair-closed", engine)
    trainer.forget("fair-next", engine)
