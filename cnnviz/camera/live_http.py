"""The live view's two HTTP routes, beside Streamlit's (asgi.py mounts them):

* ``POST <base>/api/live/frame`` with the stream's token in ``X-Live-Token``: a JPEG frame in the body; the answer is JSON:
  the top-5, the layer's strongest channels and the Grad-CAM overlay (as data URLs with
  their text alternatives), the seconds it took, and ``next_ms``: when the next frame may
  come (:mod:`cnnviz.camera.live_streams`). A refused frame gets ``{"error": <one sentence>}``
  with a 4xx/5xx status.
* ``POST <base>/api/live/close`` with the token as its body: the tab goes (``navigator.sendBeacon`` on
  ``pagehide``) or the camera stopped: the stream's place is free at once.

Why not a Streamlit widget value: a frame sent as a component's value reruns the script
(the page's, or a fragment's) and the answer goes back through the session's websocket as a
new render; here a frame is one request that runs nothing but the analysis (docs/LIVE.md).
The token, a random secret handed to the page through its own websocket, is the frame's
credential; the routes read no cookie.

No Streamlit here: Starlette only.
"""

from __future__ import annotations

import base64
import time

from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cnnviz import i18n
from cnnviz.camera.live import LiveFrame, analyse, encode, frame_alt
from cnnviz.camera.live_streams import MAX_FRAME_BYTES, STREAMS, LiveRefused, Streams, class_first
from cnnviz.errors import CnnvizError
from cnnviz.inputs.images import decode_image
from cnnviz.serving import memguard

__all__ = ["FRAME_COST_BYTES", "answer", "routes"]

FRAME_COST_BYTES = 96 << 20  # what one frame's analysis may allocate (EfficientNet-Lite0 with Grad-CAM: ~50 MB)


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def payload(f: LiveFrame) -> dict:
    """A frame's analysis as the JSON the page draws (labels as text, pictures as data URLs)."""
    alt = frame_alt(f)
    out = {
        "top": [{"index": t.index, "label": t.label, "prob": t.prob} for t in f.top],
        "layer": f.layer,
        "channels": list(f.channels),
        "tiles": _data_url(encode(f.tiles, "PNG"), "image/png"),
        "tiles_alt": alt["tiles"],
        "cam": None,
        "seconds": round(f.seconds, 4),
    }
    if f.crop.mode == "L":  # a digit model: what it is shown differs from the camera's picture
        seen = f.crop.resize((4 * f.crop.width, 4 * f.crop.height), Image.NEAREST)
        out.update(seen=_data_url(encode(seen, "PNG"), "image/png"), seen_alt=alt["seen"])
    if f.cam is not None:
        out.update(cam=_data_url(encode(f.overlay), "image/jpeg"), cam_alt=alt["cam"], cam_label=f.cam.label)
        out["cam_layer"] = f.cam.layer
    return out


def answer(streams: Streams, token: str, data: bytes) -> tuple[int, dict]:
    """One frame ``data`` (image bytes) of stream ``token``: (HTTP status, JSON body).
    The page's whole path, used by the route and the bench alike."""
    received = time.perf_counter()
    with i18n.use(streams.language(token)):  # the student's words, in this server thread
        return _answer(streams, token, data, received)


def _answer(streams: Streams, token: str, data: bytes, received: float) -> tuple[int, dict]:
    try:
        s = streams.admit(token, len(data))
        busy = class_first()
        start, cpu = time.perf_counter(), time.thread_time()  # its cost, without its wait for the class's clicks
        with memguard.reserve(FRAME_COST_BYTES, "the live view"):
            img = decode_image(data, name="camera frame")  # as the sidebar decodes a photo
            f = analyse(s.lm, img, s.settings)
            body = payload(f)
            # what Freeze keeps: the bytes received, or the digit model's own view, losslessly
            kept = data if f.view is img else encode(f.view, "PNG")
    except LiveRefused as e:
        return e.status, {"error": str(e), "next_ms": 2000}
    except CnnvizError as e:  # a bad frame or a busy server: the stream goes on, slower
        return 503 if isinstance(e, memguard.ServerBusy) else 400, {"error": str(e), "next_ms": 1000}
    streams.done(s, kept, time.perf_counter() - start)
    body["next_ms"] = streams.next_ms(s, busy)
    body["server_ms"] = round(1000 * (time.perf_counter() - received), 1)
    body["cpu_ms"] = round(1000 * (time.thread_time() - cpu), 1)  # this thread's: torch runs on it (1 thread)
    return 200, body


def routes(base_url: str = "", streams: Streams = STREAMS) -> list[Route]:
    """The live view's routes under Streamlit's ``server.baseUrlPath`` ``base_url``, serving
    the registry ``streams`` (the server's, or a bench's own)."""

    async def frame(request: Request) -> Response:
        data = await request.body()
        token = request.headers.get("x-live-token", "")
        if len(data) > MAX_FRAME_BYTES:
            with i18n.use(streams.language(token)):
                return JSONResponse({"error": i18n._("This frame is too large."), "next_ms": 2000}, status_code=413)
        status, body = await run_in_threadpool(answer, streams, token, data)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    async def close(request: Request) -> Response:
        streams.close((await request.body())[:64].decode("ascii", "replace"))
        return Response(status_code=204)

    prefix = "/" + base_url.strip("/") if base_url.strip("/") else ""
    return [
        Route(f"{prefix}/api/live/frame", frame, methods=["POST"]),
        Route(f"{prefix}/api/live/close", close, methods=["POST"]),
    ]
