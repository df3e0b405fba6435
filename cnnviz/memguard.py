"""A process-wide memory guard: refuse new heavy work, with a message, when the server's
resident memory is near its budget, rather than let the kernel kill it for every session.

The budget is ``CNNVIZ_MEMORY_BUDGET_MB`` (default: 85 % of the machine's memory). Heavy
work (loading a model, decoding an upload, reading a dataset, starting a training) calls
:func:`check` first; work already running is never interrupted.
"""

from __future__ import annotations

import os

from cnnviz.errors import CnnvizError

__all__ = ["ServerBusy", "budget_bytes", "check", "rss_bytes"]

# Headroom kept free below the budget for the request being admitted (one upload may
# cost up to ~700 MB: issue 10's "plain session + 700 MB").
HEADROOM_BYTES = 700 << 20


class ServerBusy(CnnvizError):
    """The server is near its memory budget; the user should try again shortly."""


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
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 0.85)
    except (OSError, ValueError):
        return 0


def check(what: str = "this") -> None:
    """Raise ServerBusy if starting ``what`` could push the server past its budget."""
    budget = budget_bytes()
    if not budget:
        return
    rss = rss_bytes()
    if rss + HEADROOM_BYTES > budget:
        raise ServerBusy(
            f"The server is busy (memory {rss >> 20} of {budget >> 20} MB in use), so {what} cannot start "
            "right now; try again in a minute."
        )
