"""Load: a class of 30 students on one server, each uploading a photo and walking
Predict → Feature maps → Grad-CAM, over Streamlit's own websocket protocol.

Phase 1 (a fresh server): each session alone, one after another — the reference result
of every session and the single-user latencies; then 100 reruns of the heaviest page in
one session (memory growth). Phase 2 (another fresh server, so caches are as cold as in
phase 1): the 30 sessions at once, arriving over ``RAMP_S`` seconds like a class told
"now upload your photo". Every session uploads its own photo (a gallery photo with one
pixel changed), so no session is served from another's cache: worst case for the server.

Rows: identical results + errors, p50 / p95 interaction latency against single-user,
the server's peak RSS, RSS growth over 100 reruns. ``CNNVIZ_LOAD_SESSIONS`` (default 30)
and ``CNNVIZ_LOAD_RAMP`` (seconds, default 20) change the class.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from bench import Row
from bench.load_client import AppSession, RunResult

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from browser_helpers import start_server, stop_server  # noqa: E402

N_SESSIONS = int(os.environ.get("CNNVIZ_LOAD_SESSIONS", "30"))
RAMP_S = float(os.environ.get("CNNVIZ_LOAD_RAMP", "20"))
THINK_S = 1.0  # a student looks at each page before clicking on
PAGES = ("Feature maps", "Grad-CAM")  # walked after the upload (those the app has)
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "motorcycle_left", "grace_hopper")
RERUNS = 100
TARGET_RSS_GB = 1.5
TARGET_P95 = 3.0
TARGET_GROWTH = 1.10


def photo(i: int, variant: str = "") -> tuple[str, bytes]:
    """Session i's upload: a gallery photo with one pixel nudged, so its digest (the cache
    key of every result) is its own. PNG, so the nudge survives encoding. A ``variant``
    text chunk gives the same pixels new bytes: a new digest, so nothing is cached yet."""
    from PIL.PngImagePlugin import PngInfo

    from cnnviz.images import load_sample

    name = PHOTOS[i % len(PHOTOS)]
    a = np.asarray(load_sample(name).convert("RGB")).copy()  # (H, W, 3) uint8
    a[0, i % a.shape[1], 0] ^= 1
    buf = io.BytesIO()
    info = PngInfo()
    if variant:
        info.add_text("variant", variant)
    Image.fromarray(a).save(buf, format="PNG", compress_level=1, pnginfo=info)
    return f"{name}_{i}.png", buf.getvalue()


@dataclass
class Walk:
    """One student's walk: the view and latency of each step, and what went wrong."""

    views: dict[str, list] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _step(walk: Walk, s: AppSession, step: str, run: RunResult, t0: float) -> None:
    """Record a step; its pictures are fetched as the page would (part of its latency)."""
    for url in run.media:
        s.fetch(url)
    walk.views[step] = run.view
    walk.seconds[step] = time.perf_counter() - t0
    walk.errors.extend(f"{step}: {e}" for e in run.errors)


def walk(url: str, i: int, pages: list[str], *, delay: float = 0.0, think: float = 0.0, variant: str = "") -> Walk:
    """Open the app, upload photo(i, variant), then visit ``pages``; never raises (errors are kept)."""
    w = Walk()
    name, data = photo(i, variant)
    time.sleep(delay)
    try:
        with AppSession(url, timeout=180) as s:
            s.open()
            time.sleep(think)
            s.choose("image_source", "Upload")
            t = time.perf_counter()
            _step(w, s, "upload", s.upload("image_upload", name, data, "image/png"), t)
            for p in pages:
                time.sleep(think)
                t = time.perf_counter()
                _step(w, s, p, s.switch_page(p), t)
    except Exception as e:  # a failed session is a result of the benchmark, not its end
        w.errors.append(f"{type(e).__name__}: {e}")
    return w


