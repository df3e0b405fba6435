"""Background jobs: one at a time per process (the rest queue), progress, stop, errors; and
where a channel's weights come from."""

from __future__ import annotations

import threading

import numpy as np
import torch

from cnnviz import channel as chan
from cnnviz import jobs
from cnnviz.catalogue import catalogue, find_layer
from cnnviz.errors import CnnvizError, Stopped
from cnnviz.zoo import load_model


def _work(gate: threading.Event, started: list):
    def work(on_progress, should_stop):
        started.append(1)
        for i in range(100):
            if should_stop():
                raise Stopped("stopped midway")
            on_progress(i + 1, 100)
            if i == 1:
                gate.wait(10)
        return "result"

    return work


def test_one_job_at_a_time_the_next_queues_and_a_stop_keeps_the_message():
    gate, started = threading.Event(), []
    a = jobs.submit("s1", "test", 1, _work(gate, started))
    b = jobs.submit("s2", "test", 2, _work(gate, started))
    for _ in range(200):
        if a.snapshot().done >= 2:
            break
        threading.Event().wait(0.02)
    assert a.snapshot().status == "running" and b.snapshot().status == "queued" and len(started) == 1
    assert jobs.submit("s1", "test", 1, _work(gate, started)) is a  # the same request is not restarted
    b.stop()
    b.join(5)
    assert b.snapshot().status == "stopped" and b.snapshot().message == "Stopped before it started."
    gate.set()
    a.join(5)
    snap = a.snapshot()
    assert snap.status == "done" and snap.result == "result" and snap.fraction == 1.0
    c = jobs.submit("s1", "test", 3, _work(threading.Event(), started))
    c.stop()
    c.join(15)
    assert c.snapshot().status == "stopped" and c.snapshot().message in ("stopped midway", "Stopped before it started.")


def test_errors_become_one_line():
    def bad(on_progress, should_stop):
        raise CnnvizError("A clear sentence.")

    def bug(on_progress, should_stop):
        raise ZeroDivisionError("division by zero")

    a = jobs.submit("s3", "test", 1, bad)
    a.join(5)
    assert (a.snapshot().status, a.snapshot().message) == ("error", "A clear sentence.")
    b = jobs.submit("s3", "test", 2, bug)
    b.join(5)
    assert b.snapshot().status == "error" and "ZeroDivisionError" in b.snapshot().message


def test_a_channel_is_credited_to_the_conv_that_computes_it():
    lm = load_model("tinyvgg_mnist", device="cpu")
    layers = catalogue(lm)
    for name, conv in (
        ("features.3.pool", "features.3.conv"),
        ("features.1.act", "features.1.conv"),
        ("features.0.conv", "features.0.conv"),
    ):
        assert chan.source_conv(layers, find_layer(layers, name)).name == conv
    assert chan.source_conv(layers, find_layer(layers, "classifier.fc")) is None
    w = chan.channel_filter(lm.model, find_layer(layers, "features.2.conv"), 4)
    ref = lm.model.get_submodule("features.2.conv").weight[4]
    np.testing.assert_allclose(chan.input_norms(w), torch.linalg.vector_norm(ref, dim=(1, 2)).numpy(), rtol=1e-6)
