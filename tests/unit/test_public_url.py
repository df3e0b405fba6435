"""The address shared links and QR codes use (cnnviz.lessons.public_url)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from cnnviz.lessons import public_url as pu
from cnnviz.lessons.public_url import public_base


@pytest.mark.parametrize(
    ("host", "loop"),
    [
        ("localhost", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", True),
        ("", True),
        (None, True),
        ("192.168.1.20", False),
        ("10.0.0.5", False),
        ("cnn.school.example", False),
        ("fe80::1", False),
    ],
)
def test_is_loopback(host, loop):
    assert pu.is_loopback(host) is loop


def test_the_configured_public_url_wins_and_loses_its_trailing_slash():
    b = public_base(
        "http://localhost:8501",
        public="https://cnn.school.example/explorer/",
        server_address="other.example",
        lan_ip="192.168.1.20",
    )
    assert (b.url, b.source, b.warning) == ("https://cnn.school.example/explorer", "public", None)


def test_a_public_url_that_is_not_http_is_ignored_with_a_warning():
    b = public_base("http://localhost:8501", public="ftp://x.example", lan_ip="192.168.1.20")
    assert (b.url, b.source) == ("http://192.168.1.20:8501", "lan")
    assert b.warning.startswith("CNNVIZ_PUBLIC_URL is not an http(s) address")


def test_streamlits_server_address_with_its_port_and_base_path():
    b = public_base(
        "http://localhost:8501/cnn",
        server_address="cnn.school.example",
        server_port=8080,
        base_path="/cnn/",
        lan_ip="192.168.1.20",
    )
    assert (b.url, b.source, b.warning) == ("http://cnn.school.example:8080/cnn", "server_address", None)
    # the scheme's own port is not written; an IPv6 address gets brackets
    assert public_base("https://localhost/", server_address="cnn.example", server_port=443).url == "https://cnn.example"
    assert (
        public_base("http://localhost:8501", server_address="fd00::5", server_port=8501).url == "http://[fd00::5]:8501"
    )


def test_streamlits_default_server_address_localhost_does_not_count():
    b = public_base("http://localhost:8501", server_address="localhost", server_port=8501, lan_ip="10.1.2.3")
    assert (b.url, b.source) == ("http://10.1.2.3:8501", "lan")


def test_an_address_the_browser_reached_from_elsewhere_is_kept():
    b = public_base("https://cnn.school.example:8443/base", lan_ip="192.168.1.20")
    assert (b.url, b.source, b.warning) == ("https://cnn.school.example:8443/base", "browser", None)
    assert public_base("http://192.168.1.20:8501", lan_ip="10.0.0.1").url == "http://192.168.1.20:8501"


def test_localhost_becomes_the_lan_address_with_the_browsers_port_scheme_and_path():
    b = public_base("https://127.0.0.1:8443/cnn", lan_ip="192.168.1.20", listen_address="0.0.0.0")
    assert (b.url, b.source, b.warning) == ("https://192.168.1.20:8443/cnn", "lan", None)
    assert public_base("http://localhost", lan_ip="192.168.1.20").url == "http://192.168.1.20"
    assert public_base("http://[::1]:8501", lan_ip="192.168.1.20", listen_address="::").url == (
        "http://192.168.1.20:8501"
    )


def test_a_server_listening_on_loopback_only_keeps_localhost_and_says_why():
    b = public_base("http://127.0.0.1:8501", lan_ip="192.168.1.20", listen_address="127.0.0.1")
    assert (b.url, b.source) == ("http://127.0.0.1:8501", "localhost")
    assert "listens on this computer only (server.address 127.0.0.1)" in b.warning
    assert "--server.address 0.0.0.0" in b.warning and "CNNVIZ_PUBLIC_URL" in b.warning


def test_no_lan_address_keeps_localhost_and_says_why():
    b = public_base("http://localhost:8501", lan_ip=None)
    assert (b.url, b.source) == ("http://localhost:8501", "localhost")
    assert "this computer has no network address but localhost" in b.warning


def _can_bind(ip: str) -> bool:
    """An address this machine owns can be bound; any other cannot (EADDRNOTAVAIL)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((ip, 0))
        except OSError:
            return False
    return True


def test_lan_ipv4_is_an_address_of_this_machine_and_not_loopback():
    ip = pu.lan_ipv4()
    if ip is None:
        pytest.skip("this machine has no network address but loopback")
    assert not ipaddress.ip_address(ip).is_loopback
    assert _can_bind(ip)
    assert not _can_bind("192.0.2.254") or ip == "192.0.2.254"  # the check itself can fail


def test_lan_ipv4_without_any_route_falls_back_to_the_host_name_then_none(monkeypatch):
    class NoRoute(socket.socket):
        def connect(self, address):
            raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(pu.socket, "socket", NoRoute)
    monkeypatch.setattr(pu.socket, "getaddrinfo", lambda *a, **k: [(2, 2, 17, "", ("127.0.1.1", 0))])
    assert pu.lan_ipv4() is None
    monkeypatch.setattr(pu.socket, "getaddrinfo", lambda *a, **k: [(2, 2, 17, "", ("10.9.8.7", 0))])
    assert pu.lan_ipv4() == "10.9.8.7"
