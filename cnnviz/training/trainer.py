"""Training in the background for a web page: one :class:`Trainer` per browser session.

The page keeps only a session id and numbers; the model and its tensors stay here, in a
module-level registry. A global semaphore lets ``CNNVIZ_MAX_TRAININGS`` (default 1)
trainings run at once so 30 students cannot starve the server; the rest wait in a queue.
A training stops on its own when the page stops asking for progress (the tab was closed)
and is capped in epochs, so no thread outlives its use.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from cnnviz import memguard
from cnnviz.errors import CnnvizError
from cnnviz.models.small_cnn import build_model
from cnnviz.training.fit import FitResult, TrainConfig, first_filters, fit
from cnnviz.training.imageset import ImageDataset
from cnnviz.training.results import Results, evaluate
from cnnviz.zoo import default_device

MAX_EPOCHS = 100
# The page polls every second while a training runs: a closed tab frees its slot after this.
HEARTBEAT_TIMEOUT = float(os.environ.get("CNNVIZ_TRAIN_HEARTBEAT", 10))  # s without a poll → stop
# The teacher's limit on one training's estimated time (a lesson, not a night).
MAX_MINUTES = float(os.environ.get("CNNVIZ_TRAIN_MAX_MINUTES", 10))
KEEP_FINISHED = 30 * 60  # s a finished trainer is kept after its last poll
_SLOTS = threading.BoundedSemaphore(int(os.environ.get("CNNVIZ_MAX_TRAININGS", 1)))
_REGISTRY: dict[str, Trainer] = {}
_REGISTRY_LOCK = threading.Lock()


@dataclass
class Snapshot:
    """A copy of the progress, safe to read while the thread goes on.

    ``status``: "queued" | "running" | "done" | "stopped" | "error". ``filters``:
    (O, I, k, k) first-layer weights. ``eta``: seconds left (None until measurable).
    """

    status: str
    step: int
    total_steps: int
    seconds: float
    eta: float | None
    history: list[dict]
    filters: np.ndarray
    message: str = ""
    fit: FitResult | None = None
    results: Results | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


@dataclass
class Trainer:
    """Trains ``arch`` on ``ds`` in a daemon thread; ``stop()`` keeps what was learnt."""

    ds: ImageDataset
    arch: dict
    cfg: TrainConfig
    model: nn.Module | None = None
    _status: str = "queued"
    _step: int = 0
    _total: int = 0
    _seconds: float = 0.0
    _history: list[dict] = field(default_factory=list)
    _filters: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1, 1), np.float32))
    _message: str = ""
    _fit: FitResult | None = None
    _results: Results | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_poll: float = field(default_factory=time.monotonic)
    _thread: threading.Thread | None = None

    def start(self) -> Trainer:
        self.check()
        self._thread = threading.Thread(target=self._run, name="cnnviz-train", daemon=True)
        self._thread.start()
        return self

    def check(self) -> None:
        """Refuse, before anything runs, a training too long for a shared lesson."""
        if self.cfg.epochs > MAX_EPOCHS:
            raise CnnvizError(f"At most {MAX_EPOCHS} epochs, please: this server is shared.")
        memguard.check("this training")
        est = estimate_seconds(self.arch, self.ds, self.cfg)
        if est > MAX_MINUTES * 60:
            raise CnnvizError(
                f"This training would take about {est / 60:.0f} minutes here; the limit is {MAX_MINUTES:g}. "
                "Use fewer epochs, smaller images or fewer channels."
            )

    def stop(self) -> None:
        """Ask the loop to stop after the current batch (the model keeps its weights)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _abandoned(self) -> bool:
        return time.monotonic() - self._last_poll > HEARTBEAT_TIMEOUT

    def _should_stop(self) -> bool:
        return self._stop.is_set() or self._abandoned()

    def _progress(self, r: dict) -> None:
        filters = first_filters(self.model)  # a few KB: cheap enough at every point
        with self._lock:
            self._history.append(r["point"])
            self._step, self._total, self._seconds = r["step"], r["total_steps"], r["seconds"]
            self._filters = filters

    def _run(self) -> None:
        # Wait for a free slot, but give up if stopped or abandoned meanwhile.
        while not _SLOTS.acquire(timeout=0.25):
            if self._should_stop():
                with self._lock:
                    self._status, self._message = "stopped", "Stopped before it started."
                return
        try:
            with self._lock:
                self._status = "running"
            device = default_device()
            model = build_model(self.arch, self.ds.channels, len(self.ds.classes), self.ds.size, seed=self.cfg.seed)
            self.model = model
            with self._lock:
                self._filters = first_filters(model)
            result = fit(
                model, self.ds, self.cfg, device=device, on_progress=self._progress, should_stop=self._should_stop
            )
            results = evaluate(model, self.ds, device) if result.epochs_done > 0 else None
            with self._lock:
                self._fit, self._results = result, results
                self._filters = first_filters(model)
                if result.stopped:
                    self._status = "stopped"
                    self._message = (
                        "Stopped: the page was closed."
                        if self._abandoned()
                        else f"Stopped after {result.epochs_done:g} epochs; the model keeps what it learnt."
                    )
                else:
                    self._status = "done"
        except CnnvizError as e:
            with self._lock:
                self._status, self._message = "error", str(e)
        except Exception as e:  # a bug must not kill the server; the page shows one line
            with self._lock:
                self._status, self._message = "error", f"Training failed ({type(e).__name__}: {e})."
        finally:
            _SLOTS.release()

    def snapshot(self) -> Snapshot:
        """The progress so far; also tells the trainer that the page is still open."""
        self._last_poll = time.monotonic()
        with self._lock:
            frac = self._step / self._total if self._total else 0.0
            eta = self._seconds * (1 - frac) / frac if frac > 0 and self._status == "running" else None
            return Snapshot(
                self._status,
                self._step,
                self._total,
                self._seconds,
                eta,
                list(self._history),
                self._filters,
                self._message,
                self._fit,
                self._results,
            )


