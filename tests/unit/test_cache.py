"""cache: the project's shared caches - bounded in bytes, LRU, one computation per key, thread-safe."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnviz.serving import cache
from cnnviz.serving.cache import SharedCache, budget_bytes, freeze, nbytes


# ---------------------------------------------------------------- sizes
@dataclass(frozen=True)
class Result:
    name: str
    map: np.ndarray
    logits: np.ndarray


def test_nbytes_counts_the_data_of_each_kind():
    a = np.zeros((3, 5, 7), np.float32)
    assert nbytes(a) == 3 * 5 * 7 * 4
    assert nbytes(torch.zeros(2, 10, dtype=torch.float64)) == 2 * 10 * 8
    assert nbytes(b"x" * 1000) == 1000
    assert nbytes(Image.new("RGB", (40, 30))) == 40 * 30 * 3
    assert nbytes(Image.new("L", (40, 30))) == 40 * 30
    conv = nn.Conv2d(3, 8, 3)  # 8*3*3*3 weights + 8 biases, float32
    assert nbytes(conv) == (8 * 27 + 8) * 4
    bn = nn.BatchNorm2d(4)  # weight, bias, running mean/var (float32) + num_batches_tracked (int64)
    assert nbytes(bn) == 4 * 4 * 4 + 8
    r = Result("abc", np.ones((4, 4), np.float64), np.ones(10, np.float32))
    assert nbytes(r) == 3 + 16 * 8 + 10 * 4
    # a dict of two names for one array (a capture: a block and its last layer) counts it once
    assert nbytes({"a": a, "b": a}) == a.nbytes + 2
    # a view counts the buffer it keeps alive, once
    assert nbytes([a, a[0], a[1:]]) == a.nbytes
    t = torch.zeros(100)
    assert nbytes([t, t[:10]]) == 400


def test_freeze_makes_shared_arrays_read_only():
    r = freeze({"r": Result("x", np.ones(3), np.ones(2)), "l": [np.zeros(2)]})
    for arr in (r["r"].map, r["r"].logits, r["l"][0]):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 5


def test_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("CNNVIZ_TEST_MB", "1.5")
    assert budget_bytes("CNNVIZ_TEST_MB", 9) == int(1.5 * 1024 * 1024)
    monkeypatch.setenv("CNNVIZ_TEST_MB", "lots")
    with pytest.warns(UserWarning, match="not a positive number"):
        assert budget_bytes("CNNVIZ_TEST_MB", 9) == 9 * 1024 * 1024
    monkeypatch.setenv("CNNVIZ_TEST_MB", "-3")
    with pytest.warns(UserWarning):
        assert budget_bytes("CNNVIZ_TEST_MB", 2) == 2 * 1024 * 1024
    monkeypatch.delenv("CNNVIZ_TEST_MB")
    assert budget_bytes("CNNVIZ_TEST_MB", 3) == 3 * 1024 * 1024


# ---------------------------------------------------------------- bound and eviction
def arr(kb: int) -> np.ndarray:
    return np.zeros(kb * 1024, np.uint8)


def test_the_bound_is_in_bytes_and_eviction_is_least_recently_used():
    c = SharedCache("t", 10 * 1024)
    for k in "abcd":
        c.put(k, arr(3))  # 4 × 3 KB > 10 KB: "a" goes
    assert list(c) == ["b", "c", "d"] and c.bytes == 9 * 1024
    assert c.get("b") is not None  # b is now the most recent
    c.put("e", arr(3))  # evicts c (least recently used), not b
    assert list(c) == ["d", "b", "e"]
    c.put("big", arr(7))  # needs 7 KB: d and b go, e stays (3 + 7 = 10)
    assert list(c) == ["e", "big"] and c.bytes == 10 * 1024
    assert c.stats.evictions == 4
    # many small entries: the byte total never exceeds the budget
    for i in range(100):
        c.put(i, arr(1 + i % 4))
        assert c.bytes <= c.max_bytes
    assert c.bytes == sum(nbytes(c.get(k)) for k in c)


def test_a_value_bigger_than_the_budget_is_returned_but_not_kept():
    c = SharedCache("t", 4 * 1024)
    c.put("small", arr(2))
    got = c.get_or_compute("huge", lambda: arr(5))
    assert got.nbytes == 5 * 1024 and "huge" not in c and "small" in c
    assert c.stats.too_big == 1


def test_replacing_a_key_keeps_the_count_right():
    c = SharedCache("t", 10 * 1024)
    c.put("a", arr(4))
    c.put("a", arr(2))
    assert c.bytes == 2 * 1024 and len(c) == 1


def test_ttl_recomputes_old_entries():
    c = SharedCache("t", 1024, ttl_s=0.05)
    calls = []
    c.get_or_compute("k", lambda: calls.append(1) or 1)
    c.get_or_compute("k", lambda: calls.append(1) or 1)
    assert len(calls) == 1
    time.sleep(0.08)
    c.get_or_compute("k", lambda: calls.append(1) or 1)
    assert len(calls) == 2 and c.bytes == 0  # ints are free


def test_a_failed_computation_is_not_kept():
    c = SharedCache("t", 1024)

    def fail():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        c.get_or_compute("k", fail)
    assert "k" not in c
    assert c.get_or_compute("k", lambda: "ok") == "ok"


# ---------------------------------------------------------------- threads
def test_sixteen_threads_asking_for_one_key_compute_it_once():
    c = SharedCache("t", 1024 * 1024)
    calls = []
    start = threading.Barrier(16)

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.2)  # long enough that every other thread arrives while it runs
        return np.arange(1000)

    def ask(_):
        start.wait()
        return c.get_or_compute(("model", "digest"), compute)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(ask, range(16)))
    assert len(calls) == 1
    assert all(r is results[0] for r in results)  # everyone gets the one result
    assert c.stats.computes == 1 and c.stats.hits == 15


def test_callers_waiting_for_a_value_too_big_to_keep_share_its_one_computation():
    """Issue 23: a value bigger than the budget was returned to its computer only, and each
    waiter computed it again, one after another (VGG-16: three students, three loads)."""
    c = SharedCache("t", 1024)
    calls = []
    start = threading.Barrier(6)

    def compute():
        calls.append(1)
        time.sleep(0.2)
        return arr(5)  # 5 kB: too big for 1 kB

    def ask(_):
        start.wait()
        return c.get_or_compute("big", compute)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(ask, range(6)))
    assert len(calls) == 1 and all(r is results[0] for r in results)
    assert "big" not in c and c.stats.too_big == 1
    c.get_or_compute("big", compute)  # a later caller, after they all left: computed again, not kept
    assert len(calls) == 2 and "big" not in c


def test_make_room_evicts_least_recently_used_for_a_known_size():
    c = SharedCache("t", 10 * 1024)
    for k in "abc":
        c.put(k, arr(3))
    c.get("a")
    c.make_room(5 * 1024)
    assert set(c) == {"a"} and c.bytes == 3 * 1024  # b and c went, a was used last
    c.make_room(20 * 1024)  # more than the budget: everything goes
    assert len(c) == 0


def test_different_keys_compute_in_parallel():
    c = SharedCache("t", 1024 * 1024)
    inside = threading.Barrier(4, timeout=5)  # only passes if all four computations run at once

    def compute():
        inside.wait()
        return 1

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda k: c.get_or_compute(k, compute), range(4))) == [1] * 4


def test_a_computation_may_use_the_cache_itself():
    c = SharedCache("t", 1024 * 1024)
    outer = c.get_or_compute("outer", lambda: c.get_or_compute("inner", lambda: 2) + 1)
    assert outer == 3 and set(c) == {"inner", "outer"}


def test_many_threads_many_keys_stay_consistent():
    c = SharedCache("t", 64 * 1024)
    computed: dict[int, int] = {}
    lock = threading.Lock()

    def compute(k):
        with lock:
            computed[k] = computed.get(k, 0) + 1
        return np.full(1024 * (1 + k % 5), k % 256, np.uint8)

    def work(i):
        k = (i * 7) % 40
        v = c.get_or_compute(k, lambda: compute(k))
        assert v.size == 1024 * (1 + k % 5) and int(v[0]) == k % 256  # never another key's value
        assert c.bytes <= c.max_bytes

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(2000)))
    assert c.bytes == sum(nbytes(c.get(k)) for k in c) <= c.max_bytes
    assert c.stats.computes == sum(computed.values())


def test_the_server_caches_exist_with_their_budgets():
    assert {x.name for x in cache.ALL} == {"models", "captures", "results"}
    assert all(x.max_bytes > 0 for x in cache.ALL)
