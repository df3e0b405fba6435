"""The owner cookie, set by the server's response: ``HttpOnly``, ``SameSite=Strict``, and
``Secure`` when the app is served over HTTPS.

A browser's models belong to a random token kept in the cookie ``cnnviz_owner``
(``cnnviz/ui/owner.py`` reads it, ``usermodels.owner_id`` stores only its digest). A script
in the page used to set it, so any script could read it and it went over plain HTTP too.
Streamlit's pages cannot answer with headers, but its ASGI mode (``st.App``, started by
``streamlit run asgi.py``) takes middleware: :class:`OwnerCookie`.

The cookie travels on the app's websocket, not on the page's HTML: the websocket is always
opened by the app's own page (same origin), so a ``SameSite=Strict`` cookie the browser
holds is always sent with it. The HTML of a page reached from another site (a link in a
class forum) comes without it; a server that handed out a fresh token there would replace
the student's own and orphan every model they saved. So on each websocket:

- a valid token in the request is sent back with the attributes above (which also upgrades
  a cookie the old script set, and renews its lifetime);
- without one, a fresh token is made, handed to Streamlit as if the browser had sent it
  (``st.context.cookies`` reads the websocket's headers), and set by the handshake's reply.

No Streamlit here: plain ASGI, from Starlette only.
"""

from __future__ import annotations

import re
import secrets

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "cnnviz_owner"
MAX_AGE_S = 365 * 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")


def is_token(value: object) -> bool:
    """Whether ``value`` is an owner token: 32 lower-case hex digits (128 bits)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def new_token() -> str:
    """A fresh owner token from ``secrets``."""
    return secrets.token_hex(16)


def request_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The owner token in a request's ``Cookie`` headers, or None (absent or malformed).

    Read as Starlette reads them for ``st.context.cookies``: every header, the last value wins."""
    cookies: dict[str, str] = {}
    for name, value in headers:
        if name == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
    token = cookies.get(COOKIE)
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


def set_cookie(token: str, *, secure: bool) -> bytes:
    """The ``Set-Cookie`` header's value for ``token``."""
    attrs = f"{COOKIE}={token}; Max-Age={MAX_AGE_S}; Path=/; HttpOnly; SameSite=Strict"
    return (attrs + ("; Secure" if secure else "")).encode("latin-1")


class OwnerCookie:
    """ASGI middleware: every websocket leaves with the owner cookie set by the server's reply
    (see the module docstring). Other requests pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        token = request_token(scope["headers"])
        if token is None:
            token = new_token()
            # Appended last: it wins over a malformed value sent before it.
            scope = {**scope, "headers": [*scope["headers"], (b"cookie", f"{COOKIE}={token}".encode())]}
        header = (b"set-cookie", set_cookie(token, secure=over_https(scope)))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "websocket.accept":
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