# ------------------------------------------------------------------ the per-session registry
def _prune(now: float) -> None:
    for key, t in list(_REGISTRY.items()):
        finished = t._status not in ("queued", "running")
        if finished and now - t._last_poll > KEEP_FINISHED:
            del _REGISTRY[key]


_RATE: list[tuple[float, float]] = []  # (seconds per image, seconds per multiply-add), measured once


def _per_image_seconds(arch: dict) -> tuple[float, int]:
    """(seconds per training image, forward multiply-adds per image) for ``arch`` on 32² grey."""
    import torch

    from cnnviz.models.small_cnn import forward_macs

    model = build_model(arch, 1, 10, 32)
    opt = torch.optim.Adam(model.parameters())
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 1, 32, 32, generator=g), torch.randint(0, 10, (64,), generator=g)
    steps, t0 = 0, time.perf_counter()
    while steps < 2 or (time.perf_counter() - t0 < 0.2 and steps < 30):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        steps += 1
    return (time.perf_counter() - t0) / (steps * 64), forward_macs(arch, 1, 10, 32)


def _training_rate() -> tuple[float, float]:
    """A two-point fit of time per image = overhead + multiply-adds × cost, from a few steps
    of a small and a wider TinyVGG here (~0.5 s, once per process)."""
    if not _RATE:
        from cnnviz.models.small_cnn import preset

        t1, m1 = _per_image_seconds(preset("tinyvgg"))
        t2, m2 = _per_image_seconds(preset("tinyvgg", channels=[32, 32, 64, 64]))
        per_mac = max((t2 - t1) / (m2 - m1), 1e-13)
        _RATE.append((max(t1 - m1 * per_mac, 0.0), per_mac))
    return _RATE[0]


def estimate_seconds(arch: dict, ds: ImageDataset, cfg: TrainConfig) -> float:
    """About how long ``cfg.epochs`` over ``ds``'s training images take on this machine,
    from the architecture's multiply-adds and a rate measured here (validation excluded)."""
    from cnnviz.models.small_cnn import forward_macs

    overhead, per_mac = _training_rate()
    macs = forward_macs(arch, ds.channels, len(ds.classes), ds.size)
    n = len(ds.train_idx) or len(ds.y)
    return n * cfg.epochs * (overhead + macs * per_mac)


def start(session: str, ds: ImageDataset, arch: dict, cfg: TrainConfig) -> Trainer:
    """Start training for ``session`` (stopping any training it had running)."""
    t = Trainer(ds, arch, cfg)
    t.check()  # a refused training leaves the session's previous one (and its slot) alone
    with _REGISTRY_LOCK:
        _prune(time.monotonic())
        old = _REGISTRY.get(session)
        if old is not None:
            old.stop()
        _REGISTRY[session] = t
    return t.start()


def get(session: str) -> Trainer | None:
    with _REGISTRY_LOCK:
        return _REGISTRY.get(session)


def forget(session: str) -> None:
    with _REGISTRY_LOCK:
        t = _REGISTRY.pop(session, None)
    if t is not None:
        t.stop()
