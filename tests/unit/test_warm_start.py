"""The server's warm start (cnnviz/ui/warm_start.py): what it imports, that no upload is
handled before its imports are done while pages pass (their runs draw the first frame), and
that the imports give way to visitors, in ASGI terms without a server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from cnnviz.camera import live_http
from cnnviz.serving import cache
from cnnviz.ui import loaders, state, warm_start

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cold(monkeypatch):
    """A warm start not done yet (its own READY and waiters, not the process's)."""
    monkeypatch.setattr(warm_start, "READY", threading.Event())
    monkeypatch.setattr(warm_start, "_waiters", [])
    monkeypatch.setattr(warm_start, "_callbacks", [])


def _in_loop(coro):
    with ThreadPoolExecutor(1) as pool:  # Playwright's tests keep an event loop on this thread
        return pool.submit(asyncio.run, coro).result()


def test_imports_are_those_a_file_runs_not_its_functions(tmp_path):
    f = tmp_path / "page.py"
    f.write_text(
        "import numpy as np\nfrom cnnviz.render import to_png\nif True:\n    import json\n"
        "from . import sibling\n\ndef later():\n    import onnx\n\nclass K:\n    import timm\n"
    )
    assert warm_start.imports([f]) == ["numpy", "cnnviz.render", "cnnviz.render.to_png", "json"]


def test_the_app_s_imports_leave_onnx_and_timm_to_first_use():
    names = warm_start.imports(warm_start.app_files(ROOT))
    assert "torch" in names and "cnnviz.ui.sidebar" in names and "cnnviz.models.zoo" in names
    assert not any(n.startswith(("onnx", "timm", "cnnviz.models.onnx_file")) for n in names)


def test_the_server_s_own_modules_do_not_import_torch():
    """What asgi.py imports loads no torch: the server listens before the warm start is done."""
    names = warm_start.imports([ROOT / "asgi.py"])
    assert "cnnviz.ui.warm_start" in names
    code = (
        "import contextlib, importlib, sys\n"
        f"for name in {names!r}:\n"
        "    with contextlib.suppress(ImportError):\n"
        "        importlib.import_module(name)\n"
        "print(sorted(m for m in ('torch', 'captum', 'matplotlib', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_websocket_s_messages_pass_at_once_the_runs_draw_the_first_frame(cold):
    handled: list[str] = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            handled.append(message["type"])
            if message["type"] == "websocket.disconnect":
                return

    async def main():
        inbox = asyncio.Queue()
        for m in ("websocket.connect", "websocket.receive", "websocket.receive", "websocket.disconnect"):
            inbox.put_nowait({"type": m})

        async def send(message):
            pass

        await asyncio.wait_for(warm_start.HoldUntilWarm(app)({"type": "websocket"}, inbox.get, send), 5)

    _in_loop(main())
    assert not warm_start.READY.is_set()
    assert handled == ["websocket.connect", "websocket.receive", "websocket.receive", "websocket.disconnect"]


def test_a_page_s_files_are_a_visitor_s_turn_until_ready(cold):
    seen: list[int] = []

    async def app(scope, receive, send):
        seen.append(warm_start._visitors)

    async def main():
        await warm_start.HoldUntilWarm(app)({"type": "http", "method": "GET"}, None, None)
        warm_start._set_ready()
        await warm_start.HoldUntilWarm(app)({"type": "http", "method": "GET"}, None, None)

    _in_loop(main())
    assert seen == [1, 0]  # during the request before READY; none after it
    assert warm_start._visitors == 0


def _visitor(seconds: float) -> threading.Thread:
    """A visitor's work of ``seconds`` in another thread, its turn taken before this returns."""
    entered = threading.Event()

    def work():
        with warm_start.visitor_turn():
            entered.set()
            time.sleep(seconds)

    thread = threading.Thread(target=work)
    thread.start()
    entered.wait()
    return thread


def test_the_import_thread_gives_way_to_a_visitor_and_to_the_server_s_start(cold, monkeypatch):
    monkeypatch.setattr(warm_start, "_importer", threading.get_ident())  # this thread imports
    monkeypatch.setattr(warm_start, "GIVE_WAY_S", 2.0)

    def timed(event: str = "import") -> float:
        t = time.perf_counter()
        warm_start._give_way(event, ())
        return time.perf_counter() - t

    assert timed() < 0.05  # nobody waits: at once
    _visitor(0.3)
    assert timed("open") < 0.05  # another audit event: at once
    assert 0.25 < timed() < 1.5  # waits for the visitor's turn to end
    monkeypatch.setattr(warm_start, "_start_by", time.monotonic() + 5)  # begin(after_server_start=True)
    monkeypatch.setattr(warm_start, "_serving", threading.Event())

    async def lifespan():
        async with warm_start.serving(None):
            pass

    threading.Timer(0.3, lambda: _in_loop(lifespan())).start()
    assert 0.25 < timed() < 1.5  # waits for the server to listen
    assert timed() < 0.05
    monkeypatch.setattr(warm_start, "GIVE_WAY_S", 0.2)
    long = _visitor(1.5)
    assert 0.15 < timed() < 1.0  # never longer than GIVE_WAY_S at one import
    warm_start._set_ready()
    assert timed() < 0.05  # after READY: at once
    long.join()


def test_when_ready_calls_back_at_ready_in_the_thread_that_sets_it_or_at_once(cold, monkeypatch):
    monkeypatch.setattr(warm_start, "_callbacks", [])
    calls: list[str] = []
    warm_start.when_ready(lambda: calls.append(threading.current_thread().name))
    assert calls == []
    setter = threading.Thread(target=warm_start._set_ready, name="importer")
    setter.start()
    setter.join()
    assert calls == ["importer"]
    warm_start.when_ready(lambda: calls.append("now"))
    assert calls == ["importer", "now"]


def test_ready_answers_503_until_the_imports_are_done(cold):
    async def status():
        return (await warm_start.readiness(None)).status_code

    assert _in_loop(status()) == 503
    warm_start._set_ready()
    assert _in_loop(status()) == 200


@pytest.mark.parametrize(("method", "held"), [("GET", False), ("HEAD", False), ("POST", True), ("PUT", True)])
def test_pages_and_files_pass_uploads_and_frames_wait(cold, method, held):
    calls: list[float] = []

    async def app(scope, receive, send):
        calls.append(asyncio.get_running_loop().time())

    async def main():
        task = asyncio.create_task(warm_start.HoldUntilWarm(app)({"type": "http", "method": method}, None, None))
        await asyncio.sleep(0.2)
        before = len(calls)
        warm_start._set_ready()
        await asyncio.wait_for(task, 5)
        return before

    assert _in_loop(main()) == (0 if held else 1)
    assert len(calls) == 1


def test_deferred_routes_are_built_once_after_the_warm_start_and_see_whole_paths(cold):
    built = []

    def build():
        built.append(1)
        return [Route("/base/api/live/close", lambda request: PlainTextResponse("closed"), methods=["POST"])]

    mount = Mount("/base/api/live", app=warm_start.Deferred(build))
    sent: list[dict] = []

    async def request():
        scope = {"type": "http", "method": "POST", "path": "/base/api/live/close", "root_path": "", "headers": []}
        _match, child = mount.matches(scope)
        scope.update(child)

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            sent.append(message)

        await mount.handle(scope, receive, send)

    async def main():
        first = asyncio.create_task(request())
        await asyncio.sleep(0.2)
        assert not built and not sent
        warm_start._set_ready()
        await asyncio.wait_for(first, 5)
        await request()

    _in_loop(main())
    assert built == [1]
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200, 200]
    assert sent[1]["body"] == b"closed"


def test_asgi_mounts_the_live_routes_where_live_http_names_them():
    text = (ROOT / "asgi.py").read_text(encoding="utf-8")
    assert '"/api/live"' in text
    for base in ("", "/class/"):
        prefix = ("/" + base.strip("/") if base.strip("/") else "") + "/api/live/"
        assert all(r.path.startswith(prefix) for r in live_http.routes(base))


def test_begin_imports_then_warms_after_ready_once(tmp_path, monkeypatch, cold):
    """``first`` runs in the import thread before the app's imports; the warmers after READY,
    in order; a second begin does nothing."""
    monkeypatch.setattr(warm_start, "_started", threading.Lock())
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("import warm_probe_imported\n")
    (tmp_path / "warm_probe_imported.py").write_text("")
    (tmp_path / "warm_probe.py").write_text(
        "import sys, threading\nfrom cnnviz.ui import warm_start\ncalls = []\ndone = threading.Event()\n"
        "def before():\n    calls.append(('before', 'warm_probe_imported' in sys.modules, warm_start.READY.is_set()))\n"
        "def first():\n    calls.append(('first', warm_start.READY.is_set(), threading.current_thread().name))\n"
        "def second():\n    calls.append(('second', warm_start.READY.is_set(), threading.current_thread().name))\n"
        "    done.set()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    warm_start.begin(tmp_path, then=("warm_probe:first", "warm_probe:second"), first=("warm_probe:before",))
    warm_start.begin(tmp_path, then=("warm_probe:first",), first=("warm_probe:before",))  # once per process
    import warm_probe

    assert warm_probe.done.wait(30)
    assert warm_probe.calls == [
        ("before", False, False),
        ("first", True, "cnnviz-warm-start"),
        ("second", True, "cnnviz-warm-start"),
    ]
    assert "warm_probe_imported" in sys.modules


def test_the_warmed_model_is_the_one_the_first_run_gets(monkeypatch):
    """warm_default_model fills the very cache entry a session's cached_model asks for: no second load."""
    monkeypatch.setattr(loaders, "check_openable", lambda name: None)  # a registry model: everyone's
    loaders.warm_default_model()
    computes = cache.MODELS.stats.computes
    lm = loaders.cached_model(state.DEFAULT_MODEL, state.WEIGHTS_PRETRAINED)
    assert cache.MODELS.stats.computes == computes
    assert lm.name == state.DEFAULT_MODEL and lm.weights == state.WEIGHTS_PRETRAINED


def test_the_warmers_modules_declare_no_component():
    """The server's warmers are imported outside a script run (asgi.py's warm start, the
    launcher of forked processes): no custom component may be declared there (one declared
    outside a run was not registered: its page's frame answered 404)."""
    modules = [name.partition(":")[0] for name in warm_start.SERVER_WARMERS]
    assert modules and "warm_start.SERVER_WARMERS" in (ROOT / "asgi.py").read_text(encoding="utf-8")
    code = (
        f"import importlib, sys\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('streamlit_', 'cnnviz.ui.clickable', 'cnnviz.ui.live_view'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