class RssSampler:
    """Peak resident memory of a process, sampled every 0.2 s from /proc (and VmHWM)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def rss(self, field_name: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> RssSampler:
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.rss("VmHWM"))


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q)) if xs else float("nan")


def _log(msg: str) -> None:
    print(f"  [load] {msg}", file=sys.stderr, flush=True)


def memory_growth(url: str, pid: int, page: str) -> tuple[int, int]:
    """RSS of the server before and after RERUNS reruns of ``page`` in one session."""
    sampler = RssSampler(pid)
    with AppSession(url, timeout=180) as s:
        s.open()
        s.choose("image_source", "Upload")
        s.upload("image_upload", *photo(0), "image/png")
        s.switch_page(page)
        for _ in range(10):  # warm: caches filled, allocator settled
            s.rerun()
        before = sampler.rss()
        for _ in range(RERUNS):
            r = s.rerun()
            if r.errors:
                raise RuntimeError(f"rerun of {page} failed: {r.errors}")
        after = sampler.rss()
    return before, after


def run() -> list[Row]:
    env = {"CNNVIZ_USER_MODELS": tempfile.mkdtemp(prefix="cnnviz_bench_models_")}
    # --- phase 1: every session alone ---------------------------------------------------
    proc, url = start_server(env)
    try:
        probe = AppSession(url, timeout=180)
        probe.open()  # loads the model, like the teacher's first visit
        pages = [p for p in PAGES if p in probe.pages]
        probe.close()
        _log(f"pages walked: upload on Predict → {' → '.join(pages)}")
        alone: list[Walk] = []
        for i in range(N_SESSIONS):
            alone.append(walk(url, i, pages))
        _log(f"{N_SESSIONS} lone sessions done")
        steps = ["upload", *pages]
        lone_s = {st: statistics.median(w.seconds[st] for w in alone if st in w.seconds) for st in steps}
        heaviest = max(pages or ["upload"], key=lone_s.get)
        heaviest_page = "Predict" if heaviest == "upload" else heaviest
        before, after = memory_growth(url, proc.pid, heaviest_page)
        _log(f"memory: {before / 2**20:.0f} → {after / 2**20:.0f} MB over {RERUNS} reruns of {heaviest_page}")
    finally:
        stop_server(proc)

    # --- phase 2: the class at once ---------------------------------------------------
    proc, url = start_server(env)
    try:
        warm = AppSession(url, timeout=180)
        warm.open()  # the model is loaded before the class arrives, as in phase 1
        warm.close()
        rng = random.Random(7)
        delays = sorted(rng.uniform(0, RAMP_S) for _ in range(N_SESSIONS))
        with RssSampler(proc.pid) as rss, ThreadPoolExecutor(N_SESSIONS) as pool:
            t = time.perf_counter()
            together = list(pool.map(lambda i: walk(url, i, pages, delay=delays[i], think=THINK_S), range(N_SESSIONS)))
            wall = time.perf_counter() - t
        _log(f"{N_SESSIONS} sessions together in {wall:.0f} s")
    finally:
        stop_server(proc)

    # --- compare ------------------------------------------------------------------------
    errors = [e for w in alone + together for e in w.errors]
    same = sum(1 for a, b in zip(alone, together, strict=True) if not a.errors and not b.errors and a.views == b.views)
    for e in errors[:5]:
        _log(f"error: {e}")
    single = [s for w in alone for s in w.seconds.values()]
    crowd = [s for w in together for s in w.seconds.values()]
    p50_1, p95_1, p50_n, p95_n = _pct(single, 50), _pct(single, 95), _pct(crowd, 50), _pct(crowd, 95)
    gb = rss.peak / 2**30
    walk_txt = " → ".join(["upload", *pages])
    return [
        Row(
            f"load: {N_SESSIONS} sessions ({walk_txt}), result = lone session's",
            f"{same}/{N_SESSIONS} identical, {len(errors)} errors",
            "each session alone",
            same / N_SESSIONS,
            "= 1.00, 0 errors",
            same == N_SESSIONS and not errors,
        ),
        Row(
            f"load: p50 interaction, {N_SESSIONS} sessions over {RAMP_S:.0f} s vs alone",
            f"{p50_n * 1000:.0f} ms",
            f"{p50_1 * 1000:.0f} ms",
            p50_n / p50_1,
            "report (issue sets p95)",
            True,
        ),
        Row(
            f"load: p95 interaction, {N_SESSIONS} sessions over {RAMP_S:.0f} s vs alone",
            f"{p95_n * 1000:.0f} ms",
            f"{p95_1 * 1000:.0f} ms",
            p95_n / p95_1,
            f"≤ {TARGET_P95:.0f}x",
            p95_n <= TARGET_P95 * p95_1,
        ),
        Row(
            f"load: server peak RSS, {N_SESSIONS} sessions",
            f"{gb:.2f} GB",
            f"{TARGET_RSS_GB} GB budget",
            gb / TARGET_RSS_GB,
            "≤ 1.00x",
            gb <= TARGET_RSS_GB,
        ),
        Row(
            f"memory: {RERUNS} reruns of {heaviest_page}, RSS after / before",
            f"{after / 2**20:.0f} MB",
            f"{before / 2**20:.0f} MB",
            after / before,
            f"≤ {TARGET_GROWTH:.2f}x",
            after <= TARGET_GROWTH * before,
        ),
    ]
