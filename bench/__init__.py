"""Benchmarks: ``python -m bench`` runs every ``bench/bench_*.py`` and prints one table.

Each module exposes ``run() -> list[Row]``. A row compares a measurement with a floor or
a peer measured in the same run, so the ratio means something on a shared, noisy machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """``ratio`` = ours / reference (or reference / ours when ``higher_is_better``);
    ``target`` is the goal for that ratio, e.g. ≤ 1.15 or ≥ 15."""

    name: str
    ours: str
    reference: str
    ratio: float
    target: str
    ok: bool


def timeit(fn: Callable[[], object], *, repeat: int = 15, warmup: int = 3) -> float:
    """Median seconds of ``fn()`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def interleaved(fns: dict[str, Callable[[], object]], *, repeat: int = 15, warmup: int = 3) -> dict[str, float]:
    """Median seconds of each function, runs interleaved so machine noise hits all alike."""
    for _ in range(warmup):
        for f in fns.values():
            f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
