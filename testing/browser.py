"""Helpers for browser tests: start/stop the app server, wait for Streamlit, navigate."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# Debian chromium, headless, offline: no sandbox (containers), no GPU, no background requests
def chromium() -> str:
    """Debian's chromium; without it the test skips, or fails where browsers are required
    (CNNVIZ_REQUIRE_BROWSER=1, as CI sets it)."""
    exe = shutil.which("chromium")
    if exe is None:
        if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
            pytest.fail("Debian's chromium is not installed (make chromium)")
        pytest.skip("chromium not installed")
    return exe


LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_output(proc) -> str:
    """Everything a server started by :func:`start_server` has printed so far."""
    proc.log.seek(0)
    return proc.log.read().decode(errors="replace")


# What the servers run: asgi.py (app.py with the owner-cookie middleware), as `make run` and
# serve/ do. CNNVIZ_SERVER_SCRIPT=app.py runs Streamlit's own server without it, to compare.
SERVER_SCRIPT = os.environ.get("CNNVIZ_SERVER_SCRIPT", "asgi.py")
HEALTH = "/_stcore/health"  # Streamlit's: the server listens
READY = "/api/ready"  # asgi.py's: the warm start is done


def start_server(
    env_extra: dict | None = None,
    port: int | None = None,
    timeout: float = 90,
    launcher: list[str] | None = None,
    address: str = "127.0.0.1",
):
    """Start `streamlit run asgi.py` listening on ``address``; returns (process, base url on 127.0.0.1).

    ``launcher``: what runs ``asgi.py [options]`` instead of ``python -m streamlit run``
    (the profile bench's sampling launcher). ``address`` "0.0.0.0": every interface, as
    `make run` listens (the LAN address then reaches it too)."""
    port = port or _free_port()
    argv = [*(launcher or [sys.executable, "-m", "streamlit", "run"]), str(ROOT / SERVER_SCRIPT)]
    proc = spawn(
        argv + ["--server.address", address, "--server.port", str(port), "--server.headless", "true"], env_extra
    )
    url = f"http://127.0.0.1:{port}"
    if not wait_healthy(proc, url, timeout) or not wait_warm(proc, url, timeout):
        stop_server(proc)
        raise RuntimeError("streamlit did not come up:\n" + server_output(proc))
    return proc, url


def spawn(argv: list[str], env_extra: dict | None = None) -> subprocess.Popen:
    """Start a server process in the project's root as `make run` does; stop it with
    :func:`stop_server`, read what it printed with :func:`server_output`."""
    # as `make run` starts it: one malloc arena (each session thread's own keeps freed memory)
    env = {"MALLOC_ARENA_MAX": "1", **os.environ, **(env_extra or {})}
    # The server's output goes to a file: a pipe nobody reads fills up (64 kB of log lines)
    # and blocks the server inside its next log call - a long bench run hung that way.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log = log
    return proc


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float, poll: float = 0.2, path: str = HEALTH) -> bool:
    """Whether the server at ``url`` answered its health check (or ``path``) within ``timeout``
    seconds (False at once if ``proc`` ended)."""
    deadline = time.perf_counter() + timeout
    while not _healthy(url, path):
        if proc.poll() is not None or time.perf_counter() > deadline:
            return False
        time.sleep(poll)
    return True


def wait_warm(proc: subprocess.Popen, url: str, timeout: float) -> bool:
    """Whether the server's warm start was done within ``timeout`` seconds: its pages then run
    at once, with no first frame (cnnviz/ui/first_frame.py) for a test to meet. Streamlit's own
    server (CNNVIZ_SERVER_SCRIPT=app.py) has no warm start."""
    return SERVER_SCRIPT != "asgi.py" or wait_healthy(proc, url, timeout, path=READY)


def start_preforked(env_extra: dict | None = None, processes: int = 2, timeout: float = 90):
    """The app processes of serve/serve_lan.sh without nginx: ``python -m cnnviz.ui.prefork``
    forks ``processes`` servers from one launcher. Returns (launcher, [(pid, url), ...]);
    stop it with :func:`stop_server`, which stops them all."""
    ports = [_free_port() for _ in range(processes)]
    options = ["--server.address", "127.0.0.1", "--server.headless", "true"]
    proc = spawn([sys.executable, "-m", "cnnviz.ui.prefork", *map(str, ports), "--", *options], env_extra)
    deadline = time.perf_counter() + timeout
    for port in ports:
        url = f"http://127.0.0.1:{port}"
        if not wait_healthy(proc, url, deadline - time.perf_counter(), path=READY):
            stop_server(proc)
            raise RuntimeError("the preforked servers did not come up:\n" + server_output(proc))
    pids = {int(m[1]): int(m[0]) for m in re.findall(r"app process \d+: pid (\d+), port (\d+)", server_output(proc))}
    return proc, [(pids[port], f"http://127.0.0.1:{port}") for port in ports]


def _healthy(url: str, path: str = HEALTH) -> bool:
    try:
        with urllib.request.urlopen(url + path, timeout=2) as r:
            return r.status == 200
    except OSError:  # refused, or an HTTP error (503: still starting)
        return False


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    if getattr(proc, "log", None) is not None:
        proc.log.close()


def proc_status(pid: int, field: str) -> int:
    """A memory field of /proc/PID/status (``VmRSS``, ``VmHWM``...) in bytes."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1)) << 10


def reset_peak(pid: int) -> None:
    """Start a new peak: VmHWM := VmRSS (``/proc/PID/clear_refs`` ← 5, Linux >= 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def decode_qr(png: bytes) -> list[str]:
    """The texts of the QR codes in a PNG (zxing-cpp, a decoder independent of the app's segno)."""
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))]


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script (status widget gone)."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)
    page.wait_for_timeout(200)


