"""Jobs run below the class's page runs: the worker thread's nice value, not the process's."""

import os
import threading

import pytest

from cnnviz.serving import jobs, page_activity

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread nice values here")


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_job_runs_at_the_background_priority_and_the_caller_keeps_its_own():
    before = _own_nice()
    engine = jobs.Engine(slots=1)
    job = engine.submit("student", "tab", "probe", "k", lambda on_progress, should_stop: _own_nice())
    assert job._finished.wait(30)
    snap = job.snapshot()
    assert snap.status == "done"
    assert snap.result == max(before, page_activity.JOB_NICE) > before
    assert _own_nice() == before  # the page's thread (and the process) untouched
