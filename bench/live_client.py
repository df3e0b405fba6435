"""One student's live camera stream beside the class (``bench load`` with ``CNNVIZ_LOAD_LIVE=1``).

A browser's Live page without a browser: open the page over Streamlit's protocol
(:class:`bench.load_client.AppSession`), read the stream's token from the camera component's
data, then post frames to the frame route as ``cnnviz/ui/live.js`` does - one at a time,
each after the delay the previous answer granted - until stopped.
"""

from __future__ import annotations

import json
import os
import threading
import time

from bench import Row
from bench.bench_live import frames
from bench.load_client import AppSession

LIVE = os.environ.get("CNNVIZ_LOAD_LIVE", "0") == "1"


class LiveStudent:
    """Start with :meth:`start`; :meth:`finish` stops it and returns what it got."""

    def __init__(self, url: str):
        self.url = url
        self.ok, self.refused, self.delays, self.error = 0, 0, [], ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-live-student", daemon=True)
        self._seconds = 0.0

    def start(self) -> LiveStudent:
        self._thread.start()
        return self

    def finish(self) -> dict:
        """Stop; {"frames": answered, "refused", "seconds", "fps", "p95_ms", "error"}."""
        self._stop.set()
        self._thread.join(60)
        d = sorted(self.delays)
        p95 = d[min(len(d) - 1, int(0.95 * len(d)))] * 1000 if d else float("nan")
        fps = self.ok / self._seconds if self._seconds else 0.0
        return {"frames": self.ok, "refused": self.refused, "seconds": self._seconds, "fps": fps, "p95_ms": p95,
                "error": self.error}  # fmt: skip

    def _token(self, s: AppSession) -> str:
        for el in s.elements.values():
            if el.WhichOneof("type") == "bidi_component" and el.bidi_component.json:
                data = json.loads(el.bidi_component.json).get("data") or json.loads(el.bidi_component.json)
                if isinstance(data, dict) and data.get("token"):
                    return data["token"]
        raise RuntimeError("the Live page drew no camera component")

    def _run(self) -> None:
        pictures = frames()
        try:
            with AppSession(self.url, timeout=180) as s:
                s.open()
                s.switch_page("Live")
                token = self._token(s)
                start, wait, i = time.perf_counter(), 0.0, 0
                while not self._stop.wait(wait):
                    t = time.perf_counter()
                    r = s.http.post(
                        f"{self.url}/api/live/frame",
                        data=pictures[i % len(pictures)],
                        headers={"Content-Type": "image/jpeg", "X-Live-Token": token},
                        timeout=30,
                    )
                    i += 1
                    body = r.json()
                    wait = body.get("next_ms", 1000) / 1000
                    if r.status_code == 200:
                        self.ok += 1
                        self.delays.append(time.perf_counter() - t)
                    else:
                        self.refused += 1
                self._seconds = time.perf_counter() - start
                s.http.post(f"{self.url}/api/live/close", data=token, timeout=5)
        except Exception as e:  # reported in the bench's row, never fatal to the class's run
            self.error = f"{type(e).__name__}: {e}"


def live_rows(got: list[dict]) -> list[Row]:
    """Report rows of the live stream beside each run of the class (the class's own p95
    row, measured with it, is the target that must hold)."""
    fps = [g["fps"] for g in got]
    return [
        Row(
            f"load: one live camera stream beside the class, {len(got)} runs",
            " · ".join(f"{g['fps']:.1f} frames/s, p95 {g['p95_ms']:.0f} ms" for g in got),
            f"{sum(g['frames'] for g in got)} frames, {sum(g['refused'] for g in got)} refused",
            min(fps) if fps else 0.0,
            "report" + "".join(f" ({g['error']})" for g in got if g["error"]),
            not any(g["error"] for g in got),
        )
    ]