def open_app(page, url: str, timeout: float = 120_000) -> None:
    """Open the app and wait for app.py's own navigation and an idle script."""
    page.goto(url)
    page.locator('[data-testid="stTopNavSection"]', has_text="Explore").first.wait_for(timeout=timeout)
    wait_idle(page, timeout)


def nav_link(page, title: str):
    """The page menu's link to the page called ``title`` (exactly), in whichever top-bar section."""
    return page.locator('[data-testid="stTopNavDropdownLink"]').filter(has=page.get_by_text(title, exact=True))


def goto_page(page, title: str) -> None:
    """Open a page through the top bar's menus (app.py: st.navigation(position="top"))."""
    link = nav_link(page, title)
    for section in page.locator('[data-testid="stTopNavSection"]').all():
        section.click()
        page.wait_for_timeout(150)
        if link.count() and link.first.is_visible():
            link.first.click()
            wait_idle(page)
            return
        page.keyboard.press("Escape")
    raise AssertionError(f"no page called {title!r} in the top bar")


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "an exception box is on the page"


def first_image_src(page) -> str:
    """The src of the main area's first picture (a data or /media URL): changes when it is redrawn."""
    img = page.locator('[data-testid="stImage"] img').first
    img.wait_for()
    return img.get_attribute("src")


def upload_photo(page, path) -> None:
    """Choose Upload in the sidebar, send the file, and wait until the app uses it."""
    page.locator('[data-testid="stSidebar"]').get_by_text("Upload", exact=True).click()
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    wait_idle(page)
    page.get_by_text(f"Using: {Path(path).name}").wait_for()
    wait_idle(page)


# cnnviz.ui.clickable's pictures: in the page (components v2, an open shadow root that
# Playwright's CSS selectors pierce), one focusable element each with its <img> inside
PICTURE = '[data-testid="cnnvizPicture"]'


def picture(page, index: int = 0):
    """The ``index``-th clickable picture's focusable frame (its <img> is ``.locator("img")``)."""
    return page.locator(PICTURE).nth(index)


def clickable_src(page, index: int = 0) -> str:
    """The src of the ``index``-th clickable picture (cnnviz.ui.clickable): changes when it is redrawn."""
    img = picture(page, index).locator("img")
    img.wait_for()
    return img.get_attribute("src")


def picture_served(page, index: int = 0) -> tuple[str, int]:
    """(src, natural width) of the ``index``-th clickable picture once its image has loaded:
    pictures come from the server's media endpoint, by address."""
    img = picture(page, index).locator("img")
    img.wait_for()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle(), timeout=20_000)
    return img.get_attribute("src"), img.evaluate("i => i.naturalWidth")


def click_picture(page, index: int, fx: float, fy: float) -> None:
    """Click the ``index``-th clickable picture at fractions (fx, fy) of its width and height, then
    wait for the rerun."""
    img = picture(page, index).locator("img")
    img.wait_for()
    box = img.bounding_box()
    assert box and box["width"] > 0, "the clickable picture has no size"
    img.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    wait_idle(page)


# ------------------------------------------------------------------ the classroom recipe (serve/)
def nginx() -> str | None:
    """Debian's nginx, or None."""
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@contextlib.contextmanager
def serve_lan(run: Path, env_extra: dict, processes: int = 2):
    """serve/serve_lan.sh on loopback: nginx + TLS + ``processes`` app processes with sticky
    sessions, its files in ``run``; yields the https base url, and stops it cleanly (asserted).
    Skips (or fails under CNNVIZ_REQUIRE_BROWSER) without nginx."""
    if nginx() is None:
        if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
            pytest.fail("Debian's nginx is not installed (make nginx)")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    port = _free_port()
    env = {
        **os.environ,
        "CNNVIZ_LISTEN": "127.0.0.1",
        "CNNVIZ_SERVE_DIR": str(run),
        "CNNVIZ_PYTHON": sys.executable,
        "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin",
        **env_extra,
    }
    out = open(run / "launcher.log", "wb")  # noqa: SIM115 - closed in finally
    # Own process group: whatever the launcher leaves behind can be found and killed.
    proc = subprocess.Popen(
        ["bash", str(ROOT / "serve" / "serve_lan.sh"), str(processes), str(port)],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 180
        while b"CNN Explorer: https://" not in (run / "launcher.log").read_bytes():
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail("serve_lan.sh did not come up:\n" + (run / "launcher.log").read_text(errors="replace"))
            time.sleep(0.5)
        yield f"https://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)  # the launcher's own clean stop (SIGQUIT to nginx ...)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
        stopped_cleanly = not _group_alive(proc.pid)
        if not stopped_cleanly:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        out.close()
        assert stopped_cleanly, "serve_lan.sh left processes running after SIGTERM"


ROUTE_LINE = re.compile(
    r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) upstream=(?P<up>\S+) route=(?P<route>\S+)'
)


def route_log(run: Path) -> list[dict]:
    """nginx's access log of :func:`serve_lan` as dicts: method, path, status, up (the app
    process), route (the sticky cookie)."""
    return [m.groupdict() for m in map(ROUTE_LINE.search, (run / "access.log").read_text().splitlines()) if m]
