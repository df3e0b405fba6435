"""The address students can open: the base of every shared link and QR code.

A teacher usually opens the app on the server itself (``http://localhost:8501``), and a link
to ``localhost`` leads every student's phone to itself. The base of a shared link is, first
found first used:

1. ``CNNVIZ_PUBLIC_URL`` (the address behind a proxy or a DNS name, e.g.
   ``https://cnn.school.example``), as configured;
2. Streamlit's ``browser.serverAddress`` when set on purpose (with ``browser.serverPort`` and
   ``server.baseUrlPath``);
3. the address the browser used, when it is not this machine's loopback (the teacher opened
   the LAN address or a proxy: students can use the same);
4. that address with its host replaced by this server's LAN address (the source address of a
   UDP socket "connected" to a private address: no packet is sent, no network needed);
5. the browser's own ``localhost`` address, with a warning saying why students cannot open it.

Pure: no Streamlit; the caller passes what the configuration and the browser say.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from cnnviz.i18n import _

ENV = "CNNVIZ_PUBLIC_URL"
# One address in each private range: connect() on a UDP socket only picks the route and the
# source address the kernel would use to reach it; nothing is sent.
PROBES = ("10.255.255.255", "172.31.255.255", "192.168.255.255")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class PublicBase:
    """The base of shared links (``url``: scheme, host, port and path, no trailing slash),
    where it came from (``source``: "public", "server_address", "browser", "lan" or
    "localhost") and, when students probably cannot open it, one sentence saying why
    (``warning``)."""

    url: str
    source: str
    warning: str | None = None


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` (and ``*.localhost``), 127.0.0.0/8, ::1 and the unspecified
    addresses (0.0.0.0, ::): hosts that mean "this machine" to whoever opens them."""
    if not host:
        return True
    h = host.strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        return False  # a DNS name: whoever resolves it decides
    return ip.is_loopback or ip.is_unspecified


def lan_ipv4(probes: tuple[str, ...] = PROBES) -> str | None:
    """This machine's IPv4 address on its network, found without sending anything: the
    source address the kernel picks to reach each of ``probes`` (first usable), else a
    non-loopback address of the host name; None when there is none (no network)."""
    for probe in probes:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect((probe, 9))  # UDP: sets the route only
                ip = s.getsockname()[0]
            except OSError:  # no route to that range
                continue
        if not is_loopback(ip):
            return ip
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    return next((i[4][0] for i in infos if not is_loopback(i[4][0])), None)


def _netloc(host: str, port: int | None, scheme: str) -> str:
    h = f"[{host}]" if ":" in host else host
    return h if port is None or DEFAULT_PORTS.get(scheme) == port else f"{h}:{port}"


def _valid_public(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def public_base(
    browser_url: str,
    *,
    public: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
    base_path: str = "",
    listen_address: str | None = None,
    lan_ip: str | None = None,
) -> PublicBase:
    """Where students should open the app (see the module docstring for the order).

    Args:
        browser_url: the app's base as this browser opened it, e.g. ``http://localhost:8501``
            (with the base path if any, without the page's path).
        public: ``CNNVIZ_PUBLIC_URL`` (None or "" when not set).
        server_address: Streamlit's ``browser.serverAddress`` when set on purpose, else None.
        server_port: Streamlit's ``browser.serverPort`` (used with ``server_address``).
        base_path: Streamlit's ``server.baseUrlPath`` (used with ``server_address``).
        listen_address: Streamlit's ``server.address`` (None or "": every interface).
        lan_ip: this server's LAN address (:func:`lan_ipv4`), None when it has none.

    Returns:
        A :class:`PublicBase`; its ``url`` has no trailing slash.
    """
    bad_public = None
    if public and public.strip():
        if (good := _valid_public(public)) is not None:
            return PublicBase(good, "public")
        bad_public = _("{env} is not an http(s) address, so it was ignored.").format(env=ENV) + " "
    parts = urlsplit(browser_url.rstrip("/"))
    scheme = parts.scheme or "http"
    if server_address and not is_loopback(server_address):
        path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        url = f"{scheme}://{_netloc(server_address, server_port, scheme)}{path}"
        return PublicBase(url, "server_address", bad_public and bad_public.strip())
    if not is_loopback(parts.hostname):
        return PublicBase(urlunsplit(parts), "browser", bad_public and bad_public.strip())
    # 0.0.0.0 / :: listen on every interface; 127.0.0.1 / localhost on this machine only
    local_only = (
        bool(listen_address) and is_loopback(listen_address) and listen_address.strip("[]") not in ("0.0.0.0", "::")
    )
    if lan_ip and not local_only:
        url = urlunsplit((scheme, _netloc(lan_ip, parts.port, scheme), parts.path, "", ""))
        return PublicBase(url, "lan", bad_public and bad_public.strip())
    if local_only:
        why = _(
            "Students cannot open this link: the server listens on this computer only (server.address "
            "{address}). Start it with --server.address 0.0.0.0 (as make run does) or set {env}."
        ).format(address=listen_address, env=ENV)
    else:
        why = _(
            "Students cannot open this link: this computer has no network address but localhost. "
            "Connect it to the class network, or set {env}."
        ).format(env=ENV)
    return PublicBase(urlunsplit(parts), "localhost", (bad_public or "") + why)
