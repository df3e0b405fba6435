"""Issue 23's hostile student, who attacks the class of ``bench load`` while it works.

One student (one owner cookie, many connections) runs, from the class's start until its
last walk ends, the attacks ``CNNVIZ_LOAD_ATTACKS`` names (comma-separated; default all):

* ``vgg``: asks for VGG-16 with random weights through a link, as any student can;
* ``idle``: opens ``IDLE`` sessions whose links carry a ``QUERY_BYTES`` query string, and
  leaves them open and idle;
* ``uploads``: uploads ``FLOOD_PHOTOS`` photos and ``FLOOD_CHECKPOINTS`` checkpoints (the
  digits model's weights, each nudged) into the stores the class's links use;
* ``jobs``: opens ``TABS`` tabs of the Channel page, starts a feature visualisation in each
  and polls them every second, as the tabs' timers would;
* ``nocookie``: the same ``TABS`` tabs from a client that keeps no cookies (no owner cookie
  on any connection, so without the address rule each would be a new student).

What came of each attack, and how many of the hostile's tabs ran a job at the same moment,
is returned; bench_load reports it beside the class's own rows (identical results, p95),
which measure the attacks' effect on the class.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors.torch import load_file, save

from bench import Row
from bench.load_client import AppSession
from cnnviz.inputs.images import decode_image
from cnnviz.models.zoo import SHIPPED_DIR
from cnnviz.render import to_png

ATTACKS = tuple(
    a.strip() for a in os.environ.get("CNNVIZ_LOAD_ATTACKS", "vgg,idle,uploads,jobs,nocookie").split(",") if a
)
JOB_ATTACKS = ("jobs", "nocookie")
IDLE, QUERY_BYTES = 20, 1 << 20
FLOOD_PHOTOS, FLOOD_CHECKPOINTS = 50, 20
TABS = 6
POLL_S = 1.0  # the pages' st.fragment(run_every=1.0)


@dataclass
class Attacks:
    """What the hostile student's attacks got: ``outcome`` per attack (one line each),
    ``messages`` (st.error answers: a refusal is fine), ``exceptions`` (exception boxes and
    failed connections: never fine), ``most_running``: per job attack, the most of its tabs
    running a job at one moment (the queue allows one per student; see :func:`most_at_once`)."""

    outcome: dict[str, str] = field(default_factory=dict)
    messages: int = 0
    exceptions: list[str] = field(default_factory=list)
    most_running: dict[str, int] = field(default_factory=dict)  # per job attack

    def saw(self, attack: str, errors: list[str], view: list[tuple[str, str]]) -> None:
        self.messages += len(errors)
        self.exceptions += [f"{attack}: {c}" for k, c in view if k == "exception"]


def _noise_png(i: int, side: int = 320) -> bytes:
    rgb = np.random.default_rng(10_000 + i).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _checkpoint(i: int) -> bytes:
    state = load_file(str(SHIPPED_DIR / "tinyvgg_mnist.safetensors"))
    state["features.0.conv.weight"][0, 0, 0, 0] += (i + 1) * 1e-3
    return save(state)


def _vgg(url: str, owner: str, stop: threading.Event, out: Attacks) -> None:
    t = time.perf_counter()
    with AppSession(url, timeout=600, owner=owner) as s:
        run = s.open("model=vgg16&weights=random")
    out.saw("vgg", run.errors, run.view)
    said = f"answered with: {run.errors[0][:80]}" if run.errors else "shown"
    out.outcome["vgg"] = f"VGG-16 (random) {said} after {time.perf_counter() - t:.0f} s"


def _idle(url: str, owner: str, stop: threading.Event, out: Attacks) -> None:
    sessions = []
    try:
        for i in range(IDLE):
            s = AppSession(url, timeout=180, owner=owner)
            sessions.append(s)
            run = s.open(f"model=efficientnet_lite0&note{i}={'x' * QUERY_BYTES}")
            out.saw("idle", run.errors, run.view)
        out.outcome["idle"] = f"{IDLE} idle sessions with {QUERY_BYTES >> 20} MB queries held open"
        stop.wait()
    finally:
        for s in sessions:
            s.close()


def _uploads(url: str, owner: str, stop: threading.Event, out: Attacks) -> None:
    photos, checkpoints = (
        [_noise_png(i) for i in range(FLOOD_PHOTOS)],
        [_checkpoint(i) for i in range(FLOOD_CHECKPOINTS)],
    )
    t = time.perf_counter()
    with AppSession(url, timeout=180, owner=owner) as s:
        s.open("model=tinyvgg_mnist")
        s.choose("image_source", "Upload")
        for i, data in enumerate(photos):
            run = s.upload("image_upload", f"flood{i}.png", data, "image/png")
            out.saw("uploads", run.errors, run.view)
        s.choose("weights_choice", "My file")
        for i, data in enumerate(checkpoints):
            run = s.upload("weights_upload", f"flood{i}.safetensors", data, "application/octet-stream")
            out.saw("uploads", run.errors, run.view)
    took = time.perf_counter() - t
    out.outcome["uploads"] = f"{FLOOD_PHOTOS} photos and {FLOOD_CHECKPOINTS} checkpoints uploaded in {took:.0f} s"


def _running(s: AppSession) -> bool:
    run = s.poll()
    return run is not None and any(k == "progress" and "steps" in c for k, c in run.view)


def most_at_once(polls: list[list[tuple[float, bool]]]) -> int:
    """The most tabs running a job at one moment, from each tab's polls ``(time, running)``.

    A tab counts as running between two consecutive polls that both saw its job running. A
    tab's last poll before its job ended, read beside the next tab's first poll of the job
    that took the slot, does not make two: that job started after the first one's last poll.

    Args:
        polls: per tab, its polls in time order.

    Returns:
        The largest number of such spans that overlap.
    """
    events = sorted(
        (t, +1 if start else -1)
        for tab in polls
        for (a, on_a), (b, on_b) in zip(tab, tab[1:], strict=False)
        if on_a and on_b
        for t, start in ((a, True), (b, False))
    )
    most = now = 0
    for _t, step in events:  # at one instant an end sorts before a start: touching spans are not two
        now += step
        most = max(most, now)
    return most


def _tab(url: str, owner: str | None, k: int, stop: threading.Event, out: Attacks, seen: list) -> int:
    """One tab: the Channel page, a feature visualisation of channel k + 1 (k + 101 without a
    cookie: not the other tabs' cached one), polled every second until the class ends; how
    many polls it made. Each poll's ``(time, running)`` goes to ``seen``. ``owner`` None:
    the tab keeps no cookies."""
    attack, polls = "jobs" if owner else "nocookie", 0
    with AppSession(url, timeout=180, owner=owner or "", cookieless=owner is None) as s:
        s.open("model=efficientnet_lite0&weights=pretrained")
        s.switch_page("Channel")
        s.set_widget("ch_channel", int_value=k + (1 if owner else 101))
        run = s.click("ch_featvis_start")
        out.saw(attack, run.errors, run.view)
        while not stop.is_set():
            t = time.perf_counter()
            seen.append((time.monotonic(), _running(s)))
            polls += 1
            stop.wait(max(0.0, POLL_S - (time.perf_counter() - t)))
    return polls


def _jobs(url: str, owner: str | None, stop: threading.Event, out: Attacks) -> None:
    seen: list[list[tuple[float, bool]]] = [[] for _ in range(TABS)]
    with ThreadPoolExecutor(TABS) as pool:  # the tabs open and poll on their own, as a browser's
        polls = list(pool.map(lambda k: _tab(url, owner, k, stop, out, seen[k]), range(TABS)))
    out.most_running["jobs" if owner else "nocookie"] = most_at_once(seen)
    what = "feature visualisations" + ("" if owner else " without cookies")
    out.outcome["jobs" if owner else "nocookie"] = f"{TABS} tabs of {what}, polled {min(polls)}–{max(polls)} times each"


def _nocookie(url: str, _owner: str, stop: threading.Event, out: Attacks) -> None:
    _jobs(url, None, stop, out)


_RUN: dict[str, Callable[[str, str, threading.Event, Attacks], None]] = {
    "vgg": _vgg,
    "idle": _idle,
    "uploads": _uploads,
    "jobs": _jobs,
    "nocookie": _nocookie,
}


class HostileStudent:
    """Start with :meth:`start` as the class arrives; :meth:`finish` when it has gone."""

    def __init__(self, url: str, attacks: tuple[str, ...] = ATTACKS) -> None:
        self.url, self.out, self._stop = url, Attacks(), threading.Event()
        owner = secrets.token_hex(16)  # one student: every connection carries the same cookie
        self._threads = [
            threading.Thread(target=self._guarded, args=(a, owner), daemon=True, name=f"hostile-{a}") for a in attacks
        ]

    def _guarded(self, attack: str, owner: str) -> None:
        try:
            _RUN[attack](self.url, owner, self._stop, self.out)
        except Exception as e:  # the server failing the hostile session is a result, not the end
            if not self._stop.is_set():
                self.out.exceptions.append(f"{attack}: {type(e).__name__}: {e}")

    def start(self) -> HostileStudent:
        for t in self._threads:
            t.start()
        return self

    def finish(self, timeout: float = 120.0) -> Attacks:
        """Stop the attacks that run until the class ends; wait up to ``timeout`` s for the
        others (a VGG-16 load still going is reported as such)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
            attack = t.name.removeprefix("hostile-")
            if t.is_alive():
                self.out.outcome.setdefault(attack, f"{attack}: still waiting for the server at the end")
        return self.out


def links_kept(images_dir: Path, photos: list[bytes]) -> int:
    """How many of the class's uploaded ``photos`` a link can still open: the app keeps each
    as the PNG of its decoded pixels (level 1), named by that PNG's SHA-256 (cnnviz.serving.sharing)."""
    kept = 0
    for data in photos:
        digest = hashlib.sha256(to_png(decode_image(data), compress_level=1)).hexdigest()
        kept += (images_dir / f"{digest}.png").is_file()
    return kept


def attack_rows(got: list[Attacks], links: list[tuple[int, int]], log: Callable[[str], None]) -> list[Row]:
    """The rows of ``bench load``: what the attacks of each run got (``got``), and the class's
    photo links (kept, of all) after the flood of each run."""
    exc = [e for a in got for e in a.exceptions]
    for e in exc[:5]:
        log(f"hostile (issue 23) exception: {e}")
    for a in got:
        log("hostile (issue 23): " + "; ".join(a.outcome.values()))
    what = {
        "vgg": "VGG-16 random",
        "idle": f"{IDLE} idle sessions with long queries",
        "uploads": f"{FLOOD_PHOTOS + FLOOD_CHECKPOINTS} uploads",
        "jobs": f"{TABS} tabs of featvis",
        "nocookie": f"{TABS} cookieless tabs of featvis",
    }
    rows = [
        Row(
            f"load: issue 23's hostile student ({', '.join(what[a] for a in ATTACKS)}) during the class, "
            f"{len(got)} runs",
            f"{sum(a.messages for a in got)} messages, {len(exc)} exceptions",
            "0 exceptions",
            float(len(exc)),
            "= 0",
            not exc,
        )
    ]
    if "uploads" in ATTACKS:
        kept, total = sum(k for k, _ in links), sum(n for _, n in links)
        rows.append(
            Row(
                f"load: the class's photo links after the hostile's {FLOOD_PHOTOS} photos, {len(got)} runs",
                f"{kept}/{total} still open",
                "every link",
                kept / total,
                "= 1.00",
                kept == total,
            )
        )
    for attack in (a for a in JOB_ATTACKS if a in ATTACKS):
        most = max(a.most_running.get(attack, 0) for a in got)
        rows.append(
            Row(
                f"load: the hostile's {TABS} {what[attack].split(' ', 1)[1]} running at once (one per student)",
                f"{most}",
                "1",
                float(most),
                "≤ 1",
                most <= 1,
            )
        )
    return rows
