"""Lessons (issue 24): a class follows the teacher, who moves every 5 s, while the usual load
walk (bench/bench_load.py: upload → Feature maps → Grad-CAM) runs in other sessions.

One fresh server with a class store of its own (``CNNVIZ_CLASSES``). In order:

1. alone: ``N_ALONE`` walks one after another (photos of their own): the reference latency;
2. floor: the teacher moves the class every ``MOVE_S`` for ``QUIET_S`` s, nobody following:
   the server's CPU per second;
3. idle class: ``N_FOLLOWERS`` protocol clients open ``?class=CODE`` and follow for
   ``QUIET_S`` s while the teacher stays on a step: what polls and heartbeats cost;
4. quiet class: the teacher moves every ``MOVE_S`` for ``QUIET_S`` s; the server's CPU per
   second less the floor, over the followers, is what one follower costs (its polls,
   heartbeats and the page run of each new step);
5. busy class: they go on following while ``N_SESSIONS`` students arrive over ``RAMP_S`` s
   and walk.

The teacher is the class store itself (``ClassStore.move`` on the server's file: what the
teacher's Next button calls). Propagation runs from that call's return to the end of the
follower's page run that draws the new step in its bar with the step's whole view in its
URL; a move a follower never
showed before the next one counts as infinitely late. A follower does what a browser tab
does: it takes the runs the server pushes (``AppSession.listen``: the class watcher's reruns)
and runs each ``st.fragment(run_every=...)`` when its timer is due (``AppSession.poll``, every
``lesson_follow.poll_every()``: the slow fallback when pushes work).
``CNNVIZ_LESSON_RUNS`` (default 3) runs, each on a fresh server, give every row as their
median (and spread), as bench load's ratios: one run's walkers' p95 over six lone walks
spread from 1.1x to 3.5x between runs of the same code on a quiet machine.
``CNNVIZ_LESSON_FOLLOWERS`` (default 30), ``CNNVIZ_LESSON_QUIET_S`` (default 30) and bench
load's ``CNNVIZ_LOAD_SESSIONS`` / ``CNNVIZ_LOAD_RAMP`` change the sizes (smaller: a cheaper
check, not the target's measurement). The class is served as a teacher serves one, by
``make serve-lan``'s two app processes forked from one launcher (follower and walker i on
process i mod N, the lone walks on the first; CPU summed over the processes);
``CNNVIZ_LOAD_PROCESSES`` sets another number (1: ``make run``'s single process).
"""

from __future__ import annotations

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
from urllib.parse import parse_qsl

import numpy as np

from bench import Row, spread, target
from bench.bench_load import N_SESSIONS, RAMP_S, TARGET_P95, THINK_S, _pages, server_cpu, walk
from bench.load_client import AppSession, RunResult
from cnnviz.lessons.format import Lesson, shipped_lessons
from cnnviz.lessons.store import ClassStore
from cnnviz.ui.lesson_follow import FALLBACK_S
from testing.browser import start_preforked, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]

N_FOLLOWERS = int(os.environ.get("CNNVIZ_LESSON_FOLLOWERS", "30"))
N_PROCESSES = max(1, int(os.environ.get("CNNVIZ_LOAD_PROCESSES", "2")))  # serve/serve_lan.sh's default
QUIET_S = float(os.environ.get("CNNVIZ_LESSON_QUIET_S", "30"))
# runs (each a fresh server): every row is their median, as bench load's ratios
N_RUNS = max(1, int(os.environ.get("CNNVIZ_LESSON_RUNS", "3")))
N_ALONE = min(6, N_SESSIONS)  # one lone walk per photo of the load walk
MOVE_S = 5.0
EVERY_S = FALLBACK_S  # the followers' fragment timer: the server runs this Streamlit, which it can push to
LESSON = "Inside a CNN, from the input to the classes"  # 8 steps over 7 pages
TEACHER = "bench-teacher-" + "0" * 18
TARGET_PROPAGATION_S = 2.0
_ON = f" on {N_PROCESSES} processes" if N_PROCESSES > 1 else ""


