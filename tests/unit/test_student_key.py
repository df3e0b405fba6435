"""Whom fairness counts a connection as (cnnviz/serving/student_key.py): a cookie's token, else the
client's address; X-Forwarded-For believed only from a trusted proxy, and then only the
hops that proxy and the ones it trusts added."""

from __future__ import annotations

import pytest

from cnnviz.serving.student_key import ADDRESS, client_address, key_for, trusted_proxies

LOOPBACK = trusted_proxies("127.0.0.1,::1")


def scope(peer: str | None, *forwarded: str) -> dict:
    return {
        "client": (peer, 40000) if peer else None,
        "headers": [(b"host", b"x"), *((b"x-forwarded-for", f.encode()) for f in forwarded)],
    }


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.7", (), "10.0.0.7"),  # straight from a laptop
        ("10.0.0.7", ("1.2.3.4",), "10.0.0.7"),  # a client's own X-Forwarded-For, not from a proxy: ignored
        ("127.0.0.1", ("10.0.0.9",), "10.0.0.9"),  # nginx on this host (serve/): the address it saw
        ("127.0.0.1", ("6.6.6.6, 10.0.0.9",), "10.0.0.9"),  # what the client wrote stands left of it
        ("127.0.0.1", ("6.6.6.6", "10.0.0.9"), "10.0.0.9"),  # several headers: one list, in order
        ("127.0.0.1", ("10.0.0.9, 127.0.0.1",), "10.0.0.9"),  # a second trusted hop is skipped
        ("127.0.0.1", ("junk, 10.0.0.9",), "10.0.0.9"),
        ("127.0.0.1", ("10.0.0.9, junk",), "127.0.0.1"),  # garbage where the proxy writes: nothing believed
        ("127.0.0.1", (), "127.0.0.1"),  # a local client without a proxy
        ("::ffff:10.0.0.7", (), "10.0.0.7"),  # the same laptop over a dual-stack socket
        ("::1", ("2001:db8::5",), "2001:db8::5"),
        (None, (), "unknown"),
    ],
)
def test_the_address_a_request_came_from(peer, forwarded, expected):
    assert client_address(scope(peer, *forwarded), LOOPBACK) == expected


def test_trusted_proxies_are_configurable_and_bad_entries_ignored(monkeypatch):
    monkeypatch.setenv("CNNVIZ_TRUSTED_PROXIES", "10.1.0.0/16, nonsense,")
    nets = trusted_proxies()
    assert [str(n) for n in nets] == ["10.1.0.0/16"]
    assert client_address(scope("10.1.2.3", "10.0.0.9"), nets) == "10.0.0.9"
    assert client_address(scope("127.0.0.1", "10.0.0.9"), nets) == "127.0.0.1"  # loopback no longer trusted
    assert client_address(scope("10.1.2.3", "10.0.0.9"), trusted_proxies("")) == "10.1.2.3"


def test_a_token_is_the_key_else_the_address():
    assert key_for("a1" * 16, scope("10.0.0.7"), LOOPBACK) == "a1" * 16
    assert key_for(None, scope("10.0.0.7"), LOOPBACK) == ADDRESS + "10.0.0.7"
