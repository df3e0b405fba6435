"""Training in the background for a web page: a :class:`Trainer` runs as a job of the
server's one queue (:mod:`cnnviz.serving.jobs`), so trainings wait, run and stop like every other
long job: one per student at a time, round-robin between students, stopped when the page
is closed, ``CNNVIZ_MAX_JOBS`` at once.

The page keeps only a tab id and numbers; the model and its tensors stay with the Trainer,
which the queue's registry keeps (``job.task``). A training is refused before it is queued
when it would take longer than the teacher allows, and is capped in epochs.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np
from torch import nn

from cnnviz.errors import CnnvizError, Stopped
from cnnviz.i18n import N_, Message, _, ngettext, number
from cnnviz.models.small_cnn import build_model, cost
from cnnviz.models.zoo import default_device
from cnnviz.serving import inflight, jobs, memguard
from cnnviz.training.estimate import estimate_seconds
from cnnviz.training.fit import FitResult, TrainConfig, first_filters, fit
from cnnviz.training.imageset import ImageDataset
from cnnviz.training.results import Results, evaluate

MAX_EPOCHS = 100
# The teacher's limit on one training's estimated time (a lesson, not a night).
MAX_MINUTES = float(os.environ.get("CNNVIZ_TRAIN_MAX_MINUTES", 10))
KIND = "train"  # the queue's kind for trainings (one per tab)
_KEYS = itertools.count()  # every start is a new request: it replaces the tab's last training


def too_long(est: float) -> str:
    """Why a training estimated at ``est`` seconds is refused here, in the reader's language.

    Args:
        est: the training's estimated seconds.

    Returns:
        One translated sentence naming the estimate and the teacher's limit in minutes.
    """
    limit = number(MAX_MINUTES, 0 if float(MAX_MINUTES).is_integer() else 1)
    return _(
        "This training would take about {minutes} minutes here; the limit is {limit}. "
        "Use fewer epochs, smaller images or fewer channels."
    ).format(minutes=f"{est / 60:.0f}", limit=limit)


def _no_filters() -> np.ndarray:
    return np.zeros((0, 1, 1, 1), np.float32)


@dataclass
class Snapshot(jobs.Snapshot):
    """A training's state for its page: the queue's and what it has learnt so far.

    The queue's fields (:class:`cnnviz.serving.job_forecast.Snapshot`) are its status,
    ``done`` of ``total`` steps, ``seconds``, ``eta`` and place in line.

    Attributes:
        history: the curves' points, one dict per point.
        filters: (O, I, k, k) float32 first-layer weights.
        fit: how the fit went; once it has ended with at least one epoch trained.
        results: the evaluation; once it has ended with at least one epoch trained.
    """

    history: list[dict] = field(default_factory=list)
    filters: np.ndarray = field(default_factory=_no_filters)
    fit: FitResult | None = None
    results: Results | None = None


@dataclass(eq=False)
class Trainer:
    """Trains ``arch`` on ``ds``: the work and the page's state of a job of kind :data:`KIND`.

    Args:
        ds: the dataset to train on.
        arch: the architecture (:func:`cnnviz.models.small_cnn.build_model`).
        cfg: epochs, batch size, seed and the other training settings.
        model: the network, once built by :meth:`work`.
        job: its job in the queue; stop it with ``job.stop()``, which keeps what was learnt.
        owner: the student key: whose marker (:mod:`cnnviz.serving.inflight`) it writes while
            it runs.
    """

    ds: ImageDataset
    arch: dict
    cfg: TrainConfig
    model: nn.Module | None = None
    job: jobs.Job | None = None
    owner: str | None = None  # the student key: whose marker (cnnviz.serving.inflight) it writes while it runs
    _history: list[dict] = field(default_factory=list)
    _filters: np.ndarray = field(default_factory=_no_filters)
    _fit: FitResult | None = None
    _results: Results | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self) -> None:
        """Refuse, before anything runs, a training too long for a shared lesson.

        Raises:
            CnnvizError: more than :data:`MAX_EPOCHS` epochs, or an estimate past
                :data:`MAX_MINUTES`.
            ServerBusy: the server is short of memory now
                (:func:`cnnviz.serving.memguard.check`).
        """
        if self.cfg.epochs > MAX_EPOCHS:
            raise CnnvizError(_("At most {n} epochs, please: this server is shared.").format(n=MAX_EPOCHS))
        memguard.check(_("this training"))
        est = estimate_seconds(self.arch, self.ds, self.cfg)
        if est > MAX_MINUTES * 60:
            raise CnnvizError(too_long(est))

    def _progress(self, r: dict, on_progress: Callable[[int, int], None]) -> None:
        filters = first_filters(self.model)  # a few KB: cheap enough at every point
        with self._lock:
            self._history.append(r["point"])
            self._filters = filters
        on_progress(r["step"], r["total_steps"])

    def memory_estimate(self) -> int:
        """Bytes this training may allocate while it runs.

        The weights four times over (the weights, their gradients and Adam's two moments) and
        one batch's activations twice (kept by the forward pass for the backward one, and
        their gradients), in float32.

        Returns:
            The estimate in bytes.
        """
        params, acts = cost(self.arch, self.ds.channels, len(self.ds.classes), self.ds.size)
        return 4 * (4 * params + 2 * self.cfg.batch_size * acts)

    def work(self, on_progress: Callable[[int, int], None], should_stop: Callable[[], bool]) -> None:
        """The job: build, fit and evaluate.

        Its memory is reserved with the guard for as long as it runs, so that work admitted
        meanwhile counts it (it may have waited in the queue since ``check``). While it runs, a
        marker on the shared folder says so: if this process dies, another reports it to the
        owner as interrupted (:mod:`cnnviz.serving.inflight`).

        Args:
            on_progress: called with (steps done, total steps) at each point.
            should_stop: the queue's checkpoint; True stops the fit.

        Raises:
            Stopped: it was stopped; what was learnt (model, curves, results) is kept.
            ServerBusy: the server is short of memory for it now.
        """
        # the job runs in its student's language (jobs.Engine): the marker is read back by them
        what = ngettext("{arch} on {dataset}, {n} epoch", "{arch} on {dataset}, {n} epochs", self.cfg.epochs).format(
            arch=self.arch.get("kind", "CNN"), dataset=self.ds.name, n=self.cfg.epochs
        )
        with memguard.reserve(self.memory_estimate(), _("this training")), inflight.running(self.owner, what):
            self._train(on_progress, should_stop)

    def _train(self, on_progress: Callable[[int, int], None], should_stop: Callable[[], bool]) -> None:
        model = build_model(self.arch, self.ds.channels, len(self.ds.classes), self.ds.size, seed=self.cfg.seed)
        self.model = model
        with self._lock:
            self._filters = first_filters(model)
        device = default_device()
        result = fit(
            model,
            self.ds,
            self.cfg,
            device=device,
            on_progress=lambda r: self._progress(r, on_progress),
            should_stop=should_stop,
        )
        results = evaluate(model, self.ds, device) if result.epochs_done > 0 else None
        with self._lock:
            self._fit, self._results = result, results
            self._filters = first_filters(model)
        if result.stopped:
            done = float(result.epochs_done)
            said = (
                N_("Stopped after {epochs} epoch; the model keeps what it learnt.")
                if done == 1
                else N_("Stopped after {epochs} epochs; the model keeps what it learnt.")
            )
            raise Stopped(Message(said, epochs=done))

    def snapshot(self) -> Snapshot:
        """The job's snapshot with what was learnt so far.

        Also tells the queue that the page is still open.

        Returns:
            Its :class:`Snapshot`.
        """
        js = self.job.snapshot()
        with self._lock:
            learnt = {
                "history": list(self._history),
                "filters": self._filters,
                "fit": self._fit,
                "results": self._results,
            }
        return Snapshot(**{f.name: getattr(js, f.name) for f in fields(js)}, **learnt)


def start(
    session: str,
    ds: ImageDataset,
    arch: dict,
    cfg: TrainConfig,
    *,
    owner: str | None = None,
    alive: Callable[[], bool] | None = None,
    engine: jobs.Engine | None = None,
) -> Trainer:
    """Queue a training for a tab, replacing the tab's previous one.

    Args:
        session: the tab's id.
        ds: the dataset to train on.
        arch: the architecture.
        cfg: the training settings.
        owner: the student it belongs to; None: the tab itself.
        alive: whether the tab's connection is open (:mod:`cnnviz.serving.jobs`).
        engine: the queue; None: the server's.

    Returns:
        The :class:`Trainer`, its job queued.

    Raises:
        CnnvizError: the training is refused (too long, too many epochs); the tab's previous
            training is left alone.
        ServerBusy: the server is short of memory; the previous training is left alone.
    """
    t = Trainer(ds, arch, cfg, owner=owner or session)
    t.check()
    t.job = (engine or jobs.ENGINE).submit(
        owner or session,
        session,
        KIND,
        next(_KEYS),
        t.work,
        estimate=estimate_seconds(arch, ds, cfg),
        alive=alive,
        task=t,
    )
    return t


def get(session: str, engine: jobs.Engine | None = None) -> Trainer | None:
    """Tab ``session``'s latest training.

    Args:
        session: the tab's id.
        engine: the queue; None: the server's.

    Returns:
        The :class:`Trainer` (running, waiting or finished), or None.
    """
    job = (engine or jobs.ENGINE).get(session, KIND)
    return job.task if job is not None else None


def forget(session: str, engine: jobs.Engine | None = None) -> None:
    """Stop tab ``session``'s training and let it go.

    Args:
        session: the tab's id.
        engine: the queue; None: the server's.
    """
    (engine or jobs.ENGINE).forget(session, KIND)
