"""Profile: where one student's interactions spend the server's time.

One server, run under :mod:`bench.sampler` (a sampling profiler in the server process);
``CNNVIZ_PROFILE_WALKS`` (default 6) students, one after another, each walk upload on
Predict → Feature maps → Grad-CAM (the load bench's walk, its own photo each). Per step:
the server's CPU time (``/proc``, every thread), the latency, the bytes sent to the
browser, and the shares of the sampled busy time by category (decode, forward/capture,
Grad-CAM, rendering, picture encoding, Streamlit's own work, the model's lock...).

The table is printed; the row compares the server's CPU per interaction with the CPU of
one plain forward of the same model measured in this process in the same run (a floor
that moves with the machine), against that ratio recorded before issue 17's work
(``BASELINE_CPU_PER_FORWARD``): the target is half of it.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from bench import Row
from bench.bench_load import PAGES, Walk, _log, walk
from bench.load_client import AppSession
from testing.browser import start_server, stop_server

N_WALKS = int(os.environ.get("CNNVIZ_PROFILE_WALKS", "6"))
# Server CPU per interaction / CPU of one plain EfficientNet-Lite0 forward, measured by
# this bench on main before the issue-17 changes (see docs/PERFORMANCE.md, "Server time
# per interaction"). The lone-session target is half of it.
BASELINE_CPU_PER_FORWARD = float(os.environ.get("CNNVIZ_PROFILE_BASELINE", "43.0"))
TARGET_FRACTION = float(os.environ.get("CNNVIZ_PROFILE_TARGET", "0.5"))


def forward_cpu() -> float:
    """Process CPU seconds of one plain EfficientNet-Lite0 forward at 224² (median of 15),
    on one thread: a two-thread op's CPU time swells with the spinning of its waiting half
    on a loaded machine, a single thread's does not."""
    from cnnviz.models.zoo import load_model

    lm = load_model("efficientnet_lite0", "pretrained", device="cpu")
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    times = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with lm.use() as model, torch.inference_mode():
            for i in range(18):
                t = time.process_time()
                model(x)
                if i >= 3:
                    times.append(time.process_time() - t)
    finally:
        torch.set_num_threads(threads)
    return statistics.median(times)


def _samples(path: Path) -> list[tuple[float, float, str]]:
    """(time, cpu seconds, category) of every sample the server's sampler wrote."""
    out = []
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            out.append((float(parts[0]), float(parts[1]), parts[2]))
    return out


NATIVE = "torch intra-op threads (not sampled)"


def profile_table(walks: list[Walk], samples: list[tuple[float, float, str]]) -> tuple[str, dict[str, float]]:
    """The printed table (categories × steps: mean CPU ms per interaction and its share)
    and the mean server CPU ms per step (all threads, from /proc)."""
    steps = list(walks[0].spans)
    booked: dict[str, Counter] = {st: Counter() for st in steps}
    for w in walks:
        for st, (a, b) in w.spans.items():
            for t, cpu, cat in samples:
                if a <= t <= b:
                    booked[st][cat] += cpu * 1000 / len(walks)
    cpu = {st: 1000 * statistics.mean(w.cpu[st] for w in walks) for st in steps}
    for st in steps:  # CPU of threads without Python frames: what /proc saw minus what was booked
        booked[st][NATIVE] = max(0.0, cpu[st] - sum(booked[st].values()))
    lat = {st: 1000 * statistics.median(w.seconds[st] for w in walks) for st in steps}
    kb = {st: statistics.mean(w.bytes[st] for w in walks) / 1024 for st in steps}
    total = Counter()
    for c in booked.values():
        total.update(c)
    head = [f"per interaction (mean of {len(walks)} walks)", *steps, "all"]
    rows = [
        ["server CPU, /proc (ms)", *(f"{cpu[s]:.0f}" for s in steps), f"{sum(cpu.values()):.0f}"],
        ["latency, median (ms)", *(f"{lat[s]:.0f}" for s in steps), f"{sum(lat.values()):.0f}"],
        ["sent to the browser (kB)", *(f"{kb[s]:.0f}" for s in steps), f"{sum(kb.values()):.0f}"],
    ]
    for cat, ms_all in total.most_common():
        cells = []
        for s in steps:
            ms = booked[s][cat]
            cells.append(f"{ms:5.0f}ms {ms / (sum(booked[s].values()) or 1):4.0%}" if ms >= 0.5 else "-")
        cells.append(f"{ms_all:5.0f}ms {ms_all / (sum(total.values()) or 1):4.0%}")
        rows.append([cat, *cells])
    table = [head, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = []
    for i, r in enumerate(table):
        lines.append(
            "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
        if i in (0, 3):
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines), cpu


def run() -> list[Row]:
    env = {"CNNVIZ_USER_MODELS": tempfile.mkdtemp(prefix="cnnviz_bench_models_")}
    out = Path(tempfile.mkdtemp(prefix="cnnviz_profile_")) / "samples.tsv"
    proc, url = start_server(env, launcher=[sys.executable, "-m", "bench.sampler", str(out)])
    try:
        s = AppSession(url, timeout=180)
        s.open()  # loads the model, like the teacher's first visit
        pages = [p for p in PAGES if p in s.pages]
        s.close()
        walks = [walk(url, i, pages, pid=proc.pid) for i in range(N_WALKS)]
        time.sleep(0.6)  # the sampler flushes every quarter second
    finally:
        stop_server(proc)
    errors = [e for w in walks for e in w.errors]
    if errors:
        raise RuntimeError(f"profile walk failed: {errors[:3]}")
    table, cpu = profile_table(walks, _samples(out))
    _log(f"{N_WALKS} lone walks profiled")
    print(table, flush=True)
    print(flush=True)
    per_interaction = statistics.mean(cpu.values()) / 1000
    floor = forward_cpu()
    ratio = per_interaction / floor
    if BASELINE_CPU_PER_FORWARD is None:
        return [
            Row(
                "profile: server CPU per interaction (lone) / plain forward",
                f"{per_interaction * 1000:.0f} ms",
                f"forward {floor * 1000:.1f} ms CPU",
                ratio,
                "report (no baseline)",
                True,
            )
        ]
    goal = TARGET_FRACTION * BASELINE_CPU_PER_FORWARD
    return [
        Row(
            f"profile: server CPU per interaction (lone), in forwards, vs before ({BASELINE_CPU_PER_FORWARD:.1f})",
            f"{per_interaction * 1000:.0f} ms = {ratio:.1f} fwd",
            f"forward {floor * 1000:.1f} ms CPU",
            ratio / BASELINE_CPU_PER_FORWARD,
            f"≤ {TARGET_FRACTION:.2f}x",
            ratio <= goal,
        )
    ]
