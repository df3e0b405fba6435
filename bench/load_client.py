"""One app session driven from Python over Streamlit's own websocket protocol.

What a browser tab does, without a browser (30 Chromium tabs on 2 cores would measure the
browser, not the app): fetch the XSRF cookie, open ``/_stcore/stream``, send ``BackMsg``
reruns with widget states, read ``ForwardMsg`` deltas until the script finishes, and
upload files the frontend's way (ask for upload URLs, ``PUT`` multipart, then report the
file in the uploader's widget state). Works over http and https (through nginx).

Streamlit 1.67 protocol facts this relies on (see streamlit/web/server/starlette/):
- websocket subprotocols ``["streamlit", <xsrf cookie value>]`` and an ``Origin`` whose
  host:port equals ``Host``;
- a keyed widget's id ends with ``-<key>``; radios and selectboxes take ``string_value``
  (the formatted option);
- image URLs are content hashes (``/media/<hash>.png``), so equal pictures give equal URLs.
"""

from __future__ import annotations

import contextlib
import re
import ssl
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlparse

import requests
import urllib3
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileUploaderState, FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.exceptions import ConnectionClosedError, InvalidMessage
from websockets.sync.client import connect

XSRF_COOKIE = "_streamlit_xsrf"
APP_COOKIES = ("cnnviz_owner", "cnnviz_nav")  # cnnviz/serving/owner_cookie.py
# Timings the app prints ("forward pass 17 ms") differ from run to run: not part of a result.
_OWNER = re.compile(r"cnnviz_owner=[0-9a-f]{32}")
_TIMING = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s)\b")

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # self-signed test certs


class ProtocolError(RuntimeError):
    """The server did something a browser tab would show as broken."""


@dataclass
class RunResult:
    """What one script run drew, in layout order.

    ``view``: one ``(kind, content)`` per element (kind: the proto's element type; content:
    its text with timings blanked, or a digest of its bytes); ``errors``: exception boxes
    and ``st.error`` texts; ``media``: the ``/media/...`` URLs of its images;
    ``seconds``: from sending the request to ``script_finished``.
    """

    view: list[tuple[str, str]]
    errors: list[str]
    media: list[str]
    seconds: float

    def text(self) -> str:
        """All markdown / heading / caption / progress text of the run, one element a line."""
        return "\n".join(c for k, c in self.view if k in ("markdown", "heading", "alert", "imgs", "progress"))


