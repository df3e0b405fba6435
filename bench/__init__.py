"""Benchmarks: ``python -m bench`` runs every ``bench/bench_*.py`` and prints one table.

Each module exposes ``run() -> list[Row]``. A row compares a measurement with a floor or
a peer measured in the same run, so the ratio means something on a shared, noisy machine.
``python -m bench`` exits 1 when any row misses its target. Every target can be moved with
an environment variable (:func:`target`), e.g. ``CNNVIZ_TARGET_CAPTURE=0.5`` makes the
capture rows miss: that is how the exit status is checked.
"""

from __future__ import annotations

import os
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


def target(name: str, default: float) -> float:
    """A row's target ratio: ``default``, or the value of ``CNNVIZ_TARGET_<NAME>``."""
    return float(os.environ.get(f"CNNVIZ_TARGET_{name.upper()}", default))


def spread(xs: list[float]) -> str:
    """``median [min–max]`` of repeated ratios, for a row's text."""
    return f"{statistics.median(xs):.2f} [{min(xs):.2f}–{max(xs):.2f}]"


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


def paired(
    fns: dict[str, Callable[[], object]],
    *,
    repeat: int = 41,
    warmup: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Run ``fns`` interleaved ``repeat`` times, the order rotating each round.

    Returns (median seconds per function, per-round times per function). Ratios taken
    round by round (:func:`ratios`) compare runs made within milliseconds of each other,
    so another process that slows the machine for a while slows both sides of a pair.
    ``clock``: ``time.thread_time`` measures the work of functions that run on the
    calling thread only (torch with one thread): waiting for a core then counts for neither.
    """
    names = list(fns)
    for _ in range(warmup):
        for f in fns.values():
            f()
    times: dict[str, list[float]] = {k: [] for k in names}
    for r in range(repeat):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            t = clock()
            fns[k]()
            times[k].append(clock() - t)
    return {k: statistics.median(v) for k, v in times.items()}, times


def ratios(times: dict[str, list[float]], num: str, den: str) -> list[float]:
    """Round-by-round ``num / den`` of :func:`paired`'s times."""
    return [a / b for a, b in zip(times[num], times[den], strict=True)]
