"""The owner cookie's middleware (cnnviz/owner_cookie.py) in ASGI terms, without a server:
what the app behind it sees, and what the websocket handshake's reply carries."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.requests import HTTPConnection

from cnnviz.owner_cookie import COOKIE, MAX_AGE_S, OwnerCookie, is_token, request_token

ALICE = "a1" * 16


def _run(scope: dict) -> tuple[dict, list[dict]]:
    """(the scope the app saw, the messages sent back) for one connection through the middleware."""
    seen: dict = {}
    sent: list[dict] = []

    async def app(scope, receive, send):
        seen.update(scope)
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept", "subprotocol": "streamlit", "headers": [(b"x-a", b"1")]})
        else:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    # on a thread of its own: the browser tests' Playwright keeps an event loop running on this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, OwnerCookie(app)(scope, receive, send)).result()
    return seen, sent


def _ws(headers: list[tuple[bytes, bytes]], scheme: str = "ws") -> dict:
    return {"type": "websocket", "scheme": scheme, "path": "/_stcore/stream", "headers": headers}


def _set_cookie(sent: list[dict]) -> str:
    values = [v.decode() for k, v in sent[0]["headers"] if k == b"set-cookie"]
    assert len(values) == 1, sent
    return values[0]


def test_a_browser_without_the_cookie_gets_a_fresh_token_from_the_handshake():
    seen, sent = _run(_ws([(b"host", b"x"), (b"cookie", b"_streamlit_xsrf=2|a|b|c")]))
    token = HTTPConnection(seen).cookies[COOKIE]  # as st.context.cookies reads it
    assert is_token(token)
    assert HTTPConnection(seen).cookies["_streamlit_xsrf"] == "2|a|b|c"  # the other cookies untouched
    assert (b"x-a", b"1") in sent[0]["headers"]  # Streamlit's own reply headers kept
    assert _set_cookie(sent) == f"{COOKIE}={token}; Max-Age={MAX_AGE_S}; Path=/; HttpOnly; SameSite=Strict"


def test_the_browsers_own_token_is_kept_and_set_again_with_the_attributes():
    headers = [(b"cookie", f"a=1; {COOKIE}={ALICE}".encode())]
    seen, sent = _run(_ws(headers))
    assert seen["headers"] == headers  # nothing added: the app reads the browser's own
    assert _set_cookie(sent).startswith(f"{COOKIE}={ALICE}; ") and "HttpOnly" in _set_cookie(sent)


@pytest.mark.parametrize("bad", ["", "A1" * 16, "a1" * 15, "zz" * 16, ALICE + "0", '"' + ALICE + '"x'])
def test_a_malformed_token_is_replaced(bad):
    seen, sent = _run(_ws([(b"cookie", f"{COOKIE}={bad}".encode())]))
    token = HTTPConnection(seen).cookies[COOKIE]
    assert is_token(token) and token != bad
    assert request_token(seen["headers"]) == token
    assert _set_cookie(sent).startswith(f"{COOKIE}={token}; ")


@pytest.mark.parametrize(
    ("scheme", "forwarded", "secure"),
    [
        ("ws", None, False),
        ("wss", None, True),
        ("ws", b"https", True),  # nginx (serve/nginx.conf.template) in front, TLS there
        ("ws", b"https, http", True),  # the first proxy's word counts
        ("ws", b"http", False),
    ],
)
def test_secure_exactly_when_served_over_https(scheme, forwarded, secure):
    headers = [(b"x-forwarded-proto", forwarded)] if forwarded else []
    _, sent = _run(_ws(headers, scheme))
    assert _set_cookie(sent).endswith("; Secure") == secure


def test_other_requests_pass_untouched():
    scope = {"type": "http", "scheme": "http", "path": "/", "headers": [(b"cookie", b"x=1")]}
    seen, sent = _run(scope)
    assert seen["headers"] == [(b"cookie", b"x=1")]
    assert not any(k == b"set-cookie" for k, _ in sent[0]["headers"])


def test_tokens_are_128_random_bits():
    tokens = {_run(_ws([]))[0]["headers"][-1][1] for _ in range(200)}
    assert len(tokens) == 200
