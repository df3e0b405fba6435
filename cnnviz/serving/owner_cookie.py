"""The owner cookie, set by the server's response: ``HttpOnly``, ``SameSite=Strict``, and
``Secure`` when the app is served over HTTPS.

A browser's models belong to a random token kept in the cookie ``cnnviz_owner``
(``cnnviz/ui/owner.py`` reads it, ``usermodels.owner_id`` stores only its digest). A script
in the page used to set it, so any script could read it and it went over plain HTTP too.
Streamlit's pages cannot answer with headers, but its ASGI mode (``st.App``, started by
``streamlit run asgi.py``) takes middleware: :class:`OwnerCookie`.

The server sets it on the app's pages (the HTML of ``/`` and of every page path) and on
its websocket, so a browser's websocket always carries it, even on its first visit; a
websocket that comes without it is a client that keeps no cookies, which fairness counts by
its address (:mod:`cnnviz.serving.student_key`; the middleware hands the session that key in the
header ``x-cnnviz-student``, after removing any the client sent).

A ``SameSite=Strict`` cookie is not sent with a page reached from another site (a link in a
class forum); answering that page with a fresh token would replace the student's own and
orphan every model they saved. So the token also travels in a second cookie,
``cnnviz_nav`` (``SameSite=Lax``: sent on such a link, never on another site's requests),
and on a page:

- a token in either cookie is sent back in both (which also renews their lifetime);
- without one, a fresh token is set in both; except on a link from another site
  (``Sec-Fetch-Site: cross-site``) to a browser that may hold only the Strict cookie (set
  before ``cnnviz_nav`` existed): there only ``cnnviz_nav`` is set, and the websocket, which
  carries the Strict one if it exists, decides.

On each websocket, the Strict cookie's token, else ``cnnviz_nav``'s, is sent back in both
cookies (which also upgrades a cookie the old page script set); without either, a fresh
token is made, handed to Streamlit as if the browser had sent it (``st.context.cookies``
reads the websocket's headers), and set by the handshake's reply.

No Streamlit here: plain ASGI, from Starlette only.
"""

from __future__ import annotations

import re
import secrets
import threading

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnnviz.serving import student_key

COOKIE = "cnnviz_owner"
NAV_COOKIE = "cnnviz_nav"
MAX_AGE_S = 365 * 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")
INSTALLED = threading.Event()  # an OwnerCookie serves this process: its student header can be believed


def is_token(value: object) -> bool:
    """Whether ``value`` is an owner token: 32 lower-case hex digits (128 bits)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def new_token() -> str:
    """A fresh owner token from ``secrets``."""
    return secrets.token_hex(16)


def request_token(headers: list[tuple[bytes, bytes]], cookie: str = COOKIE) -> str | None:
    """The owner token in a request's ``Cookie`` headers (``cookie``: which one), or None
    (absent or malformed). Read as Starlette reads them for ``st.context.cookies``: every
    header, the last value wins."""
    cookies: dict[str, str] = {}
    for name, value in headers:
        if name == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
    token = cookies.get(cookie)
    return token if is_token(token) else None


def over_https(scope: Scope) -> bool:
    """Whether the browser reached us over TLS: directly, or through a proxy that says so
    (``X-Forwarded-Proto: https``, as serve/nginx.conf.template sends). A client that fakes the
    header only gets a ``Secure`` cookie its own plain-HTTP page then cannot send back."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


def set_cookie(token: str, *, secure: bool, cookie: str = COOKIE) -> bytes:
    """The ``Set-Cookie`` header's value for ``token`` in ``cookie`` (the owner cookie, or
    :data:`NAV_COOKIE`, which is ``SameSite=Lax``)."""
    same_site = "Lax" if cookie == NAV_COOKIE else "Strict"
    attrs = f"{cookie}={token}; Max-Age={MAX_AGE_S}; Path=/; HttpOnly; SameSite={same_site}"
    return (attrs + ("; Secure" if secure else "")).encode("latin-1")


def _cross_site(scope: Scope) -> bool:
    return any(n == b"sec-fetch-site" and v.strip().lower() == b"cross-site" for n, v in scope["headers"])


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(n.lower() == b"content-type" and v.lower().startswith(b"text/html") for n, v in headers)


class OwnerCookie:
    """ASGI middleware: the owner cookie set by the server's reply on every page and websocket,
    and the student key handed to each websocket's session (see the module docstring). Other
    requests pass untouched.

    Args:
        trusted: the proxies whose ``X-Forwarded-For`` is believed (default:
            :func:`cnnviz.serving.student_key.trusted_proxies`)."""

    def __init__(self, app: ASGIApp, trusted: str | None = None) -> None:
        self.app = app
        self.trusted = student_key.trusted_proxies(trusted)
        INSTALLED.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            await self._page(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = request_token(scope["headers"]) or request_token(scope["headers"], NAV_COOKIE)
        names = (COOKIE, NAV_COOKIE)
        if token is None:
            token = new_token()
            if _cross_site(scope):
                names = (NAV_COOKIE,)
        secure = over_https(scope)
        cookies = [(b"set-cookie", set_cookie(token, secure=secure, cookie=name)) for name in names]

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and _is_html(message.get("headers", ())):
                message = {**message, "headers": [*message.get("headers", ()), *cookies]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(n, v) for n, v in scope["headers"] if n != student_key.HEADER]
        sent = request_token(headers)
        token = sent or request_token(headers, NAV_COOKIE)
        key = student_key.key_for(token, scope, self.trusted)
        if token is None:
            token = new_token()  # this session's own models; fairness counts it by its address
        if sent != token:
            # Appended last: it wins over a malformed or missing value sent before it.
            headers.append((b"cookie", f"{COOKIE}={token}".encode()))
        headers.append((student_key.HEADER, key.encode("latin-1")))
        scope = {**scope, "headers": headers}
        secure = over_https(scope)
        cookies = [(b"set-cookie", set_cookie(token, secure=secure, cookie=name)) for name in (COOKIE, NAV_COOKIE)]

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "websocket.accept":
                message = {**message, "headers": [*message.get("headers", ()), *cookies]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
