"""Training: our loop's throughput against a plain PyTorch loop on the same net and data,
and the shipped tinyvgg_mnist recipe's validation accuracy and time on MNIST-5k."""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from bench import Row


def _plain_loop(model, x, y, xv, yv, epochs: int, batch: int, lr: float) -> float:
    """The loop anyone would write: Adam, shuffled batches, cross-entropy, a validation
    pass after each epoch (ours does one too). Returns training images/s."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            float((model(xv).argmax(1) == yv).float().mean())
        model.train()
    return epochs * len(x) / (time.perf_counter() - start)


def run() -> list[Row]:
    from cnnviz.models import small_cnn as arch
    from cnnviz.models.preprocess import Preprocess
    from cnnviz.training import datasets
    from cnnviz.training.fit import TrainConfig, build_and_fit, fit, tensors
    from cnnviz.training.recipes import recipe_for

    ds = datasets.mnist5k()
    a = arch.preset("tinyvgg")
    cfg = TrainConfig(epochs=2)  # no augmentation: the same work as the plain loop
    x, y = tensors(ds, ds.train_idx, torch.device("cpu"))
    xv, yv = tensors(ds, ds.val_idx, torch.device("cpu"))
    norm = Preprocess.from_dict(ds.preprocess()).normalize
    x, xv = norm(x), norm(xv)
    ours, plain = [], []
    for rep in range(3):  # interleaved, so machine noise hits both alike
        torch.manual_seed(rep)
        ours.append(fit(arch.build_model(a, 1, 10, 28), ds, cfg).images_per_second)
        torch.manual_seed(rep)
        plain.append(_plain_loop(arch.build_model(a, 1, 10, 28), x, y, xv, yv, cfg.epochs, cfg.batch_size, cfg.lr))
    o, p = statistics.median(ours), statistics.median(plain)
    rows = [
        Row(
            "training loop throughput (TinyVGG, MNIST-5k)",
            f"{o:,.0f} img/s",
            f"plain loop {p:,.0f} img/s",
            o / p,
            "≥ 0.90",
            o / p >= 0.9,
        )
    ]

    # the `make tinyvgg` recipe: defaults of `train --dataset mnist5k --arch tinyvgg --seed 0`
    _, r = build_and_fit(ds, a, TrainConfig(seed=0, augment=recipe_for("mnist5k").augment))
    rows.append(
        Row(
            "tinyvgg_mnist validation accuracy",
            f"{r.val_accuracy:.2%}",
            "97 % floor",
            r.val_accuracy / 0.97,
            "≥ 1.00",
            r.val_accuracy >= 0.97,
        )
    )
    rows.append(
        Row(
            "tinyvgg_mnist training time (12 epochs)",
            f"{r.seconds:.1f} s",
            "15 s budget",
            r.seconds / 15.0,
            "≤ 1.00",
            r.seconds <= 15.0,
        )
    )
    return rows
