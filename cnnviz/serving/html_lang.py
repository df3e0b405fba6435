"""The page's ``<html lang>`` in the reader's language from its first byte.

Screen readers pick their voice from ``<html lang>``; Streamlit's page says ``"en"`` whatever
the app shows. A script of the app's (``cnnviz.ui.language``) sets it after the first run,
so until then a German student's reader spoke the German menu with an English voice.
:class:`HtmlLang` writes the language into the page as the server sends it, chosen as the
app chooses it for a new session: a ``lang=`` of the link when it is one of the app's
languages, else the browser's ``Accept-Language``.

No Streamlit here: plain ASGI, from Starlette only.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnnviz import i18n

_STREAMLIT_TAG = b'<html lang="en">'  # Streamlit's index.html, as served for every page path


def page_language(scope: Scope) -> str:
    """The language a page request's view opens in.

    Args:
        scope: the ASGI scope of the request.

    Returns:
        Its ``lang=`` if offered, else the browser's ``Accept-Language`` negotiated against
        :data:`cnnviz.i18n.LANGUAGES`.
    """
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    url = (query.get("lang") or [None])[-1]
    if url in i18n.LANGUAGES:
        return url
    header = next((v.decode("latin-1") for n, v in scope.get("headers", ()) if n == b"accept-language"), None)
    return i18n.negotiate(i18n.accept_language(header))


def _wants_html(scope: Scope) -> bool:
    return any(n == b"accept" and b"text/html" in v for n, v in scope["headers"])


class HtmlLang:
    """ASGI middleware: a page's HTML (a browser's navigation: ``Accept: text/html``) gets
    ``<html lang>`` in :func:`page_language`; other requests pass untouched. The page is
    asked for uncompressed (Streamlit would gzip it), a few kB."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not _wants_html(scope):
            await self.app(scope, receive, send)
            return
        lang = page_language(scope)
        tag = f'<html lang="{lang}">'.encode("ascii")
        scope = {**scope, "headers": [(n, v) for n, v in scope["headers"] if n != b"accept-encoding"]}
        start: Message | None = None
        body: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                html = any(n.lower() == b"content-type" and v.lower().startswith(b"text/html") for n, v in headers)
                coded = any(n.lower() == b"content-encoding" for n, _v in headers)
                if html and not coded and scope["method"] == "GET":
                    start = message  # held until the whole body is here: its length changes
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = b"".join(body).replace(_STREAMLIT_TAG, tag, 1)
                headers = [(n, v) for n, v in start.get("headers", ()) if n.lower() != b"content-length"]
                headers += [(b"content-length", str(len(page)).encode()), (b"vary", b"Accept-Language")]
                await send({**start, "headers": headers})
                message = {"type": "http.response.body", "body": page}
            await send(message)

        await self.app(scope, receive, rewrite)
