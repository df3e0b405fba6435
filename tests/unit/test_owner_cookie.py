"""The owner cookie's middleware (cnnviz/serving/owner_cookie.py) in ASGI terms, without a server:
what the app behind it sees, and what a page's or the websocket handshake's reply carries."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.requests import HTTPConnection

from cnnviz.serving import student_key
from cnnviz.serving.owner_cookie import COOKIE, MAX_AGE_S, NAV_COOKIE, OwnerCookie, is_token, request_token

ALICE = "a1" * 16


def _run(scope: dict, content_type: bytes = b"text/html") -> tuple[dict, list[dict]]:
    """(the scope the app saw, the messages sent back) for one connection through the middleware."""
    seen: dict = {}
    sent: list[dict] = []

    async def app(scope, receive, send):
        seen.update(scope)
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept", "subprotocol": "streamlit", "headers": [(b"x-a", b"1")]})
        else:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    # on a thread of its own: the browser tests' Playwright keeps an event loop running on this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, OwnerCookie(app)(scope, receive, send)).result()
    return seen, sent


def _ws(headers: list[tuple[bytes, bytes]], scheme: str = "ws", client=("10.0.0.7", 50123)) -> dict:
    return {"type": "websocket", "scheme": scheme, "path": "/_stcore/stream", "headers": headers, "client": client}


def _page(headers: list[tuple[bytes, bytes]], path: str = "/", method: str = "GET") -> dict:
    return {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": path,
        "headers": headers,
        "client": ("10.0.0.7", 1),
    }


def _cookies(sent: list[dict]) -> dict[str, str]:
    """The reply's Set-Cookie values by cookie name."""
    values = [v.decode() for k, v in sent[0]["headers"] if k == b"set-cookie"]
    return {v.split("=", 1)[0]: v for v in values}


def _set_cookie(sent: list[dict]) -> str:
    """The owner cookie's Set-Cookie; the Lax one carries the same token."""
    got = _cookies(sent)
    assert set(got) == {COOKIE, NAV_COOKIE}, sent
    token = got[COOKIE].split(";")[0].split("=")[1]
    assert got[NAV_COOKIE] == got[COOKIE].replace(COOKIE, NAV_COOKIE, 1).replace("SameSite=Strict", "SameSite=Lax")
    assert token == got[NAV_COOKIE].split(";")[0].split("=")[1]
    return got[COOKIE]


def _student(seen: dict) -> str:
    values = [v.decode() for k, v in seen["headers"] if k == student_key.HEADER]
    assert len(values) == 1
    return values[0]


def test_a_browser_without_the_cookie_gets_a_fresh_token_from_the_handshake():
    seen, sent = _run(_ws([(b"host", b"x"), (b"cookie", b"_streamlit_xsrf=2|a|b|c")]))
    token = HTTPConnection(seen).cookies[COOKIE]  # as st.context.cookies reads it
    assert is_token(token)
    assert HTTPConnection(seen).cookies["_streamlit_xsrf"] == "2|a|b|c"  # the other cookies untouched
    assert (b"x-a", b"1") in sent[0]["headers"]  # Streamlit's own reply headers kept
    assert _set_cookie(sent) == f"{COOKIE}={token}; Max-Age={MAX_AGE_S}; Path=/; HttpOnly; SameSite=Strict"
    assert _student(seen) == "address:10.0.0.7"  # a client that keeps no cookies: fairness by its address


def test_the_browsers_own_token_is_kept_and_set_again_with_the_attributes():
    headers = [(b"cookie", f"a=1; {COOKIE}={ALICE}".encode())]
    seen, sent = _run(_ws(headers))
    assert seen["headers"][:-1] == headers  # only the student key added: the app reads the browser's own
    assert _set_cookie(sent).startswith(f"{COOKIE}={ALICE}; ") and "HttpOnly" in _set_cookie(sent)
    assert _student(seen) == ALICE


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


def test_a_page_sets_the_cookie_so_the_first_websocket_carries_it():
    seen, sent = _run(_page([(b"host", b"x")], path="/predict"))
    token = _set_cookie(sent).split(";")[0].split("=")[1]
    assert is_token(token) and "SameSite=Strict" in _cookies(sent)[COOKIE]
    # the websocket that page opens carries it: the same student, no fresh token
    seen, sent = _run(_ws([(b"cookie", f"{COOKIE}={token}; {NAV_COOKIE}={token}".encode())]))
    assert _student(seen) == token and _set_cookie(sent).startswith(f"{COOKIE}={token};")
    # the page again (a reload) renews the same token
    _, sent = _run(_page([(b"cookie", f"{COOKIE}={token}".encode())]))
    assert _set_cookie(sent).startswith(f"{COOKIE}={token};")


def test_a_link_from_another_site_never_replaces_the_students_token():
    # a browser that has both cookies: only the Lax one comes with the link; the same token goes back
    _, sent = _run(_page([(b"cookie", f"{NAV_COOKIE}={ALICE}".encode()), (b"sec-fetch-site", b"cross-site")]))
    assert _set_cookie(sent).startswith(f"{COOKIE}={ALICE};")
    # one that has only the Strict cookie (set before the Lax one existed): nothing Strict is set
    _, sent = _run(_page([(b"sec-fetch-site", b"cross-site")]))
    assert set(_cookies(sent)) == {NAV_COOKIE}
    fresh = _cookies(sent)[NAV_COOKIE].split(";")[0].split("=")[1]
    # its websocket brings the Strict one: the student's own token wins, and both cookies say so
    seen, sent = _run(_ws([(b"cookie", f"{NAV_COOKIE}={fresh}; {COOKIE}={ALICE}".encode())]))
    assert _student(seen) == ALICE and request_token(seen["headers"]) == ALICE
    assert _set_cookie(sent).startswith(f"{COOKIE}={ALICE};")
    # a new browser that came by a link: the Lax cookie's token becomes its owner token
    seen, sent = _run(_ws([(b"cookie", f"{NAV_COOKIE}={fresh}".encode())]))
    assert _student(seen) == fresh and request_token(seen["headers"]) == fresh
    assert _set_cookie(sent).startswith(f"{COOKIE}={fresh};")


def test_a_student_key_the_client_sends_itself_is_dropped():
    forged = [(student_key.HEADER, ALICE.encode()), (b"cookie", b"x=1")]
    seen, _ = _run(_ws(forged))
    assert _student(seen) == "address:10.0.0.7"
    seen, _ = _run(_ws([*forged, (b"cookie", f"{COOKIE}={'b2' * 16}".encode())]))
    assert _student(seen) == "b2" * 16


def test_other_requests_pass_untouched():
    for scope, kind in (
        (_page([(b"cookie", b"x=1")], path="/_stcore/health"), b"text/plain"),  # not a page
        (_page([(b"cookie", b"x=1")], method="POST"), b"text/html"),
    ):
        seen, sent = _run(scope, kind)
        assert seen["headers"] == scope["headers"]
        assert not any(k == b"set-cookie" for m in sent for k, _ in m.get("headers", ()))


def test_tokens_are_128_random_bits():
    tokens = {request_token(_run(_ws([]))[0]["headers"]) for _ in range(200)}
    assert len(tokens) == 200 and all(is_token(t) for t in tokens)
