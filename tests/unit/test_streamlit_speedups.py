"""Streamlit's work per run, done once (cnnviz.ui.compat): a run's events reach the event loop
in order and all of them, with one wake-up per burst instead of one per element
(batch_run_events, coalesce_wakeups); a picture shrunk to an element's width and a chart's data
in Arrow are made once per content, and equal what Streamlit makes itself."""

from __future__ import annotations

import asyncio
import io
import threading
from types import SimpleNamespace

import numpy as np
from PIL import Image
from streamlit import dataframe_util
from streamlit.elements.lib import image_utils
from streamlit.elements.lib.layout_utils import LayoutConfig
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession

from cnnviz.ui import compat


class _Loop:
    """A real asyncio loop in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def block(self) -> threading.Event:
        """Hold the loop busy until the returned event is set."""
        go, held = threading.Event(), threading.Event()
        self.loop.call_soon_threadsafe(lambda: (held.set(), go.wait(10)))
        held.wait(10)
        return go

    def settle(self) -> None:
        done = threading.Event()
        self.loop.call_soon_threadsafe(done.set)
        done.wait(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def _session_class(loop: _Loop):
    class Session:
        """The three methods of AppSession that batch_run_events uses."""

        def __init__(self) -> None:
            self.handled: list[tuple] = []
            self.scheduled = 0

        def _on_scriptrunner_event(self, sender, event, forward_msg=None, **kwargs) -> None:
            raise AssertionError("replaced")

        def _handle_scriptrunner_event_on_event_loop(self, sender, event, forward_msg=None, **kwargs) -> None:
            assert threading.current_thread() is loop.thread
            if event == "bad":
                raise ValueError("a failing handler")
            self.handled.append((sender, event, forward_msg, kwargs))

        def _call_soon_on_event_loop(self, callback) -> None:
            self.scheduled += 1
            loop.loop.call_soon_threadsafe(callback)

    assert compat.batch_run_events(Session)
    assert compat.batch_run_events(Session)  # twice: patched once
    return Session


def test_the_real_classes_have_what_the_patches_use():
    for name in ("_on_scriptrunner_event", "_handle_scriptrunner_event_on_event_loop", "_call_soon_on_event_loop"):
        assert callable(getattr(AppSession, name, None)), name
    assert callable(getattr(Runtime, "_enqueued_some_message", None))


def test_a_burst_while_the_loop_is_busy_takes_one_wake_up():
    loop = _Loop()
    try:
        s = _session_class(loop)()
        go = loop.block()
        for i in range(100):
            s._on_scriptrunner_event("runner", "msg", forward_msg=i, page_script_hash="p")
        assert s.handled == [] and s.scheduled == 1
        go.set()
        loop.settle()
        assert [h[2] for h in s.handled] == list(range(100))
        assert s.handled[0] == ("runner", "msg", 0, {"page_script_hash": "p"})
        s._on_scriptrunner_event("runner", "stopped")  # after the drain: a wake-up of its own
        loop.settle()
        assert s.scheduled == 2 and s.handled[-1][1] == "stopped"
    finally:
        loop.close()


def test_events_from_many_threads_all_arrive_each_thread_in_order():
    loop = _Loop()
    try:
        s = _session_class(loop)()

        def send(t: int) -> None:
            for i in range(2000):
                s._on_scriptrunner_event(t, "msg", forward_msg=i)

        threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        loop.settle()
        for t in range(4):
            assert [h[2] for h in s.handled if h[0] == t] == list(range(2000))
        assert s.scheduled < len(s.handled) == 8000
    finally:
        loop.close()


def test_a_failing_event_does_not_stop_the_next_ones(caplog):
    loop = _Loop()
    try:
        s = _session_class(loop)()
        go = loop.block()
        s._on_scriptrunner_event("runner", "msg", forward_msg=0)
        s._on_scriptrunner_event("runner", "bad")  # its handler raises
        s._on_scriptrunner_event("runner", "msg", forward_msg=2)
        go.set()
        loop.settle()
        assert [h[2] for h in s.handled] == [0, 2]
        assert "a script run's event failed" in caplog.text
    finally:
        loop.close()


def test_no_wake_up_while_the_flag_is_set():
    calls = []

    class Rt:
        def _enqueued_some_message(self) -> None:
            calls.append(1)

    assert compat.coalesce_wakeups(Rt)
    rt = Rt()
    flag = asyncio.Event()
    rt._async_objs = SimpleNamespace(need_send_data=flag)
    rt._enqueued_some_message()
    flag.set()
    rt._enqueued_some_message()
    rt._enqueued_some_message()
    flag.clear()  # the loop cleared it and flushes: the next message wakes it again
    rt._enqueued_some_message()
    assert len(calls) == 2


def _jpeg(width: int, height: int) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def test_a_picture_is_shrunk_once_per_content_and_width():
    original = image_utils._ensure_image_size_and_format
    original = getattr(original, "__wrapped__", original)
    assert compat.remember_resized_pictures()
    ensure = image_utils._ensure_image_size_and_format
    big, small = _jpeg(640, 427), _jpeg(200, 100)
    first = ensure(big, LayoutConfig(width=300), "JPEG")
    assert first == original(big, LayoutConfig(width=300), "JPEG")
    assert Image.open(io.BytesIO(first)).size == (300, 200)
    assert ensure(big, LayoutConfig(width=300), "JPEG") is first  # kept, not made again
    assert Image.open(io.BytesIO(ensure(big, LayoutConfig(width=200), "JPEG"))).size == (200, 133)  # its own width
    assert ensure(small, LayoutConfig(width=300), "JPEG") is small  # narrower: untouched, as before


def test_chart_data_is_converted_once_per_content():
    original = dataframe_util.convert_anything_to_arrow_bytes
    original = getattr(original, "__wrapped__", original)
    assert compat.remember_chart_data()
    convert = dataframe_util.convert_anything_to_arrow_bytes
    values = [{"class": "cat", "p": 0.5}, {"class": "dog", "p": 0.25}]
    first = convert(values)
    assert first == original(values)
    assert convert([dict(v) for v in values]) is first  # the same content: kept
    other = convert([{"class": "cat", "p": 0.75}])
    assert other != first and other == original([{"class": "cat", "p": 0.75}])
    odd = [{"p": np.float32(0.5)}]  # not plain JSON: converted as before
    assert convert(odd) == original(odd)