@dataclass
class Move:
    number: int
    step: int
    at: float  # time.monotonic() when ClassStore.move returned


@dataclass
class Follower:
    """One follower: when each move's view showed (move number -> monotonic time), errors."""

    shown: dict[int, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class Teacher:
    """Moves the class to the next step every MOVE_S seconds (after the last, the first)."""

    def __init__(self, store: ClassStore, code: str, lesson: Lesson):
        self.store, self.code, self.lesson = store, code, lesson
        self.moves: list[Move] = []
        self.moving = threading.Event()  # cleared: the teacher talks, the class stays on its step
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        step = 0
        while not self._stop.wait(MOVE_S):
            if not self.moving.is_set():
                continue
            step = (step + 1) % len(self.lesson.steps)
            self.store.move(self.code, TEACHER, step)
            self.moves.append(Move(len(self.moves), step, time.monotonic()))

    def start(self) -> Teacher:
        self._t.start()
        return self

    def stop(self) -> None:
        self.moving.set()
        self._stop.set()
        self._t.join()


def _names_step(run: RunResult | None, lesson: Lesson, move: Move) -> bool:
    """Whether ``run`` drew the follower's bar at ``move``'s step. Without it, a step whose
    parameters the previous step's URL already held (Predict after the same photo's Network
    view) counted as shown at the first run after the move, whatever that run drew."""
    line = f"step {move.step + 1} of {len(lesson.steps)}: {lesson.steps[move.step].title}"
    return run is not None and any(line in content for _, content in run.view)


def _showing(s: AppSession, lesson: Lesson, move: Move) -> bool:
    """Whether the session's URL holds the whole view of ``move``'s step."""
    query = dict(parse_qsl(s.query_string))
    return all(query.get(k) == v for k, v in lesson.steps[move.step].view.params.items())


def follow(url: str, code: str, teacher: Teacher, stop: threading.Event, delay: float = 0.0) -> Follower:
    """A student who opened the class's link: poll as the browser would until ``stop``."""
    f = Follower()
    time.sleep(delay)
    try:
        with AppSession(url, timeout=180) as s:
            f.errors += s.open(query=f"class={code}").errors
            due = time.monotonic() + EVERY_S
            while not stop.is_set():
                if not s.fragments:
                    f.errors.append("the page has no polling fragment: not following")
                    break
                run = s.listen(min(0.25, due - time.monotonic()))  # short: ``stop`` is seen soon
                if run is None and time.monotonic() >= due:
                    run = s.poll()
                    due = time.monotonic() + EVERY_S
                f.errors += run.errors if run else []
                if teacher.moves:
                    last = teacher.moves[-1]
                    seen = _names_step(run, teacher.lesson, last) and _showing(s, teacher.lesson, last)
                    if last.number not in f.shown and seen:
                        f.shown[last.number] = time.monotonic()
    except Exception as e:  # a failed follower is a result of the benchmark, not its end
        f.errors.append(f"{type(e).__name__}: {e}")
    return f


def propagation(followers: list[Follower], moves: list[Move]) -> list[float]:
    """Seconds from each move to each follower showing it (inf: never shown)."""
    return [f.shown[m.number] - m.at if m.number in f.shown else float("inf") for m in moves for f in followers]


def _p(xs: list[float], q: float) -> float:
    """The q-th percentile, one of ``xs`` (no interpolation: a missed move, inf, stays inf)."""
    return float(np.percentile(xs, q, method="inverted_cdf")) if xs else float("nan")


def _log(msg: str) -> None:
    print(f"  [lessons] {msg}", file=sys.stderr, flush=True)


@dataclass
class LessonRun:
    alone: list  # bench_load.Walk of the lone sessions
    busy: list  # ... of the class's walking sessions
    quiet_delays: list[float]
    busy_delays: list[float]
    cpu_floor: float  # server CPU seconds per second, nobody following
    cpu_idle: float  # ... with N_FOLLOWERS following a teacher who does not move
    cpu_quiet: float  # ... with N_FOLLOWERS following, the teacher moving every MOVE_S
    counted: int  # followers the store counted at the end
    errors: list[str]
    busy_moves: list[float] = field(default_factory=list)  # monotonic times of the moves during the walk
    own_cpu: list[tuple[float, float]] = field(default_factory=list)  # (monotonic, the bench's CPU s), the walk


def _cpu(pids: list[int]) -> float:
    return sum(server_cpu(pid) for pid in pids)


def _cpu_per_s(pids: list[int], seconds: float) -> float:
    c, t = _cpu(pids), time.monotonic()
    time.sleep(seconds)
    return (_cpu(pids) - c) / (time.monotonic() - t)


def lesson_run() -> LessonRun:
    classes = Path(tempfile.mkdtemp(prefix="cnnviz_bench_classes_")) / "classes.sqlite3"
    env = {
        "CNNVIZ_CLASSES": str(classes),
        "CNNVIZ_USER_MODELS": tempfile.mkdtemp(prefix="cnnviz_bench_models_"),
        "CNNVIZ_UPLOADS": tempfile.mkdtemp(prefix="cnnviz_bench_uploads_"),
        "CNNVIZ_SHARED_IMAGES": tempfile.mkdtemp(prefix="cnnviz_bench_images_"),
        "CNNVIZ_DISK_CACHE": tempfile.mkdtemp(prefix="cnnviz_bench_cache_"),
    }
    lesson = shipped_lessons()[LESSON]
    if N_PROCESSES == 1:
        proc, url = start_server(env)
        pids, urls = [proc.pid], [url]
    else:  # as serve/serve_lan.sh serves a class (bench load's CNNVIZ_LOAD_PROCESSES)
        proc, served = start_preforked(env, N_PROCESSES)
        pids, urls = [pid for pid, _ in served], [url for _, url in served]
    try:
        pages = [_pages(url) for url in urls][0]  # the model loads before anyone arrives
        alone = [walk(urls[0], i, pages, variant="alone") for i in range(N_ALONE)]
        _log(f"{N_ALONE} lone walks done")
        store = ClassStore(classes)
        code = store.open_class(lesson, TEACHER)
        teacher = Teacher(store, code, lesson).start()
        teacher.moving.set()
        floor = _cpu_per_s(pids, QUIET_S)
        _log(f"floor: {floor * 1000:.0f} ms CPU per second, nobody following")
        teacher.moving.clear()
        stop = threading.Event()
        with ThreadPoolExecutor(N_FOLLOWERS + N_SESSIONS) as pool:
            rng = random.Random(24)
            joins = [
                pool.submit(follow, urls[k % len(urls)], code, teacher, stop, rng.uniform(0, 2))
                for k in range(N_FOLLOWERS)
            ]
            time.sleep(4 + N_FOLLOWERS * 0.2)  # every follower has opened the link and shows the step
            idle = _cpu_per_s(pids, QUIET_S)
            _log(f"idle class: {idle * 1000:.0f} ms CPU per second, {N_FOLLOWERS} following, nobody moving")
            teacher.moving.set()
            first = len(teacher.moves)
            quiet = _cpu_per_s(pids, QUIET_S)
            middle = len(teacher.moves)
            _log(f"quiet class: {quiet * 1000:.0f} ms CPU per second, {N_FOLLOWERS} following")
            delays = sorted(rng.uniform(0, RAMP_S) for _ in range(N_SESSIONS))
            walks = [
                pool.submit(walk, urls[i % len(urls)], i, pages, delay=d, think=THINK_S) for i, d in enumerate(delays)
            ]
            sampling = threading.Event()
            samples: list[tuple[float, float]] = []
            sampler = threading.Thread(target=_sample_own_cpu, args=(samples, sampling), daemon=True)
            sampler.start()
            busy = [w.result() for w in walks]
            sampling.set()
            sampler.join()
            last = len(teacher.moves)
            counted = store.followers(code)
            time.sleep(MOVE_S)  # the last move measured gets the time to the next one to show, as all others
            stop.set()
            followers = [j.result() for j in joins]
        teacher.stop()
        _log(f"busy class: {N_SESSIONS} walks done during moves {middle}..{last}")
    finally:
        stop_server(proc)
    moves = teacher.moves
    quiet_moves = moves[first:middle]
    busy_moves = moves[middle:last]
    errors = [e for f in followers for e in f.errors] + [e for w in alone + busy for e in w.errors]
    return LessonRun(
        alone,
        busy,
        propagation(followers, quiet_moves),
        propagation(followers, busy_moves),
        floor,
        idle,
        quiet,
        counted,
        errors,
        [m.at for m in busy_moves],
        samples,
    )


def _sample_own_cpu(out: list[tuple[float, float]], stop: threading.Event) -> None:
    """(monotonic time, this process's CPU seconds) every 0.1 s until ``stop``: the clients'
    own work (sixty in one interpreter) is part of what they measure."""
    while not stop.wait(0.1):
        out.append((time.monotonic(), time.process_time()))


def own_cpu_after_moves(r: LessonRun, within: float = 1.0) -> tuple[float, float]:
    """The bench process's CPU per second in the ``within`` s after each move, and otherwise."""
    near, far = [0.0, 0.0], [0.0, 0.0]  # cpu, seconds
    for (t0, c0), (t1, c1) in zip(r.own_cpu, r.own_cpu[1:], strict=False):
        acc = near if any(at <= t0 < at + within for at in r.busy_moves) else far
        acc[0] += c1 - c0
        acc[1] += t1 - t0
    return near[0] / max(near[1], 1e-9), far[0] / max(far[1], 1e-9)


def after_moves(r: LessonRun, within: float = 1.0) -> tuple[list[float], list[float]]:
    """The walkers' step seconds split by whether the step overlapped the ``within`` s after a
    move (when the followers' pushed runs share the processes with it) or not."""
    near, far = [], []
    for w in r.busy:
        for step, (start, end) in w.spans.items():
            hit = any(start < at + within and end > at for at in r.busy_moves)
            (near if hit else far).append(w.seconds[step])
    return near, far


def _ratio(r: LessonRun) -> tuple[float, float, float]:
    """(walkers' p95 / lone p95, walkers' p95 s, lone p95 s) of one run."""
    lone = _p([s for w in r.alone for s in w.seconds.values()], 95)
    crowd = _p([s for w in r.busy for s in w.seconds.values()], 95)
    return crowd / lone, crowd, lone


def run() -> list[Row]:
    runs: list[LessonRun] = []
    for k in range(N_RUNS):
        r = lesson_run()
        runs.append(r)
        ratio, crowd, lone = _ratio(r)
        _log(
            f"run {k + 1}/{N_RUNS}: propagation p95 {_p(r.quiet_delays, 95):.2f} s quiet, "
            f"{_p(r.busy_delays, 95):.2f} s busy; walkers' p95 {crowd * 1000:.0f} ms vs {lone * 1000:.0f} ms "
            f"alone = {ratio:.2f}x; {len(r.errors)} errors"
        )
        near, far = after_moves(r)
        cpu_near, cpu_far = own_cpu_after_moves(r)
        _log(
            f"walkers' steps within 1 s of a move: {len(near)}, p95 {_p(near, 95) * 1000:.0f} ms; "
            f"others: {len(far)}, p95 {_p(far, 95) * 1000:.0f} ms; the bench's own CPU "
            f"{cpu_near:.2f} s/s within 1 s of a move, {cpu_far:.2f} s/s otherwise"
        )
    errors = [e for r in runs for e in r.errors]
    for e in errors[:5]:
        _log(f"error: {e}")
    runs_txt = f"median of {len(runs)} runs" if len(runs) > 1 else "1 run"
    rows = []
    for name, delays_of in (
        ("quiet", lambda r: r.quiet_delays),
        (f"during the load walk of {N_SESSIONS} sessions", lambda r: r.busy_delays),
    ):
        p95 = [_p(delays_of(r), 95) for r in runs]
        p50 = [_p(delays_of(r), 50) for r in runs]
        views = sum(len(delays_of(r)) for r in runs)
        missed = sum(1 for r in runs for d in delays_of(r) if d == float("inf"))
        rows.append(
            Row(
                f"lessons: step propagation p95, {N_FOLLOWERS} followers{_ON}, teacher every {MOVE_S:.0f} s, "
                f"{name}, {runs_txt}",
                f"{statistics.median(p95) * 1000:.0f} ms [{spread_ms(p95)}] (p50 {statistics.median(p50) * 1000:.0f} "
                f"ms; {views} views, {missed} missed, {len(errors)} errors)",
                f"{TARGET_PROPAGATION_S * 1000:.0f} ms",
                statistics.median(p95) / TARGET_PROPAGATION_S,
                "≤ 1.00x, 0 errors",
                statistics.median(p95) <= TARGET_PROPAGATION_S and all(delays_of(r) for r in runs) and not errors,
            )
        )
    ratios = [_ratio(r) for r in runs]
    p95_target = target("load_p95", TARGET_P95)
    median_ratio = statistics.median(x for x, _, _ in ratios)
    per = statistics.median((r.cpu_quiet - r.cpu_floor) / N_FOLLOWERS for r in runs)
    per_idle = statistics.median((r.cpu_idle - r.cpu_floor) / N_FOLLOWERS for r in runs)
    floor = statistics.median(r.cpu_floor for r in runs)
    counted = min(r.counted for r in runs)
    return [
        *rows,
        Row(
            f"lessons: p95 interaction of {N_SESSIONS} walking sessions while {N_FOLLOWERS} follow{_ON}, vs alone, "
            f"{runs_txt}",
            " / ".join(f"{crowd * 1000:.0f}" for _, crowd, _ in ratios) + " ms",
            " / ".join(f"{lone * 1000:.0f}" for _, _, lone in ratios) + f" ms ({N_ALONE} lone walks each)",
            median_ratio,
            f"≤ {p95_target:.1f}x, bench load's ({spread([x for x, _, _ in ratios])})",
            median_ratio <= p95_target,
        ),
        Row(
            f"lessons: server CPU per follower (teacher every {MOVE_S:.0f} s), over {QUIET_S:.0f} s, {runs_txt}",
            f"{per * 1000:.1f} ms/s per follower",
            f"{floor * 1000:.1f} ms/s floor, nobody following",
            per,
            "report (CPU seconds per second)",
            True,
        ),
        Row(
            f"lessons: server CPU per follower, the teacher not moving (polls every {EVERY_S:g} s, heartbeats), "
            f"{runs_txt}",
            f"{per_idle * 1000:.1f} ms/s per follower",
            f"{floor * 1000:.1f} ms/s floor, nobody following",
            per_idle,
            "report (CPU seconds per second)",
            True,
        ),
        Row(
            "lessons: followers the class store counts (heartbeats within 15 s), fewest of the runs",
            f"{counted}",
            f"{N_FOLLOWERS} following",
            counted / N_FOLLOWERS,
            "= 1.00",
            counted == N_FOLLOWERS,
        ),
    ]


def spread_ms(xs: list[float]) -> str:
    """min–max of seconds, in ms."""
    return f"{min(xs) * 1000:.0f}–{max(xs) * 1000:.0f}"
