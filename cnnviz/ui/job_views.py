"""The page side of the job queue (:mod:`cnnviz.serving.jobs`): who asks (the browser's owner token,
this tab), whether the tab is still connected, and the panel that polls a job every second.

The poll is a fragment with ``run_every=POLL_S``: each run is the job's heartbeat, so a
closed tab's job stops a few seconds after its last poll (``CNNVIZ_JOB_HEARTBEAT``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Hashable

import streamlit as st

from cnnviz.errors import Stopped
from cnnviz.i18n import N_, Message, _, percent, pgettext
from cnnviz.serving import jobs
from cnnviz.ui import compat, state
from cnnviz.ui.loaders import Pending
from cnnviz.ui.owner import student

POLL_S = 1.0  # s between a waiting or running job's polls (its heartbeat)
# Progress in a job's own units ("12 of 256 steps"); the callers' unit names are keys.
UNITS = {"steps": N_("{done} of {total} steps"), "images": N_("{done} of {total} images")}


def tab_id() -> str:
    """This tab's id in the queue's registry (a Streamlit session is one tab)."""
    if not st.session_state.get(state.JOB_TAB):
        st.session_state[state.JOB_TAB] = uuid.uuid4().hex
    return st.session_state[state.JOB_TAB]


def alive_check() -> Callable[[], bool] | None:
    """A callable, safe on any thread, saying whether this tab's websocket is still open (a
    closed tab's session leaves Streamlit's active sessions at once); None where no server
    runs (AppTest): then only the heartbeat counts."""
    sid = compat.session_id()
    return compat.connection_check(sid) if sid is not None else None


def submit(kind: str, key: Hashable, work: jobs.Work, **kwargs) -> jobs.Job:
    """Queue ``work`` for this student and tab (see :meth:`cnnviz.serving.jobs.Engine.submit`)."""
    return jobs.ENGINE.submit(student(), tab_id(), kind, key, work, alive=alive_check(), **kwargs)


def job_for(kind: str, key: Hashable | None = None) -> jobs.Job | None:
    """This tab's latest job of ``kind`` (that computes ``key``, if given), or None."""
    job = jobs.ENGINE.get(tab_id(), kind)
    return job if job is not None and (key is None or job.key == key) else None


def ordinal(n: int) -> str:
    """1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd" (Spanish "2.º", German "2.")."""
    if 10 <= n % 100 <= 20 or n % 10 not in (1, 2, 3):
        return pgettext("ordinal", "{n}th").format(n=n)
    if n % 10 == 1:
        return pgettext("ordinal", "{n}st").format(n=n)
    return (pgettext("ordinal", "{n}nd") if n % 10 == 2 else pgettext("ordinal", "{n}rd")).format(n=n)


def _about(wait_s: float | None) -> str:
    """ "; about 40 s" / "; about 3 min", or nothing when unknown."""
    if wait_s is None:
        return ""
    if wait_s < 120:
        return _("; about {s} s").format(s=f"{max(1.0, wait_s):.0f}")
    return _("; about {m} min").format(m=f"{wait_s / 60:.0f}")


def waiting_text(position: int | None, wait_s: float | None) -> str:
    """Where a waiting job stands: "Waiting: 2nd in line; about 40 s (...)"."""
    if position is None:
        return _("Waiting for the server…")
    where = _("next in line") if position == 1 else _("{ordinal} in line").format(ordinal=ordinal(position))
    return _("Waiting: {where}{about} (long jobs run one per student, in turn).").format(
        where=where, about=_about(wait_s)
    )


def paused_text(position: int | None, wait_s: float | None, at: str) -> str:
    """A job paused for a classmate: "Paused at 37 of 512 steps to let a classmate run; 1 ahead
    (2nd in line); about 9 s. It goes on where it stopped." (``at``: how far it got)."""
    if position is None:
        where = _("back soon")
    elif position == 1:
        where = _("next in line")
    else:
        where = _("{ahead} ahead ({ordinal} in line)").format(ahead=position - 1, ordinal=ordinal(position))
    return _("Paused at {at} to let a classmate run; {where}{about}. It goes on where it stopped.").format(
        at=at, where=where, about=_about(wait_s)
    )


def progress_text(snap: jobs.Snapshot, unit: str) -> str:
    """The bar's text: the place in line while waiting, else "12 of 256 steps" or "43 %".

    ``unit``: "%" or a key of :data:`UNITS` (another unit name is shown as it is given)."""
    if unit == "%":
        done = percent(snap.fraction, 0)
    else:
        count = _(UNITS[unit]) if unit in UNITS else _("{done} of {total} {unit}")
        done = count.format(done=snap.done, total=snap.total or "…", unit=unit)
    if snap.status == "queued":
        return waiting_text(snap.position, snap.wait_s)
    if snap.status == "paused":
        return paused_text(snap.position, snap.wait_s, done)
    return done


def _live(kind: str, stop_key: str, unit: str) -> None:
    """One poll of this tab's ``kind`` job; the whole page reruns when it has ended."""
    job = job_for(kind)
    snap = job.snapshot() if job is not None else None
    if snap is None or not snap.active:
        st.rerun()
    st.progress(snap.fraction, text=progress_text(snap, unit))
    if st.button(_("Stop"), key=stop_key, icon=":material/stop:"):
        job.stop()


def show(kind: str, key: Hashable, stop_key: str, unit: str = "%") -> bool:
    """Draw this tab's job of ``kind`` computing ``key``: polled progress and a Stop button while
    it waits or runs (True), or how it ended when it was stopped or failed (False)."""
    job = job_for(kind, key)
    snap = job.snapshot() if job is not None else None
    if snap is not None and snap.active:
        st.fragment(run_every=POLL_S)(_live)(kind, stop_key, unit)
        return True
    if snap is not None and snap.status == "stopped":
        st.info(str(snap.message))
    elif snap is not None and snap.status == "error":
        st.error(str(snap.message))
    return False


def _progress_into(on_progress, should_stop, fraction: float, _text: str) -> None:
    """A cnnviz.inside.progress callback feeding a job's progress; it ends the work when the job is
    stopped (slow explanations report after every batch of forwards)."""
    if should_stop():
        raise Stopped(Message(N_("Stopped before it finished; nothing was kept.")))
    on_progress(round(100 * fraction), 100)


def _run_pending(compute: Callable[..., object], on_progress, should_stop) -> object:
    return compute(_progress=functools.partial(_progress_into, on_progress, should_stop))


def queued_result(kind: str, pending: Pending, stop_key: str, *, cost: Hashable, again: str) -> tuple[object, bool]:
    """A shared result (``loaders.shared_result``'s ``.pending``, whose function takes a
    ``_progress``) computed as a job of the queue.

    Returns (the result or None, whether its job is still waiting or running). Not cached yet:
    queues the job (once per key and tab) and draws its polled progress; a job that was
    stopped or failed shows why, with a button labelled ``again`` to queue it anew.
    """
    if pending.value is not None:
        return pending.value, False
    job = job_for(kind, pending.key)
    if job is not None and job.status == "done":
        return job.result, False
    if show(kind, pending.key, stop_key):
        return None, True
    if job is not None and not st.button(again, key=stop_key + "_again"):
        return None, False
    submit(kind, pending.key, functools.partial(_run_pending, pending.compute), units=1, cost=cost)
    return None, show(kind, pending.key, stop_key)
