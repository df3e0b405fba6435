"""How long a training takes here: a short timed probe of the very run, extrapolated.

A fit's time is ``epochs × (steps × one step + validation)`` plus a last evaluation. One
step's time depends on much more than the multiply-adds (batch size, activation, batch
norm, augmentation, the optimiser, this machine's load), so the step is timed, not
modelled: a few training steps of the same model, batch size and augmentation on random
data of the dataset's shape, after one untimed step (the first allocates and picks its
kernels; timing it made the old estimate ~3× too long). Probes are kept per configuration
(epochs and the data's values do not change a step's time), so moving the epochs slider
costs nothing and a page run probes a new configuration once.

A configuration too heavy to probe in about a second is extrapolated from its
multiply-adds at the rate of a probed reference network instead: only the refusal of a
much too long run depends on it.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import astuple

import torch
import torch.nn.functional as F

from cnnviz.models.small_cnn import build_model, forward_macs, preset
from cnnviz.training.augment import Augment
from cnnviz.training.fit import TrainConfig
from cnnviz.training.imageset import ImageDataset

PROBE_S = 0.25  # timed seconds per probe, after its untimed first step
MAX_STEPS = 8
PROBE_MACS = 3e8  # a probe batch does at most this many forward multiply-adds (~0.1-0.3 s a step)
MAX_KEPT = 128
# Wall time: a loaded server's run is as slow as its probe. A test swaps in time.thread_time
# to compare the probe with a run on CPU time, which other work on the machine leaves alone.
CLOCK = time.perf_counter
_KEPT: dict[tuple, tuple[float, float]] = {}
_LOCK = threading.Lock()


def probe(arch: dict, channels: int, classes: int, size: int, batch: int, augment: Augment, optimizer: str):
    """Time training steps on random data.

    A batch too heavy to probe whole is probed smaller and scaled (time ∝ images).

    Args:
        arch: the architecture.
        channels: the input's channels.
        classes: how many classes.
        size: the input's side.
        batch: the training batch size.
        augment: the augmentation the training applies.
        optimizer: the optimiser's name.

    Returns:
        (seconds per training step of ``batch`` images, seconds per image of a forward pass).
    """
    macs = forward_macs(arch, channels, classes, size)
    n = int(min(batch, max(1, PROBE_MACS // max(macs, 1))))
    model = build_model(arch, channels, classes, size, seed=0)
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9) if optimizer == "sgd" else torch.optim.Adam(params, lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, channels, size, size, generator=g), torch.randint(0, classes, (n,), generator=g)

    def step() -> None:  # what fit's loop does per batch, its bookkeeping included
        idx = torch.randperm(n, generator=g)
        xb, yb = x[idx], y[idx]
        xb = augment(xb, g) if augment.active else xb
        logits = model((xb - 0.5) / 0.5)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        float(loss.detach()), float((logits.argmax(1) == yb).sum())

    step()  # not timed: the first step allocates and picks kernels
    times, t0 = [], CLOCK()
    while len(times) < 3 or (CLOCK() - t0 < PROBE_S and len(times) < MAX_STEPS):
        t1 = CLOCK()
        step()
        times.append(CLOCK() - t1)
    # the median step: a moment when other work took the core does not set the estimate
    per_step = statistics.median(times) * batch / n
    model.eval()
    with torch.inference_mode():
        t0 = CLOCK()
        model(x)
        forward = (CLOCK() - t0) / n
    return per_step, forward


def _reference_rate() -> tuple[float, float]:
    """(seconds per training-step MAC, per forward MAC) of a probed mid-size TinyVGG."""
    a = preset("tinyvgg", channels=[32, 32, 64, 64])
    macs = forward_macs(a, 3, 10, 32)
    step, forward = _kept(a, 3, 10, 32, 64, Augment(), "adam")
    return step / (64 * macs), forward / macs


def _kept(arch: dict, channels: int, classes: int, size: int, batch: int, augment: Augment, optimizer: str):
    key = (repr(sorted(arch.items())), channels, classes, size, batch, astuple(augment), optimizer)
    with _LOCK:
        got = _KEPT.get(key)
    if got is None:
        got = probe(arch, channels, classes, size, batch, augment, optimizer)
        with _LOCK:
            if len(_KEPT) >= MAX_KEPT:
                _KEPT.pop(next(iter(_KEPT)))
            _KEPT[key] = got
    return got


def forget() -> None:
    """Drop every kept probe (a test's next estimate measures again)."""
    with _LOCK:
        _KEPT.clear()


def estimate_seconds(arch: dict, ds: ImageDataset, cfg: TrainConfig) -> float:
    """About how long ``fit`` takes here, the last evaluation included.

    Args:
        arch: the architecture.
        ds: the dataset (its split sizes, channels, size, classes).
        cfg: epochs, batch size, optimiser, augmentation.

    Returns:
        Seconds.
    """
    n_train = len(ds.train_idx) or len(ds.y)
    n_val = len(ds.val_idx)
    classes = len(ds.classes)
    macs = forward_macs(arch, ds.channels, classes, ds.size)
    if macs > PROBE_MACS * 2:  # even one image takes about a second to probe: extrapolate
        per_mac_step, per_mac_forward = _reference_rate()
        step, forward = per_mac_step * macs * cfg.batch_size, per_mac_forward * macs
    else:
        step, forward = _kept(arch, ds.channels, classes, ds.size, cfg.batch_size, cfg.augment, cfg.optimizer)
    steps_per_epoch = -(-n_train // cfg.batch_size)
    return cfg.epochs * (steps_per_epoch * step + n_val * forward) + n_val * forward
