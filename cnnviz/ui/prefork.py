"""A class's app processes, forked from one that imported the app first (serve/serve_lan.sh).

``python -m cnnviz.ui.prefork [--logs DIR] PORT [PORT ...] [-- STREAMLIT OPTIONS]`` serves
``asgi.py`` on each port from its own process, as ``streamlit run asgi.py --server.port PORT``
would.

Started apart, each process imports torch, torchvision, captum...: about 400 MB that none of
them changes afterwards (what torch's import allocates, the modules' own objects). Forked
from one parent that imported them, the processes share those pages until one writes to
them (docs/PERFORMANCE.md, "Processes forked from one launcher"). The parent freezes what it imported (``gc.freeze``), so the children's
collections leave it in place.

What may be done before a fork is narrow: the imports and the warm start's warmers (the
default model and dataset, then shared too). No thread of ours may run (a fork copies only
the thread that calls it, with any lock another held), no forward may use more than one
torch thread (OpenMP's pool does not survive a fork; the warmers set torch to one thread
first, as the server runs), and no Streamlit component may be declared (one is registered
per process, at a script run): :func:`cnnviz.ui.warm_start.import_app` leaves cnnviz.ui's
components and Streamlit's own modules to each child's warm start. Each child then starts
its own threads as a lone ``streamlit run`` does, and its warmers find their results cached.

The parent stays to watch: a child that dies is forked again at once (its imports are done:
about a second rather than five), at most ``MAX_RESTARTS`` times a minute; SIGTERM or SIGINT
stops every child (SIGTERM, then SIGKILL after ``STOP_S``) and the parent.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import gc
import os
import signal
import sys
import time
from pathlib import Path

__all__ = ["MAX_RESTARTS", "STOP_S", "main", "preload", "share_budget"]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "asgi.py"
MAX_RESTARTS = 5  # a minute: a child that keeps dying is a fault, not a hiccup
STOP_S = 8.0  # serve_lan.sh's own stop kills what is left after 10 s


def share_budget(processes: int) -> None:
    """Give each of ``processes`` its share of the machine's memory budget, unless one is set:
    each process's guard weighs its own memory against ``CNNVIZ_MEMORY_BUDGET_MB``, and N
    processes each allowed 85 % of the machine would together be allowed N times that."""
    from cnnviz.serving import memguard

    if not os.environ.get("CNNVIZ_MEMORY_BUDGET_MB", "").strip():
        os.environ["CNNVIZ_MEMORY_BUDGET_MB"] = str(memguard.budget_bytes() // processes >> 20)


def preload(root: Path = ROOT) -> None:
    """Do what every child's warm start would, in this (the parent) process, then freeze it:
    the imports, and the warmers' default model and dataset, which the children then share
    rather than each loading its own copy."""
    from cnnviz import compat as torch_compat
    from cnnviz.ui import compat, warm_start

    warm_start.import_app(root)
    torch_compat.import_dynamo()  # the first job's optimiser would import it, in a child
    compat.preload_command()  # the children's server, shared like the rest
    # One torch thread whatever the children will use: a forward on more would start
    # OpenMP's pool here, which the children would inherit broken.
    threads = os.environ.get("CNNVIZ_TORCH_THREADS")
    os.environ["CNNVIZ_TORCH_THREADS"] = "1"
    try:
        warm_start.call_each(warm_start.SERVER_WARMERS)
    finally:
        if threads is None:
            del os.environ["CNNVIZ_TORCH_THREADS"]
        else:
            os.environ["CNNVIZ_TORCH_THREADS"] = threads

    gc.collect()
    gc.freeze()


def _child(index: int, port: int, options: list[str], logs: Path | None) -> None:
    """In a forked child: serve asgi.py on ``port``; never returns."""
    code = 1
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)  # Streamlit installs its own stop
        _end_with_parent()
        if logs is not None:
            fd = os.open(logs / f"app-{index}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
        from cnnviz.ui import compat

        compat.streamlit_command(["run", SCRIPT, "--server.port", str(port), *options])
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported, then the child ends; the parent forks another
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _end_with_parent() -> None:
    """SIGTERM this process when the parent ends, even killed (Linux's PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent was gone before the call
        os.kill(os.getpid(), signal.SIGTERM)


class _Children:
    def __init__(self, ports: list[int], options: list[str], logs: Path | None) -> None:
        self.ports, self.options, self.logs = ports, options, logs
        self.pids: dict[int, int] = {}  # pid -> index
        self.restarts: list[float] = []
        self.stopping = False

    def fork(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:
            _child(index, self.ports[index], self.options, self.logs)
        self.pids[pid] = index
        print(f"app process {index}: pid {pid}, port {self.ports[index]}", flush=True)  # i18n: not UI (operator log)

    def stop(self, *_args) -> None:
        self.stopping = True
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(pid, signal.SIGTERM)

    def watch(self) -> int:
        """Wait for the children; fork a dead one again unless stopping. Returns the exit code."""
        deadline = None
        while self.pids:
            if self.stopping and deadline is None:
                deadline = time.monotonic() + STOP_S
            if deadline is not None and time.monotonic() > deadline:
                for pid in self.pids:
                    with contextlib.suppress(ProcessLookupError):  # already gone
                        os.kill(pid, signal.SIGKILL)
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.2)
                continue
            index = self.pids.pop(pid, None)
            if index is None or self.stopping:
                continue
            print(f"app process {index} (pid {pid}) ended: {_how(status)}", file=sys.stderr, flush=True)  # i18n: not UI
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 60] + [now]
            if len(self.restarts) > MAX_RESTARTS:
                ended = f"error: app processes ended {len(self.restarts)} times in a minute"  # i18n: not UI
                print(ended, file=sys.stderr)
                self.stop()
                return 1
            self.fork(index)
        return 0


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module's docstring); returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    options: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, options = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(prog="python -m cnnviz.ui.prefork", description=__doc__.split("\n\n")[0])
    # the operator's command line stays English, as the CLI's
    parser.add_argument("ports", nargs="+", type=int, help="one app process per port")  # i18n: not UI
    parser.add_argument("--logs", type=Path, help="write app process i's output to DIR/app-i.log")  # i18n: not UI
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # streamlit run's script and .streamlit/config.toml, as `make run` finds them
    share_budget(len(args.ports))
    preload()
    children = _Children(args.ports, options, args.logs)
    signal.signal(signal.SIGTERM, children.stop)
    signal.signal(signal.SIGINT, children.stop)
    for index in range(len(args.ports)):
        children.fork(index)
    return children.watch()


if __name__ == "__main__":
    sys.exit(main())