@dataclass
class AppSession:
    """A browser tab's worth of Streamlit session. Use as a context manager.

    base_url: ``http://127.0.0.1:PORT`` or ``https://host:PORT`` (self-signed accepted).
    """

    base_url: str
    timeout: float = 120.0
    session_id: str = ""
    pages: dict[str, str] = field(default_factory=dict)  # page title -> page_script_hash
    widget_ids: dict[str, str] = field(default_factory=dict)  # user key -> widget id
    bytes_in: int = 0  # websocket messages and fetched media received so far
    query_string: str = ""  # the page URL's query (without "?"), sent with every rerun as a tab does
    owner: str = ""  # the browser's cnnviz_owner cookie (32 hex digits): tabs of one student
    cookieless: bool = False  # keeps none of the app's cookies (a script): fairness counts its address
    fragments: set[str] = field(default_factory=set)  # st.fragment(run_every=...) ids to poll
    reconnects: int = 0  # websocket handshakes closed without an answer, then tried again
    resume: str = ""  # a session id the handshake names, as a tab reconnecting after its server stopped
    elements: dict = field(default_factory=dict)  # the last run's elements (protos) by delta path
    _states: dict[str, WidgetState] = field(default_factory=dict)
    _page_hash: str = ""

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.http = requests.Session()
        self.http.verify = False  # self-signed certificates (ours, on the LAN)
        self.http.trust_env = False  # else a CA-bundle variable overrides verify; no proxies
        self._ws = None
        self._pending: list[bytes] = []  # a message :meth:`listen` received, not read yet
        self._stack = contextlib.ExitStack()

    # --- connection -------------------------------------------------------------------
    def open(self, query: str | None = None, page_hash: str = "") -> RunResult:
        """Connect (cookie, websocket) and run the default page, as a page load does; ``query``:
        a link's query string (``model=...&image=...``; default: ``query_string``); ``page_hash``:
        another page's (a tab reconnecting on the page it showed)."""
        if query is not None:
            self.query_string = query
        if page_hash:
            self._page_hash = page_hash
        if self.owner:
            self.http.cookies.set("cnnviz_owner", self.owner)
        # The index page hands out the cookies a browser would have (XSRF, nginx's route).
        self.http.get(self.base_url + "/", timeout=self.timeout).raise_for_status()
        self.http.get(self.base_url + "/_stcore/health", timeout=self.timeout).raise_for_status()
        xsrf = self.http.cookies.get(XSRF_COOKIE)
        if not xsrf:
            raise ProtocolError("the server set no XSRF cookie")
        u = urlparse(self.base_url)
        ws_url = ("wss" if u.scheme == "https" else "ws") + f"://{u.netloc}{u.path}/_stcore/stream"
        ctx = None
        if u.scheme == "https":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cookieless:  # the page set the owner cookie; a client that keeps no cookies drops it
            for c in [c for c in self.http.cookies if c.name in APP_COOKIES]:
                self.http.cookies.clear(c.domain, c.path, c.name)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        for attempt in range(3):
            try:
                ws = connect(
                    ws_url,
                    subprotocols=["streamlit", xsrf, *([self.resume] if self.resume else [])],
                    origin=f"{u.scheme}://{u.netloc}",
                    additional_headers={"Cookie": cookie},
                    ssl=ctx,
                    max_size=None,
                    open_timeout=self.timeout,
                    compression=None,
                )
                break
            except (InvalidMessage, ConnectionClosedError):
                # The connection closed before any answer (nginx did so once in CI; a TLS
                # connection was once closed under the handshake's write). Streamlit's frontend
                # opens the socket again after such a close; so does a tab here, and counts it.
                # A refusal with a status (403, 502) is not retried.
                if attempt == 2:
                    raise
                self.reconnects += 1
                time.sleep(0.5)
        self._ws = self._stack.enter_context(ws)
        return self.rerun()

    @property
    def page_hash(self) -> str:
        """The page this tab shows (its ``page_script_hash``; "" before any run: the default)."""
        return self._page_hash

    def close(self) -> None:
        self._stack.close()  # the websocket
        self._ws = None
        self.http.close()

    def __enter__(self) -> AppSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- interactions -------------------------------------------------------------------
    def rerun(self) -> RunResult:
        """Send the current widget states and wait for the run to finish."""
        t = time.perf_counter()
        self._send(BackMsg(rerun_script=self._client_state()))
        return self._read_run(t)

    def poll(self) -> RunResult | None:
        """What the browser's timers do for ``st.fragment(run_every=...)``: rerun each such
        fragment once (a job's progress, its heartbeat). The last run, or None if none."""
        out = None
        for fid in sorted(self.fragments):
            t = time.perf_counter()
            self._send(BackMsg(rerun_script=self._client_state(fragment_id=fid, is_auto_rerun=True)))
            out = self._read_run(t, fragment=True)
        return out

    def listen(self, seconds: float) -> RunResult | None:
        """Wait up to ``seconds`` for a run the server starts by itself (a pushed rerun, as a
        tab just receives it); that run, or None if none began."""
        end = time.perf_counter() + seconds
        while True:
            try:
                data = self._ws.recv(timeout=max(0.001, end - time.perf_counter()))
            except TimeoutError:
                return None
            msg = ForwardMsg()
            msg.ParseFromString(data)
            if msg.WhichOneof("type") == "new_session":  # a run begins
                self._pending.append(data)
                return self._read_run(time.perf_counter())
            self.bytes_in += len(data)  # after a run (its status...): nothing to wait for

    def choose(self, key: str, option: str) -> RunResult:
        """Pick ``option`` (its displayed text) in the radio or selectbox with ``key``."""
        self._set(key, string_value=option)
        return self.rerun()

    def set_widget(self, key: str, **value) -> RunResult:
        """Set the widget with ``key`` to a value (``int_value=3``, ...) and rerun."""
        self._set(key, **value)
        return self.rerun()

    def click(self, key: str) -> RunResult:
        """Press the button with ``key`` (sent once, as the frontend does)."""
        self._set(key, trigger_value=True)
        try:
            return self.rerun()
        finally:
            self._states.pop(self.widget_ids[key], None)

    def switch_page(self, title: str) -> RunResult:
        """Click the navigation link ``title``."""
        if title not in self.pages:
            raise ProtocolError(f"no page called {title!r} (pages: {', '.join(self.pages)})")
        self._page_hash = self.pages[title]
        return self.rerun()

    def put_file(self, name: str, data: bytes, mime: str = "image/jpeg") -> UploadedFileInfo:
        """Ask the server for an upload URL and PUT ``data`` there, as the frontend does
        before it reports a file in a widget; a client may stop here, with no widget
        involved (the server still holds the file: cnnviz/ui/upload_limits.py)."""
        req_id = uuid.uuid4().hex
        self._send(
            BackMsg(file_urls_request=FileURLsRequest(request_id=req_id, file_names=[name], session_id=self.session_id))
        )
        urls = None
        while urls is None:
            msg = self._recv()
            if msg.WhichOneof("type") == "file_urls_response" and msg.file_urls_response.response_id == req_id:
                if msg.file_urls_response.error_msg:
                    raise ProtocolError(msg.file_urls_response.error_msg)
                urls = msg.file_urls_response.file_urls[0]
        r = self.http.put(
            urljoin(self.base_url + "/", urls.upload_url.lstrip("/")),
            files={"file": (name, data, mime)},
            headers={"X-Xsrftoken": self.http.cookies.get(XSRF_COOKIE), "Origin": self.base_url},
            timeout=self.timeout,
        )
        if r.status_code != 204:
            raise ProtocolError(f"upload refused: HTTP {r.status_code} {r.text[:200]}")
        return UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls)

    def upload(self, key: str, name: str, data: bytes, mime: str = "image/jpeg") -> RunResult:
        """Put ``data`` into the file uploader with ``key``, as a browser does; the timing
        covers the URL request, the PUT and the rerun."""
        t = time.perf_counter()
        info = self.put_file(name, data, mime)
        self._set(key, file_uploader_state_value=FileUploaderState(uploaded_file_info=[info]))
        self._send(BackMsg(rerun_script=self._client_state()))
        return self._read_run(t)

    def upload_files(self, key: str, files: list[tuple[str, bytes]], mime: str = "image/png") -> RunResult:
        """Put several files (a folder's: relative names such as ``data/cat/0.png``) into the
        multi-file uploader with ``key``, as a browser does, and wait for the run."""
        t = time.perf_counter()
        infos = [self.put_file(name, data, mime) for name, data in files]
        self._set(key, file_uploader_state_value=FileUploaderState(uploaded_file_info=infos))
        self._send(BackMsg(rerun_script=self._client_state()))
        return self._read_run(t)

    def clear_caches(self) -> RunResult:
        """The menu's "Clear cache" (any client can send it): empties st.cache_data and
        st.cache_resource, which hold nothing shared - models and results live in the app's
        own caches (cnnviz/serving/cache.py) and stay; returns the rerun that follows."""
        self._send(BackMsg(clear_cache=True))
        return self.rerun()  # handled in order: when this run ends, the caches were cleared

    def fetch(self, url: str) -> bytes:
        """GET a URL of the app (e.g. an image's /media URL) as the page would."""
        r = self.http.get(urljoin(self.base_url + "/", url.lstrip("/")), timeout=self.timeout)
        if r.status_code != 200:
            raise ProtocolError(f"GET {url}: HTTP {r.status_code}")
        self.bytes_in += len(r.content)
        return r.content

    # --- plumbing -----------------------------------------------------------------------
    def _client_state(self, **fragment) -> ClientState:
        return ClientState(
            page_script_hash=self._page_hash,
            widget_states=WidgetStates(widgets=list(self._states.values())),
            query_string=self.query_string,
            **fragment,
        )

    def _set(self, key: str, **value) -> None:
        if key not in self.widget_ids:
            raise ProtocolError(f"no widget with key {key!r} on the page")
        wid = self.widget_ids[key]
        self._states[wid] = WidgetState(id=wid, **value)

    def _send(self, msg: BackMsg) -> None:
        self._ws.send(msg.SerializeToString())

    def _recv(self) -> ForwardMsg:
        try:
            data = self._pending.pop(0) if self._pending else self._ws.recv(timeout=self.timeout)
        except TimeoutError:
            raise ProtocolError(f"no message from the server for {self.timeout:.0f} s") from None
        self.bytes_in += len(data)
        msg = ForwardMsg()
        msg.ParseFromString(data)
        return msg

    def _read_run(self, t0: float, fragment: bool = False) -> RunResult:
        """Read ForwardMsgs until this run's ``script_finished``; keep the final element at
        each delta path (a spinner is replaced by what it was waiting for). ``fragment``: a
        fragment's own run, which redraws only its part of the page."""
        elements: dict[tuple[int, ...], object] = {}
        seen_ids: set[str] = set()
        while True:
            msg = self._recv()
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                if msg.new_session.initialize.session_id:
                    self.session_id = msg.new_session.initialize.session_id
                if not msg.metadata.run.fragment_ids:  # a whole run: its fragments register anew
                    self.fragments.clear()
                    fragment = False
                self._set_pages(msg.new_session.app_pages)
            elif kind == "page_info_changed":  # the app wrote st.query_params: the tab's URL follows
                self.query_string = msg.page_info_changed.query_string
            elif kind == "auto_rerun":
                self.fragments.add(msg.auto_rerun.fragment_id)
            elif kind == "stop_auto_rerun":
                self.fragments.difference_update(msg.stop_auto_rerun.fragment_ids)
            elif kind == "navigation":
                self._set_pages(msg.navigation.app_pages)
                self._page_hash = msg.navigation.page_script_hash or self._page_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                el = msg.delta.new_element
                elements[tuple(msg.metadata.delta_path)] = el
                wid = getattr(getattr(el, el.WhichOneof("type")), "id", "")
                if isinstance(wid, str) and wid:
                    seen_ids.add(wid)
                    key = wid.rsplit("-", 1)[-1] if wid.startswith("$$ID-") else ""
                    if key:
                        self.widget_ids[key] = wid
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise ProtocolError("the page failed to compile")
                break
        seconds = time.perf_counter() - t0
        # Like the frontend, report only widgets that are on the page now (a fragment's run
        # redraws only its own).
        if not fragment:
            self._states = {k: v for k, v in self._states.items() if k in seen_ids}
        self.elements = elements
        return self._summarise(elements, seconds)

    def _set_pages(self, app_pages) -> None:
        for p in app_pages:
            self.pages[p.page_name] = p.page_script_hash

    @staticmethod
    def _summarise(elements: dict, seconds: float) -> RunResult:
        import hashlib

        view, errors, media = [], [], []
        for path in sorted(elements):
            el = elements[path]
            kind = el.WhichOneof("type")
            body = getattr(el, kind)
            if kind in ("markdown", "heading", "text"):
                content = _TIMING.sub("#", body.body)
            elif kind == "alert":
                content = f"{body.format}:{body.body}"
                if body.format == 1:  # Alert.ERROR
                    errors.append(body.body)
            elif kind == "exception":
                content = f"{body.type}: {body.message}"
                errors.append(content)
            elif kind == "imgs":
                urls = [i.url for i in body.imgs]
                media.extend(u for u in urls if "/media/" in u)
                content = " ".join(f"{i.url}|{i.caption}" for i in body.imgs)
            elif kind == "progress":
                content = _TIMING.sub("#", body.text)  # a job's place in line or its steps
            elif kind == "selectbox":  # what a student can pick (the model list, ...), and the rest
                digest = hashlib.sha1(body.SerializeToString(deterministic=True)).hexdigest()[:12]
                content = f"{body.label}: {' | '.join(body.options)} #{digest}"
            elif kind == "download_button":
                # Its URL names a per-session media file (or deferred callback); the label is the view.
                content = body.label
            elif kind == "iframe":
                # The owner-cookie component carries each browser's own random token.
                content = _OWNER.sub("cnnviz_owner=#", body.srcdoc)
            else:
                content = hashlib.sha1(body.SerializeToString(deterministic=True)).hexdigest()[:12]
            view.append((kind, content))
        return RunResult(view=view, errors=errors, media=media, seconds=seconds)
