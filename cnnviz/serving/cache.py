"""Caches the whole server shares, owned by the project: bounded in bytes, safe under threads.

What 30 students share on one server (loaded models, activation captures, explanations,
predictions, decoded images) lives here rather than in Streamlit's ``st.cache_*``: any
client can empty those with Streamlit's ``clear_cache`` message, and they bound entry
counts, not memory. A :class:`SharedCache` is

* an LRU bounded in **bytes** (:func:`nbytes` sizes arrays, tensors, models with every copy
  they hold, PIL images, dataclasses, dicts...); an entry larger than the whole budget is
  returned to the callers waiting for it, not kept; :meth:`SharedCache.make_room` evicts
  before a computation whose size is known in advance (a model), so that its memory is
  not paid on top of a full cache;
* keyed by content: callers put digests (of the image bytes, of the weights) in the key,
  so a changed file is a new key, never a stale hit;
* computed once per key: a per-key lock makes 30 sessions asking for the same key at the
  same moment wait for one computation instead of running thirty, and all get its result,
  even one too big to keep. Different keys compute in parallel; a failed computation is
  not cached (the next caller tries again).

Budgets come from the environment, in MB (documented in README.md):
``CNNVIZ_MODEL_CACHE_MB`` (loaded models, default 2048), ``CNNVIZ_CAPTURE_CACHE_MB``
(every-layer activation captures, default 400), ``CNNVIZ_CACHE_MB`` (everything else:
predictions, explanations, layer tables, decoded images; default 256).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
import types
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

import numpy as np
import torch
from PIL import Image
from torch import nn

V = TypeVar("V")
MB = 1024 * 1024
_MISSING = object()
# objects whose __dict__ is not data they hold (a class's methods, a module's globals)
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.MethodType, types.BuiltinFunctionType)


# ---------------------------------------------------------------- sizes
def nbytes(obj, _seen: set[int] | None = None) -> int:
    """Bytes held by ``obj``, counting an object reachable twice (two names of one array)
    once. Arrays and tensors count their data (tensors sharing a storage count it once); a
    module its parameters, buffers and any other tensor its modules keep (a conv weight
    packed for oneDNN, cnnviz.models.fast_copy); a PIL image its decoded pixels; containers,
    dataclasses and plain objects their parts."""
    seen: set = set() if _seen is None else _seen
    if id(obj) in seen or obj is None or isinstance(obj, (bool, int, float, complex)):
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        base = obj.base if isinstance(obj.base, np.ndarray) else None
        if base is not None:  # a view: its buffer is counted once, through the base
            return nbytes(base, seen)
        return int(obj.nbytes)
    if isinstance(obj, torch.Tensor):
        if obj.is_mkldnn:  # an opaque oneDNN layout: no storage to ask; its elements (blocked padding aside)
            return obj.numel() * obj.element_size()
        storage = obj.untyped_storage()
        if ("storage", storage.data_ptr()) in seen:  # a view of a tensor already counted
            return 0
        seen.add(("storage", storage.data_ptr()))
        return int(storage.nbytes())
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return len(obj)
    if isinstance(obj, str):
        return len(obj)
    if isinstance(obj, Image.Image):
        w, h = obj.size
        return w * h * max(1, len(obj.getbands())) * (2 if obj.mode in ("I;16", "I;16B") else 1)
    if isinstance(obj, nn.Module):
        held = [v for m in obj.modules() for v in vars(m).values() if isinstance(v, torch.Tensor)]
        return sum(nbytes(t, seen) for t in (*obj.parameters(), *obj.buffers(), *held))
    if isinstance(obj, dict):
        return sum(nbytes(k, seen) + nbytes(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sum(nbytes(v, seen) for v in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sum(nbytes(getattr(obj, f.name), seen) for f in dataclasses.fields(obj))
    if hasattr(obj, "__dict__") and not isinstance(obj, _OPAQUE):  # e.g. zoo.LoadedModel: its module, classes and info
        return sum(nbytes(v, seen) for v in vars(obj).values())
    return sys.getsizeof(obj)


def freeze(obj):
    """Make every numpy array reachable through dicts, lists, tuples and dataclasses
    read-only, so that no session can change what the others are served. Returns ``obj``."""
    if isinstance(obj, np.ndarray):
        obj.flags.writeable = False
    elif isinstance(obj, dict):
        for v in obj.values():
            freeze(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            freeze(v)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            freeze(getattr(obj, f.name))
    return obj


# ---------------------------------------------------------------- the cache
@dataclasses.dataclass
class CacheStats:
    """Counters since start: ``hits``; ``computes`` (misses that ran the computation);
    ``evictions``; ``too_big`` (results larger than the budget, returned but not kept)."""

    hits: int = 0
    computes: int = 0
    evictions: int = 0
    too_big: int = 0


class _InFlight:
    __slots__ = ("lock", "value", "waiters")

    def __init__(self) -> None:
        self.lock = threading.RLock()  # re-entrant: a computation may ask for its own key
        self.waiters = 0
        # The result, for the callers that waited on this computation: a value too big to
        # keep would otherwise be computed again by each of them, one after another.
        self.value = _MISSING


class SharedCache:
    """A thread-safe LRU bounded in bytes, with one computation per key at a time.

    ``max_bytes``: the budget (sum of :func:`nbytes` of the kept values); ``ttl_s``: entries
    older than this are computed again (None: kept until evicted); ``sizer``: how a value
    is measured.
    """

    def __init__(
        self, name: str, max_bytes: int, *, ttl_s: float | None = None, sizer: Callable[[object], int] = nbytes
    ) -> None:
        self.name = name
        self.max_bytes = int(max_bytes)
        self.ttl_s = ttl_s
        self.sizer = sizer
        self.stats = CacheStats()
        self._lock = threading.Lock()  # guards the dicts below; never held while computing
        self._entries: OrderedDict[Hashable, tuple[object, int, float]] = OrderedDict()  # value, size, stamp
        self._bytes = 0
        self._inflight: dict[Hashable, _InFlight] = {}

    # ---- reading
    def _lookup(self, key: Hashable):
        """The kept value (now the most recent) or _MISSING. Caller holds ``_lock``."""
        got = self._entries.get(key)
        if got is None:
            return _MISSING
        value, size, stamp = got
        if self.ttl_s is not None and time.monotonic() - stamp > self.ttl_s:
            del self._entries[key]
            self._bytes -= size
            return _MISSING
        self._entries.move_to_end(key)
        self.stats.hits += 1
        return value

    def get(self, key: Hashable, default=None):
        with self._lock:
            value = self._lookup(key)
        return default if value is _MISSING else value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def bytes(self) -> int:
        """Bytes held by the kept values now (always ≤ max_bytes)."""
        with self._lock:
            return self._bytes

    def __iter__(self) -> Iterator[Hashable]:
        """Kept keys, least recently used first (a snapshot)."""
        with self._lock:
            return iter(list(self._entries))

    # ---- writing
    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` under ``key`` (evicting least recently used entries to fit)."""
        size = int(self.sizer(value))
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                self.stats.too_big += 1
                return value
            self._evict_for(size)
            self._entries[key] = (value, size, time.monotonic())
            self._bytes += size
        return value

    def make_room(self, nbytes: int) -> None:
        """Evict least recently used entries until ``nbytes`` more would fit (all of them
        when ``nbytes`` exceeds the budget). For a computation whose size is known before it
        runs, so that a full cache's entries are let go before its memory is allocated."""
        with self._lock:
            self._evict_for(nbytes)

    def _evict_for(self, nbytes: int) -> None:
        """Drop least recently used entries until ``nbytes`` more fit. Caller holds ``_lock``."""
        while self._entries and self._bytes + nbytes > self.max_bytes:
            _, (_, size, _) = self._entries.popitem(last=False)
            self._bytes -= size
            self.stats.evictions += 1

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value kept under ``key``; otherwise ``compute()``, kept and returned.

        Callers asking for one key at once wait for a single computation and all get its
        result, kept or not (too big). An exception from ``compute`` reaches its caller
        and is not kept (the next waiter tries again).
        """
        with self._lock:
            value = self._lookup(key)
            if value is not _MISSING:
                return value
            flight = self._inflight.setdefault(key, _InFlight())
            flight.waiters += 1
        try:
            with flight.lock:
                if flight.value is not _MISSING:  # computed while we waited (kept or not)
                    with self._lock:
                        self.stats.hits += 1
                    return flight.value
                with self._lock:
                    value = self._lookup(key)  # another thread may have computed it meanwhile
                if value is not _MISSING:
                    return value
                value = compute()
                with self._lock:
                    self.stats.computes += 1
                flight.value = value
                return self.put(key, value)
        finally:
            with self._lock:
                flight.waiters -= 1
                if flight.waiters == 0:
                    del self._inflight[key]

    def clear(self) -> None:
        """Drop every entry (for the project's own maintenance and tests; no client can call it)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0


# ---------------------------------------------------------------- the server's caches
def budget_bytes(env: str, default_mb: float) -> int:
    """``$env`` in MB (a positive number), else ``default_mb``; a bad value is warned about."""
    raw = os.environ.get(env)
    if raw is None or not raw.strip():
        return int(default_mb * MB)
    try:
        mb = float(raw)
        if not mb > 0 or mb == float("inf"):
            raise ValueError
    except ValueError:
        warnings.warn(f"{env}={raw!r} is not a positive number of MB; using {default_mb:g}.", stacklevel=2)
        mb = default_mb
    return int(mb * MB)


MODELS = SharedCache("models", budget_bytes("CNNVIZ_MODEL_CACHE_MB", 2048))
CAPTURES = SharedCache("captures", budget_bytes("CNNVIZ_CAPTURE_CACHE_MB", 400))
RESULTS = SharedCache("results", budget_bytes("CNNVIZ_CACHE_MB", 256))
ALL = (MODELS, CAPTURES, RESULTS)
