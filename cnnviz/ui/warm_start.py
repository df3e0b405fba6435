"""A fresh server answers at once and imports the app beside the browser's own start.

``streamlit run asgi.py`` listens only once asgi.py is imported. When asgi.py imported
torch, captum, matplotlib... itself (seconds of CPU), the browser could not even fetch
Streamlit's page until they were done, though fetching and starting that page (its
JavaScript, about a second of a core) needs none of them. :func:`begin` imports them in a
thread of their own instead, so both happen at once on the two cores, and :class:`HoldUntilWarm`
makes every page run wait for that thread: a run that imported a module while this thread
was half-way through it found it half-initialised (Python waits for a module being imported
by another thread, not for its package: ``module 'matplotlib' has no attribute
'get_data_path'``). So the first visitor's websocket opens at once, and its first message
(the request for a run) is answered when the imports are done; uploads and the live
view's frames wait too. Static files, the health check and pictures do not.

No Streamlit here: the imports and plain ASGI.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from starlette.routing import BaseRoute, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

READY = threading.Event()  # set once the app's imports are done (or failed: the runs then import)
_started = threading.Lock()
_lock = threading.Lock()
_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []  # held requests, woken at READY


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements a module runs when imported, in order (a function's own imports are
    left out: they are deferred on purpose, e.g. onnx until a student brings an ONNX file)."""
    for node in body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node
            yield from _module_level([child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)])


def imports(files: list[Path]) -> list[str]:
    """Module names ``files`` import when they run (``from a import b`` gives a.b if b is a
    module); what their functions import is left out."""
    names: list[str] = []
    for page in files:
        for node in _module_level(ast.parse(page.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                names += [f"{node.module}.{a.name}" for a in node.names]
    return list(dict.fromkeys(names))


# Left to their pages: light, and a custom component imported outside a script run is not
# registered (a v1 component, streamlit_image_coordinates, answered 404 when a background
# thread imported it).
_LEFT_TO_PAGES = ("streamlit", "cnnviz.ui")


def import_all(names: list[str]) -> None:
    """Import each of ``names`` but Streamlit's and cnnviz.ui's (a name that is no module is skipped)."""
    for name in names:
        if name.startswith(_LEFT_TO_PAGES):
            continue
        with contextlib.suppress(ImportError):  # ``from a import function``: not a module
            importlib.import_module(name)


def app_files(root: Path) -> list[Path]:
    """app.py, its pages and the app's Streamlit modules: whose imports the server needs."""
    return [root / "app.py", *sorted((root / "pages").glob("*.py")), *sorted((root / "cnnviz" / "ui").glob("*.py"))]


# What the server (asgi.py) imports beside the pages': the Live page's frame routes.
SERVER_EXTRA = ("cnnviz.camera.live_http",)
# Called before the imports: torchvision without TorchDynamo, a third of them (cnnviz.compat).
SERVER_FIRST = ("cnnviz.compat:import_torchvision",)
# Called after them: what the first visitors' pages compute first.
SERVER_WARMERS = ("cnnviz.ui.loaders:warm_default_model", "cnnviz.ui.train_widgets:warm_default_dataset")


def import_app(root: Path, extra: tuple[str, ...] = SERVER_EXTRA, first: tuple[str, ...] = SERVER_FIRST) -> None:
    """Call ``first`` (``"module:function"`` each), then import what app.py, its pages and
    cnnviz.ui import, and ``extra``, as :func:`import_all` does."""
    call_each(first)
    import_all([*imports(app_files(root)), *extra])


def begin(
    root: Path, extra: tuple[str, ...] = SERVER_EXTRA, then: tuple[str, ...] = (), first: tuple[str, ...] = SERVER_FIRST
) -> None:
    """Start importing what app.py, its pages and cnnviz.ui import (and ``extra`` modules), once
    per process, in a thread of its own; :data:`READY` is set when it is done. ``first``
    (``"module:function"`` each): called before those imports (one that imports a package
    its own way). ``then``
    (``"module:function"`` each): imported with them, called in order after :data:`READY`
    in the same thread (first-use costs the first visitors would otherwise wait for); their
    modules may be cnnviz.ui's, but none that declares a custom component (see ``_LEFT_TO_PAGES``).

    Otherwise the first students' runs import torch, captum, matplotlib... (seconds of CPU
    holding the interpreter's lock: a sixth of it in the first half-minute of a class that
    arrived at a fresh server, ``bench load``). ``streamlit`` and ``cnnviz.ui`` themselves
    stay for the first run (see ``_LEFT_TO_PAGES``); what they import is loaded by then.
    """
    if not _started.acquire(blocking=False):
        return

    def run() -> None:
        warmers = []
        try:
            import_app(root, extra, first)
            # imported before READY: no page run imports them at the same time
            warmers = [_function(name) for name in then]
        finally:
            _set_ready()  # even after an error: the runs then import (and report) it themselves
        for warm in warmers:
            warm()

    threading.Thread(target=run, name="cnnviz-warm-start", daemon=True).start()


def call_each(names: tuple[str, ...]) -> None:
    """Call each function ``names`` names (``"module:function"``), in order."""
    for name in names:
        _function(name)()


def _function(name: str) -> Callable[[], object]:
    """The function a ``"module:function"`` name names, its module imported."""
    module, _sep, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def _set_ready() -> None:
    with _lock:
        READY.set()
        for loop, future in _waiters:
            loop.call_soon_threadsafe(_wake, future)
        _waiters.clear()


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


async def ready() -> None:
    """Return once :data:`READY` is set (at once on a warm server). Woken by the import
    thread, not by polling: a timer ticking in the event loop took the interpreter's lock
    from the imports on a busy machine."""
    if READY.is_set():
        return
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    with _lock:
        if READY.is_set():
            return
        _waiters.append((loop, future))
    await future


class HoldUntilWarm:
    """ASGI middleware: nothing that starts a page run, or an upload or a live frame, is
    handled before :data:`READY`; a websocket's handshake is (the browser keeps it open),
    its first message waits. Pages, static files, pictures and the health check pass at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if READY.is_set() or scope["type"] == "lifespan":
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            if scope["method"] not in ("GET", "HEAD"):
                await ready()
            await self.app(scope, receive, send)
        else:

            async def held() -> Message:
                message = await receive()
                if message["type"] == "websocket.receive":
                    await ready()
                return message

            await self.app(scope, held, send)


class Deferred:
    """An ASGI app of routes that are imported on their first request, after :data:`READY`
    (mounted with Starlette's ``Mount``; the routes see the request's path whole).

    Args:
        build: () -> the routes; called once, when the first request comes.
    """

    def __init__(self, build: Callable[[], list[BaseRoute]]) -> None:
        self.build = build
        self.router: Router | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await ready()
        if self.router is None:
            self.router = Router(routes=self.build())
        # Mount moved the matched prefix into root_path; the routes name whole paths
        scope = {**scope, "root_path": scope.get("app_root_path", "")}
        await self.router(scope, receive, send)
