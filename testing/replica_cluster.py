"""Several app processes behind serve/'s nginx config, as replicas of a deployment are behind
their ingress: each process has a private temp folder of its own and only a shared folder
(``CNNVIZ_SHARED_DIR``) in common; nginx pins each browser to one of them by its
``cnnviz_route`` cookie (serve/nginx.conf.template) and sends it to another when that one
stops. Unlike serve/serve_lan.sh, one process can be stopped while the others go on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cnnviz.serving.shared_dir import ROOT_ENV, STORES
from testing.browser import _free_port, nginx, route_log, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Cluster:
    """``url``: nginx's https address; ``shared``: the one folder in common; ``temps``: each
    process's own temp folder; ``routes[i]``: a route cookie nginx sends to process ``i``."""

    url: str
    run: Path
    shared: Path
    temps: list[Path]
    procs: list = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    routes: dict[int, str] = field(default_factory=dict)

    def stop(self, i: int) -> None:
        """Stop process ``i`` as Kubernetes stops a pod (SIGTERM, then SIGKILL)."""
        stop_server(self.procs[i])


def _nginx_conf(run: Path, temp: Path, port: int, app_ports: list[int], cert: Path, key: Path) -> str:
    user = ""
    if os.geteuid() == 0:  # as serve_lan.sh: root's nginx workers run as nobody
        user = "user nobody nogroup;"
        temp.chmod(0o711)
        for d in temp.iterdir():
            shutil.chown(d, "nobody", "nogroup")
    values = {
        "RUN": str(run),
        "TEMP": str(temp),
        "USER_LINE": user,
        "LISTEN": "127.0.0.1",
        "PORT": str(port),
        "CERT": str(cert),
        "KEY": str(key),
        "BODY_MB": "52",
        "SERVERS": "\n".join(f"        server 127.0.0.1:{p};" for p in app_ports),
    }
    text = (ROOT / "serve" / "nginx.conf.template").read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def _route_for(url: str, run: Path, wanted: set[str]) -> dict[str, str]:
    """A route cookie for each upstream in ``wanted`` (nginx's consistent hash decides)."""
    found: dict[str, str] = {}
    ctx = ssl._create_unverified_context()
    for k in range(400):
        route = f"route{k:04d}"
        req = urllib.request.Request(url + "/_stcore/health", headers={"Cookie": f"cnnviz_route={route}"})
        urllib.request.urlopen(req, context=ctx, timeout=10).read()
        for _ in range(20):  # the access log line may follow the answer by a moment
            ups = [e["up"] for e in route_log(run) if e["route"] == route]
            if ups:
                break
            time.sleep(0.05)
        if ups and ups[-1] in wanted and ups[-1] not in found:
            found[ups[-1]] = route
        if len(found) == len(wanted):
            return found
    raise AssertionError(f"no route found for {wanted - set(found)}")


@contextlib.contextmanager
def cluster(run: Path, n: int = 3, env: dict | None = None):
    """``n`` app processes behind nginx; yields a :class:`Cluster`, stops everything after."""
    if nginx() is None:
        if os.environ.get("CNNVIZ_REQUIRE_BROWSER"):
            pytest.fail("Debian's nginx is not installed (make nginx)")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    shared, temps = run / "shared", [run / f"tmp-{i}" for i in range(n)]
    for d in (shared, *temps):
        d.mkdir()
    # Only the shared folder in common: every store's own variable (the test session sets
    # some) is blanked, so each store is found under CNNVIZ_SHARED_DIR or nowhere shared.
    base = {**{k: "" for k in STORES}, ROOT_ENV: str(shared), **(env or {})}
    with ThreadPoolExecutor(n) as pool:
        started = list(pool.map(lambda t: start_server({**base, "TMPDIR": str(t)}, timeout=180), temps))
    c = Cluster("", run, shared, temps, [p for p, _ in started], [int(u.rsplit(":", 1)[1]) for _, u in started])
    ngx = temp = None
    try:
        cert, key = run / "cert.pem", run / "key.pem"
        # nginx's workers write request bodies there: a folder they can reach (as serve_lan.sh)
        temp = Path(tempfile.mkdtemp(prefix="cnnviz-nginx-temp-"))
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"]
            + ["-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (temp / d).mkdir(parents=True)
        port = _free_port()
        (run / "nginx.conf").write_text(_nginx_conf(run, temp, port, c.ports, cert, key))
        ngx = subprocess.Popen([nginx(), "-c", str(run / "nginx.conf"), "-p", str(run), "-e", str(run / "error.log")])
        c.url = f"https://127.0.0.1:{port}"
        deadline = time.time() + 30
        while not (run / "nginx.pid").exists() or not _up(c.url):
            assert ngx.poll() is None and time.time() < deadline, (run / "error.log").read_text()
            time.sleep(0.2)
        by_up = _route_for(c.url, run, {f"127.0.0.1:{p}" for p in c.ports})
        c.routes = {i: by_up[f"127.0.0.1:{p}"] for i, p in enumerate(c.ports)}
        yield c
    finally:
        if ngx is not None:
            ngx.send_signal(signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                ngx.wait(10)
            if ngx.poll() is None:
                ngx.kill()
        for p in c.procs:
            if p.poll() is None:
                stop_server(p)
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _up(url: str) -> bool:
    try:
        ctx = ssl._create_unverified_context()
        with urllib.request.urlopen(url + "/_stcore/health", context=ctx, timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False
