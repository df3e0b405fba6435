"""A fresh server answers at once and imports the app beside the browser's own start.

``streamlit run asgi.py`` listens only once asgi.py is imported. When asgi.py imported
torch, captum, matplotlib... itself (seconds of CPU), the browser could not even fetch
Streamlit's page until they were done, though fetching and starting that page (its
JavaScript, about a second of a core) needs none of them. :func:`begin` imports them in a
thread of their own instead, so both happen at once on the two cores. No page of the app
runs before that thread is done: a run that imported a module while this thread was half-way
through it found it half-initialised (Python waits for a module being imported by another
thread, not for its package: ``module 'matplotlib' has no attribute 'get_data_path'``).
Until :data:`READY`, app.py draws a first frame that imports nothing new
(``cnnviz.ui.first_frame``: the menu, the page's name, Predict's photo), and each session
that saw it runs its page again at READY (:func:`when_ready`). :class:`HoldUntilWarm` holds
uploads, and :class:`Deferred` the live view's frames, until then. Static files, the health
check and pictures pass at once.

No Streamlit here: the imports and plain ASGI.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Router
from starlette.types import ASGIApp, Receive, Scope, Send

READY = threading.Event()  # set once the app's imports are done (or failed: the runs then import)
_started = threading.Lock()
_lock = threading.Lock()
_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []  # held requests, woken at READY
_callbacks: list[Callable[[], object]] = []  # when_ready's, called at READY

# The longest the import thread gives way at one import: a visitor's request that imports a
# module this thread is half-way through waits for it, and so the wait must end by itself.
GIVE_WAY_S = 0.5
# begin(after_server_start=True): the longest the imports wait for the server to listen
SERVER_START_S = 5.0
_serving = threading.Event()  # set by serving(), st.App's lifespan
_start_by = 0.0
_visitors = 0  # requests and first frames under way before READY (visitor_turn)
_importer: int | None = None  # the import thread's id
_quiet = threading.Condition()


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
    root: Path,
    extra: tuple[str, ...] = SERVER_EXTRA,
    then: tuple[str, ...] = (),
    first: tuple[str, ...] = SERVER_FIRST,
    after_server_start: bool = False,
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
        global _importer, _start_by
        warmers = []
        _importer = threading.get_ident()
        _start_by = time.monotonic() + (SERVER_START_S if after_server_start else 0.0)
        sys.addaudithook(_give_way)
        try:
            import_app(root, extra, first)
            # imported before READY: no page run imports them at the same time
            warmers = [_function(name) for name in then]
        finally:
            _set_ready()  # even after an error: the runs then import (and report) it themselves
        for warm in warmers:
            warm()

    threading.Thread(target=run, name="cnnviz-warm-start", daemon=True).start()


@contextlib.contextmanager
def visitor_turn() -> Iterator[None]:
    """Work a visitor waits for before :data:`READY` (a static file, the first frame): the
    import thread gives way to it between two imports. Both take turns on one interpreter
    lock, so this costs the imports nothing in all: the visitor's work is done first instead
    of beside them, at half speed.

    Yields:
        Nothing; the turn ends with the block.
    """
    global _visitors
    with _quiet:
        _visitors += 1
    try:
        yield
    finally:
        with _quiet:
            _visitors -= 1
            _quiet.notify_all()


def _give_way(event: str, _args: tuple) -> None:
    """An audit hook: each module the import thread is about to import (the "import" event
    comes before the module's own lock is taken, and without importlib's global lock, which
    a finder in ``sys.meta_path`` would hold while it waits) waits, at most
    :data:`GIVE_WAY_S`, for the visitors' work under way to end. Audit hooks stay for the
    process's life: after READY this costs each audited event a call (~160 ns; a page run
    raises ~2,600, nearly all ``builtins.id``: ~0.4 ms of a 30–60 ms run)."""
    if event == "import" and _importer == threading.get_ident() and not READY.is_set():
        with _quiet:
            _quiet.wait_for(_turn, timeout=GIVE_WAY_S)


def _turn() -> bool:
    """Whether it is the import thread's turn: no visitor waits, and the server listens."""
    return _visitors == 0 and (_serving.is_set() or time.monotonic() > _start_by)


@contextlib.asynccontextmanager
async def serving(_app: object) -> AsyncIterator[None]:
    """A lifespan for ``st.App``: the server is about to listen (see ``begin(after_server_start=)``).

    Args:
        _app: the app (unused).

    Yields:
        Nothing; the server runs until the block ends.
    """
    with _quiet:
        _serving.set()
        _quiet.notify_all()
    yield


def call_each(names: tuple[str, ...]) -> None:
    """Call each function ``names`` names (``"module:function"``), in order."""
    for name in names:
        _function(name)()


def _function(name: str) -> Callable[[], object]:
    """The function a ``"module:function"`` name names, its module imported."""
    module, _sep, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def pending() -> bool:
    """Whether this process's warm start has begun and its imports are not done yet."""
    return _started.locked() and not READY.is_set()


def when_ready(callback: Callable[[], object]) -> None:
    """Call ``callback`` once :data:`READY` is set, in the import thread (at once, here, if it is).

    Args:
        callback: called with no arguments; it must not block (the warmers wait for it).
    """
    with _lock:
        if not READY.is_set():
            _callbacks.append(callback)
            return
    callback()


def _set_ready() -> None:
    with _lock:
        READY.set()
        for loop, future in _waiters:
            loop.call_soon_threadsafe(_wake, future)
        _waiters.clear()
        callbacks = _callbacks[:]
        _callbacks.clear()
    for callback in callbacks:
        callback()


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


async def readiness(_request: Request) -> PlainTextResponse:
    """``GET <base>/api/ready``: 200 once :data:`READY` is set (a page then runs at once,
    with no first frame), 503 before: for a readiness probe, or a test that needs a warm server.

    Args:
        _request: the request (unused).

    Returns:
        "ready" (200) or "starting" (503).
    """
    return PlainTextResponse("ready") if READY.is_set() else PlainTextResponse("starting", status_code=503)


class HoldUntilWarm:
    """ASGI middleware: no upload (or any other request that is no GET) is handled before
    :data:`READY`. Page runs are not held: until then, app.py draws the first frame
    (``cnnviz.ui.first_frame``), which imports nothing; the live view's frames wait in
    :class:`Deferred`. Pages, static files, pictures and the health check pass at once, and
    the import thread gives way to them (:func:`visitor_turn`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or READY.is_set():
            await self.app(scope, receive, send)
        elif scope["method"] not in ("GET", "HEAD"):
            await ready()
            await self.app(scope, receive, send)
        else:
            with visitor_turn():  # the page's own files, first: the imports give way
                await self.app(scope, receive, send)


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
