"""The training loop: mini-batches, Adam or SGD, a cosine learning-rate schedule, and
progress reports (loss/accuracy points, first-layer filters) a page can draw while it runs.

``fit`` is plain PyTorch on tensors prepared once (the whole dataset fits in memory), so
it runs as fast as a hand-written loop; it stops early, keeping what it learnt, as soon
as ``should_stop()`` says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.errors import DatasetError
from cnnviz.models.preprocess import Preprocess
from cnnviz.models.small_cnn import Dropout, build_model
from cnnviz.training.augment import Augment
from cnnviz.training.imageset import ImageDataset


@dataclass(frozen=True)
class TrainConfig:
    """How to train. The defaults reach ≥ 97 % on MNIST-5k with the TinyVGG preset."""

    epochs: int = 12
    batch_size: int = 64
    lr: float = 3e-3  # Adam's step size at the start; a cosine schedule takes it to 0
    optimizer: str = "adam"  # "adam" | "sgd" (momentum 0.9)
    weight_decay: float = 0.0
    seed: int = 0  # initial weights and batch order
    augment: Augment = field(default_factory=Augment)
    points_per_epoch: int = 8  # training-curve points reported per epoch


@dataclass
class FitResult:
    """What came out: ``history`` points are dicts with ``epoch`` (fractional for the
    training points) and ``train_loss``/``train_acc`` or ``val_loss``/``val_acc``."""

    history: list[dict]
    epochs_done: float
    seconds: float
    images_per_second: float
    stopped: bool
    val_loss: float
    val_accuracy: float


def tensors(ds: ImageDataset, idx: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, S, S) float32 in 0..1 and (N,) int64 labels of the images ``idx``, on ``device``."""
    x = torch.from_numpy(ds.x[idx]).to(device=device, dtype=torch.float32).div_(255.0)
    return x, torch.from_numpy(ds.y[idx]).to(device)


@torch.no_grad()
def predict_batches(model: nn.Module, x: torch.Tensor, norm: Callable, batch: int = 512) -> torch.Tensor:
    """(N, K) softmax probabilities of ``x`` in 0..1, in eval mode (restored after)."""
    was = model.training
    model.eval()
    try:
        return torch.cat([F.softmax(model(norm(x[i : i + batch])), 1) for i in range(0, len(x), batch)])
    finally:
        model.train(was)


def first_filters(model: nn.Module) -> np.ndarray:
    """(O, I, k, k) float32 weights of the first conv layer (for the live filter picture)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.weight.detach().float().cpu().numpy().copy()
    return np.zeros((0, 1, 1, 1), np.float32)


def fit(
    model: nn.Module,
    ds: ImageDataset,
    cfg: TrainConfig,
    *,
    device: torch.device | str = "cpu",
    on_progress: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FitResult:
    """Train ``model`` in place on ``ds``'s training split; validate after every epoch.

    ``on_progress(report)`` gets ``{"step", "total_steps", "epoch", "seconds", "point"}``
    after every logged point (``point`` is the history entry just added). A stop request
    is honoured between batches; a half-finished epoch is then validated once more so the
    result describes the model as it is.
    """
    device = torch.device(device)
    if len(ds.train_idx) == 0 or len(ds.val_idx) == 0:
        raise DatasetError("The dataset has no training/validation split; load it through cnnviz.training.datasets.")
    # The run's own generator: batch order, augmentation and dropout masks. Never the
    # process-wide one, which other sessions' requests share.
    gen = torch.Generator().manual_seed(cfg.seed)
    dropouts = [m for m in model.modules() if isinstance(m, Dropout)]
    for m in dropouts:
        m.generator = gen
    try:
        return _train(model, ds, cfg, gen, device, on_progress, should_stop)
    finally:
        for m in dropouts:
            m.generator = None


def _train(
    model: nn.Module,
    ds: ImageDataset,
    cfg: TrainConfig,
    gen: torch.Generator,
    device: torch.device,
    on_progress: Callable[[dict], None] | None,
    should_stop: Callable[[], bool] | None,
) -> FitResult:
    norm = Preprocess.from_dict(ds.preprocess()).normalize
    xtr, ytr = tensors(ds, ds.train_idx, device)
    xva, yva = tensors(ds, ds.val_idx, device)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(xtr)
    steps_per_epoch = (n + cfg.batch_size - 1) // cfg.batch_size
    total = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + np.cos(np.pi * min(s, total) / total)))
    log_every = max(1, steps_per_epoch // max(1, cfg.points_per_epoch))
    history: list[dict] = []
    step, seen, stopped = 0, 0, False
    run_loss = run_correct = run_n = 0.0
    start = time.perf_counter()

    def report(point: dict) -> None:
        history.append(point)
        if on_progress is not None:
            on_progress(
                {
                    "step": step,
                    "total_steps": total,
                    "epoch": point["epoch"],
                    "seconds": time.perf_counter() - start,
                    "point": point,
                }
            )

    def validate(epoch: float) -> tuple[float, float]:
        probs = predict_batches(model, xva, norm)
        loss = float(F.nll_loss(probs.clamp_min(1e-12).log(), yva))
        acc = float((probs.argmax(1) == yva).float().mean())
        report({"epoch": round(epoch, 3), "val_loss": loss, "val_acc": acc})
        return loss, acc

    val_loss, val_acc = float("nan"), float("nan")
    for epoch in range(cfg.epochs):
        order = torch.randperm(n, generator=gen).to(device)
        for b in range(steps_per_epoch):
            if should_stop is not None and should_stop():
                stopped = True
                break
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            xb, yb = xtr[idx], ytr[idx]
            if cfg.augment.active:
                xb = cfg.augment(xb, gen)
            logits = model(norm(xb))
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            seen += len(idx)
            # .item() syncs with the device; only every few steps costs nothing noticeable.
            run_loss += float(loss.detach()) * len(idx)
            run_correct += float((logits.argmax(1) == yb).sum())
            run_n += len(idx)
            if step % log_every == 0 or b == steps_per_epoch - 1:
                report(
                    {
                        "epoch": round(epoch + (b + 1) / steps_per_epoch, 3),
                        "train_loss": run_loss / run_n,
                        "train_acc": run_correct / run_n,
                    }
                )
                run_loss = run_correct = run_n = 0.0
        if stopped:
            if step > 0 and epoch + b / steps_per_epoch > 0:
                val_loss, val_acc = validate(epoch + b / steps_per_epoch)
            break
        val_loss, val_acc = validate(epoch + 1)
    seconds = time.perf_counter() - start
    model.eval()
    return FitResult(
        history, round(step / steps_per_epoch, 3), seconds, seen / max(seconds, 1e-9), stopped, val_loss, val_acc
    )


def build_and_fit(ds: ImageDataset, arch: dict, cfg: TrainConfig, **kwargs) -> tuple[nn.Module, FitResult]:
    """Build ``arch`` for ``ds`` with seed ``cfg.seed`` and train it: (model in eval mode, result)."""
    model = build_model(arch, in_channels=ds.channels, num_classes=len(ds.classes), size=ds.size, seed=cfg.seed)
    return model, fit(model, ds, cfg, **kwargs)
