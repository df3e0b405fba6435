"""The page's ``<html lang>`` as the server sends it (cnnviz/serving/html_lang.py), in ASGI
terms without a server: chosen as cnnviz.ui.language chooses a new session's language."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from cnnviz.serving.html_lang import HtmlLang, page_language

PAGE = b'<!doctype html>\n<html lang="en">\n<head><title>Streamlit</title></head><body></body></html>'


def _scope(query: bytes = b"", accept_language: bytes | None = None, accept: bytes = b"text/html,*/*") -> dict:
    headers = [(b"accept", accept), (b"accept-encoding", b"gzip, br")]
    if accept_language is not None:
        headers.append((b"accept-language", accept_language))
    return {"type": "http", "method": "GET", "path": "/features", "query_string": query, "headers": headers}


def _serve(scope: dict, chunks: list[bytes], content_type: bytes = b"text/html; charset=utf-8"):
    """(the scope the app saw, the messages the browser got) for one request through HtmlLang."""
    seen: dict = {}
    sent: list[dict] = []

    async def app(scope, receive, send):
        seen.update(scope)
        size = str(sum(map(len, chunks))).encode()
        headers = [(b"content-type", content_type), (b"content-length", size), (b"etag", b'"x"')]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    with ThreadPoolExecutor(1) as pool:  # Playwright's tests keep an event loop on this thread
        pool.submit(asyncio.run, HtmlLang(app)(scope, receive, send)).result()
    return seen, sent


def _body(sent: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize(
    ("query", "header", "lang"),
    [
        (b"", None, "en"),
        (b"", b"de-DE,de;q=0.9,en;q=0.5", "de"),
        (b"", b"fr-FR, es;q=0.4", "es"),  # French is not offered: the next wanted one that is
        (b"", b"fr-FR", "en"),
        (b"lang=es&image=chelsea", b"de-DE", "es"),  # a link's language beats the browser's
        (b"lang=xx", b"de", "de"),  # a lang= not offered is no choice
        (b"lang=%22%3E%3Cscript%3E", None, "en"),  # nor markup
    ],
)
def test_the_language_is_the_link_s_else_the_browser_s(query, header, lang):
    assert page_language(_scope(query, header)) == lang
    seen, sent = _serve(_scope(query, header), [PAGE])
    body = _body(sent)
    assert body == PAGE.replace(b'lang="en"', f'lang="{lang}"'.encode())
    headers = dict(sent[0]["headers"])
    assert int(headers[b"content-length"]) == len(body)
    assert headers[b"vary"] == b"Accept-Language" and headers[b"etag"] == b'"x"'
    assert b"accept-encoding" not in dict(seen["headers"])  # asked uncompressed: the bytes are rewritten


def test_a_page_sent_in_pieces_is_rewritten_whole():
    cut = PAGE.index(b"lang") + 3  # the tag split across two chunks
    _seen, sent = _serve(_scope(accept_language=b"de"), [PAGE[:cut], PAGE[cut:]])
    assert _body(sent) == PAGE.replace(b'lang="en"', b'lang="de"')
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


def test_other_requests_pass_untouched():
    """A script, a picture or an XHR (no text/html wanted) keeps its bytes, headers and encoding."""
    scope = _scope(accept_language=b"de", accept=b"*/*")
    seen, sent = _serve(scope, [PAGE], content_type=b"application/javascript")
    assert _body(sent) == PAGE and b"vary" not in dict(sent[0]["headers"])
    assert dict(seen["headers"])[b"accept-encoding"] == b"gzip, br"
    # a navigation answered with something else than HTML is untouched too
    _seen, sent = _serve(_scope(accept_language=b"de"), [b'<html lang="en">'], content_type=b"text/plain")
    assert _body(sent) == b'<html lang="en">'
