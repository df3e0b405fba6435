"""The Trainer as a job of the queue (stop, a closed tab, waiting its turn) and the `train` CLI."""

from __future__ import annotations

import json
import time

import pytest
import torch

from cnnviz.models import small_cnn as arch
from cnnviz.serving import jobs
from cnnviz.training import datasets, trainer
from cnnviz.training.fit import TrainConfig


@pytest.fixture(scope="module")
def small():
    return datasets.shapes(n_per_class=60, size=16)


def wait(t: trainer.Trainer, timeout: float = 120) -> trainer.Snapshot:
    t.job.join(timeout)
    return t.snapshot()


def test_trains_in_background_and_reports(small):
    torch.manual_seed(11)
    rng = torch.random.get_rng_state()
    t = trainer.start("sess-a", small, arch.preset("tinyvgg"), TrainConfig(epochs=2))
    s = wait(t)
    # the training thread left the process-wide generator (other sessions' draws) alone
    assert torch.equal(torch.random.get_rng_state(), rng)
    assert s.status == "done" and s.fraction == 1.0 and s.fit.epochs_done == 2
    assert [p["epoch"] for p in s.history if "val_acc" in p] == [1, 2]
    assert s.filters.shape == (8, 3, 3, 3) and s.results.confusion.sum() == len(small.val_idx)
    assert trainer.get("sess-a") is t
    trainer.forget("sess-a")
    assert trainer.get("sess-a") is None


def test_stop_keeps_the_model(small):
    t = trainer.start("sess-b", small, arch.preset("tinyvgg"), TrainConfig(epochs=100))
    while not [p for p in t.snapshot().history if "train_loss" in p]:
        time.sleep(0.05)
    t.job.stop()
    s = wait(t)
    assert s.status == "stopped" and "keeps what it learnt" in s.message
    assert 0 < s.fit.epochs_done < 100 and s.results is not None and t.model is not None
    trainer.forget("sess-b")


def test_a_closed_tab_stops_training(small):
    engine = jobs.Engine(slots=1, heartbeat_s=0.3, grace_s=60)
    t = trainer.start("sess-c", small, arch.preset("tinyvgg"), TrainConfig(epochs=100), engine=engine)
    assert t.job.join(60)  # nobody polls and no tab is connected: it must end on its own
    s = t.snapshot()
    assert s.status == "stopped" and "closed" in s.message and 0 < s.done < s.total
    trainer.forget("sess-c", engine)


def test_second_training_waits_its_turn_and_is_told_its_place(small):
    engine = jobs.Engine(slots=1, heartbeat_s=300, grace_s=300)  # one slot: the second must wait
    first = trainer.start("sess-d", small, arch.preset("tinyvgg"), TrainConfig(epochs=100), owner="ann", engine=engine)
    while first.snapshot().status != "running":
        time.sleep(0.02)
    second = trainer.start("sess-e", small, arch.preset("tinyvgg"), TrainConfig(epochs=1), owner="bob", engine=engine)
    time.sleep(0.5)
    s = second.snapshot()
    assert s.status == "queued" and s.position == 1 and s.wait_s is not None
    first.job.stop()
    assert wait(second).status == "done" and first.job.join(60)
    trainer.forget("sess-d", engine)
    trainer.forget("sess-e", engine)


def test_too_many_epochs_is_refused(small):
    from cnnviz.errors import CnnvizError

    with pytest.raises(CnnvizError, match="epochs"):
        trainer.start("sess-f", small, arch.preset("tinyvgg"), TrainConfig(epochs=10_000))
    assert trainer.get("sess-f") is None  # refused before it was queued


def test_cli_train_then_predict(capsys, hopper_path):
    from cnnviz.cli import main

    assert (
        main(["train", "--dataset", "shapes", "--size", "16", "--epochs", "1", "--name", "cli_shapes", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["classes"] == ["circle", "square", "triangle", "star"] and out["epochs"] == 1
    assert 0 <= out["val_accuracy"] <= 1 and out["seconds"] > 0 and out["images_per_second"] > 0
    assert main(["predict", str(hopper_path), "--model", "cli_shapes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top"][0]["label"] in out["classes"]
    # a model saved anywhere opens by the path of its JSON, with --weights pointing at its file
    assert (
        main(
            [
                "predict",
                str(hopper_path),
                "--model",
                out["path"].replace(".safetensors", ".json"),
                "--weights",
                out["path"],
                "--top",
                "1",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["train", "--dataset", "zip:/nonexistent.zip"]) == 2
    assert "error: Cannot read nonexistent.zip" in capsys.readouterr().err


def test_a_training_reserves_its_memory_while_it_runs(small, monkeypatch):
    """Issue 23: the memory guard counts a running training, not only its start."""
    from contextlib import contextmanager

    from cnnviz.serving import memguard

    held: list[tuple[int, str]] = []
    real = memguard.reserve

    @contextmanager
    def spy(estimate, what="this"):
        with real(estimate, what):
            held.append((estimate, what))
            yield
            held.remove((estimate, what))

    monkeypatch.setattr(memguard, "reserve", spy)
    seen: list[list] = []
    a = arch.preset("tinyvgg")
    t = trainer.Trainer(small, a, TrainConfig(epochs=1, batch_size=32))
    t.work(lambda done, total: seen.append(list(held)), lambda: False)
    params, acts = arch.cost(a, small.channels, len(small.classes), small.size)
    expected = 4 * (4 * params + 2 * 32 * acts)  # float32 weights, grads, Adam moments; a batch kept twice
    assert seen and all(h == [(expected, "this training")] for h in seen)
    assert held == []  # released when the training ended
