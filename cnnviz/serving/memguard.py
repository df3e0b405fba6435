"""A process-wide memory guard: refuse new heavy work, with a message, when the server's
resident memory and the work already admitted would pass its budget, rather than let the
kernel kill it for every session.

The budget is ``CNNVIZ_MEMORY_BUDGET_MB`` (default: 85 % of the machine's memory, or of the
container's memory limit when it has a smaller one). Heavy work declares what it may still
allocate, before it starts, and holds that reservation while it runs (:func:`reserve`): a
model load its size with its copies (from its parameter count, before building), an image
decode its pixels (from the header), a dataset its arrays. A new work is admitted only if

    resident memory now + what the works in flight may still allocate + its own estimate

fits the budget; a work in flight may still allocate its estimate minus what the server
has grown since it began (the growth since the oldest work in flight began is theirs, so a
load half done counts half). Checking only at the start let five works admitted at once
run 828 MB past a 2500 MB budget (issue 23). :func:`check` is a reservation of
``HEADROOM_BYTES`` released at once, for callers with no estimate. Before refusing, the
guard returns what closed sessions left behind (:func:`cnnviz.serving.reclaim.sweep`) and looks
again. Work already running is never interrupted.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _
from cnnviz.serving import reclaim

__all__ = ["HEADROOM_BYTES", "ServerBusy", "budget_bytes", "check", "in_flight_bytes", "reserve", "rss_bytes"]

# What a work with no estimate of its own is assumed to need (one upload may cost up to
# ~700 MB: issue 10's "plain session + 700 MB").
HEADROOM_BYTES = 700 << 20


class ServerBusy(CnnvizError):
    """The server is near its memory budget; the user should try again shortly."""


@dataclass(frozen=True)
class _Work:
    estimate: int  # bytes it may allocate in all
    rss_at_start: int  # the server's RSS when it was admitted
    order: int  # admission order: the oldest's start is the growth's origin


_lock = threading.Lock()
_in_flight: dict[int, _Work] = {}
_tickets = itertools.count()


def rss_bytes() -> int:
    """This process's resident memory now (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def budget_bytes() -> int:
    """The memory budget of this server process, in bytes (0: no budget)."""
    env = os.environ.get("CNNVIZ_MEMORY_BUDGET_MB", "").strip()
    if env:
        return max(0, int(float(env))) << 20
    try:
        machine = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0
    return int(min(machine, container_limit() or machine) * 0.85)


def container_limit(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """This container's memory limit in bytes (cgroup v2 ``memory.max``, else v1's
    ``memory/memory.limit_in_bytes``), or None when there is none: in a pod the machine's
    memory is the node's, and the kernel kills the container at its limit."""
    for name in ("memory.max", "memory/memory.limit_in_bytes"):
        try:
            value = (root / name).read_text().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 1 << 60:  # v1 says "no limit" with a huge number
            return int(value)
    return None


def _still_to_come(rss: int) -> int:
    """What the works in flight may still allocate, given the RSS now. Caller holds ``_lock``."""
    if not _in_flight:
        return 0
    oldest = min(_in_flight.values(), key=lambda w: w.order)
    grown = max(0, rss - oldest.rss_at_start)
    return max(0, sum(w.estimate for w in _in_flight.values()) - grown)


def in_flight_bytes() -> int:
    """What the admitted works may still allocate, in bytes (0 when none runs)."""
    with _lock:
        return _still_to_come(rss_bytes())


def _admit(estimate: int, what: str) -> int:
    """Register a work of ``estimate`` bytes and return its ticket, or raise ServerBusy."""
    budget = budget_bytes()
    for attempt in range(2):
        with _lock:
            rss = rss_bytes()
            coming = _still_to_come(rss)
            if not budget or rss + coming + estimate <= budget:
                ticket = next(_tickets)
                _in_flight[ticket] = _Work(estimate, rss, ticket)
                return ticket
        if attempt == 0 and not reclaim.sweep():
            break  # nothing to return (or returned moments ago): the answer stands
    if coming:
        busy = _("memory {rss} of {budget} MB in use, {coming} MB more on its way")
    else:
        busy = _("memory {rss} of {budget} MB in use")
    busy = busy.format(rss=rss >> 20, budget=budget >> 20, coming=coming >> 20)
    # ``what`` is the caller's phrase: translated there, or marked N_ and found here
    raise ServerBusy(
        _("The server is busy ({busy}), so {what} cannot start right now; try again in a minute.").format(
            busy=busy, what=_(what)
        )
    )


@contextmanager
def reserve(estimate: int, what: str = N_("this")) -> Iterator[None]:
    """Admit ``what``, which may allocate up to ``estimate`` bytes, and hold that reservation
    until the block ends (raises ServerBusy, naming ``what``, when it would not fit)."""
    ticket = _admit(max(0, int(estimate)), what)
    try:
        yield
    finally:
        with _lock:
            del _in_flight[ticket]


def check(what: str = N_("this")) -> None:
    """Raise ServerBusy if starting ``what`` (``HEADROOM_BYTES`` assumed) could push the
    server past its budget, counting the work in flight; reserves nothing."""
    with reserve(HEADROOM_BYTES, what):
        pass
