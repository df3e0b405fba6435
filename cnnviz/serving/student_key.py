"""Whom the class's fairness counts a connection as: the job queue's lanes
(:mod:`cnnviz.serving.jobs`), the per-student page gate (``cnnviz/ui/fair_runs.py``) and the
per-student shares of the shared stores (:mod:`cnnviz.serving.shares`).

A browser is its owner token (the cookie ``cnnviz_owner``): the server sets it on the app's
page and on its websocket (``cnnviz/serving/owner_cookie.py``), so a browser's websocket always
carries it, however many tabs it opens. A websocket that comes without it is a client that
keeps no cookies (a script): a fresh token each connection would make it a new student each
time, around all three. Such a client is counted by its address instead, so every cookieless
connection from one address shares one student's lane. The address is the peer's, or, when
the peer is a trusted proxy (``CNNVIZ_TRUSTED_PROXIES``: addresses or networks, comma-
separated; default loopback, where serve/'s nginx runs), the last address in
``X-Forwarded-For`` that is not itself a trusted proxy (nginx appends the address it saw, so
what a client wrote there itself stands further left and is never taken).

Browsers behind one classroom NAT share an address but carry their own cookies, so they
stay separate students. A cookieless client's models are still its session's own: only
fairness keys on the address.

No Streamlit here: plain ASGI scopes and strings.
"""

from __future__ import annotations

import ipaddress
import os

from starlette.types import Scope

__all__ = ["ADDRESS", "HEADER", "client_address", "key_for", "trusted_proxies"]

HEADER = b"x-cnnviz-student"  # the key the middleware hands the session (a client's own is removed)
ADDRESS = "address:"  # prefix of a cookieless client's key
_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(spec: str | None = None) -> list[_Net]:
    """The proxies whose ``X-Forwarded-For`` is believed (``spec`` or ``CNNVIZ_TRUSTED_PROXIES``,
    default ``127.0.0.1,::1``); an entry that is not an address or network is ignored."""
    spec = os.environ.get("CNNVIZ_TRUSTED_PROXIES", "127.0.0.1,::1") if spec is None else spec
    nets = []
    for part in spec.split(","):
        try:
            nets.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            continue
    return nets


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    return ip.ipv4_mapped or ip if isinstance(ip, ipaddress.IPv6Address) else ip


def client_address(scope: Scope, trusted: list[_Net]) -> str:
    """The address a request came from (see the module docstring); "unknown" without a peer."""
    client = scope.get("client")
    peer = _ip(client[0]) if client else None
    if peer is None:
        return str(client[0]) if client and client[0] else "unknown"
    if not any(peer in net for net in trusted):
        return str(peer)
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops += value.decode("latin-1").split(",")
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break  # garbage: nothing to its left can be trusted either
        if not any(ip in net for net in trusted):
            return str(ip)
    return str(peer)


def key_for(token: str | None, scope: Scope, trusted: list[_Net]) -> str:
    """The student a connection counts as: its owner token (already checked, or None), else
    its client address."""
    return token or ADDRESS + client_address(scope, trusted)
