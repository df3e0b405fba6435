"""Run the app's server with a sampling profiler inside it: where does server time go?

``python -m bench.sampler OUT.tsv APP.py [streamlit options]`` starts ``streamlit run``
in this process with a daemon thread that, every ``INTERVAL_S``, looks at the Python stack
of every other Python thread and its CPU clock, books the CPU the thread used since the
last look to what its stack shows (:func:`category`), and appends
``<time.monotonic()> <cpu seconds> <category>`` lines to OUT.tsv (flushed every quarter
second, so a killed server loses at most that). ``time.monotonic`` is the system-wide
CLOCK_MONOTONIC on Linux, so a client in another process can cut the samples by the start
and end of its interactions. Threads without Python frames (torch's intra-op workers) are
not seen: the process's CPU minus the booked CPU is their share. Nothing of this is
imported by the app itself.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

INTERVAL_S = 0.004
_DEBUG = bool(os.environ.get("CNNVIZ_SAMPLER_DEBUG"))  # also record each sample's innermost frame

# (substring of a frame's file, function names or None for any) -> category; checked from
# the innermost frame outwards, the first match names the sample. Frames of torch and of
# the model's own code (cnnviz/models/) match nothing: the caller decides.
_RULES: tuple[tuple[str, frozenset[str] | None, str], ...] = (
    ("PIL/", frozenset({"save", "_save", "_encode_tile", "encode"}), "picture encoding (PNG/JPEG)"),
    ("streamlit/elements/lib/image_utils.py", None, "picture encoding (PNG/JPEG)"),
    ("cnnviz/inputs/images.py", None, "decode upload"),
    ("cnnviz/explain/blocks.py", None, "Grad-CAM sweep"),
    ("cnnviz/explain/", None, "Grad-CAM"),
    ("cnnviz/inside/capture.py", None, "forward + capture"),
    ("cnnviz/inside/predict.py", None, "forward (prediction)"),
    ("cnnviz/models/loaded_model.py", frozenset({"use", "_acquire", "_release"}), "model lock (wait, restore)"),
    ("cnnviz/models/loaded_model.py", None, "preprocess"),
    ("cnnviz/serving/lanes.py", None, "decode upload"),
    ("cnnviz/models/zoo.py", frozenset({"load_model", "warm_up", "_build", "build"}), "model load"),
    ("cnnviz/models/zoo.py", None, "preprocess"),
    ("cnnviz/inside/catalogue.py", None, "layer catalogue"),
    ("cnnviz/inside/receptive_field.py", None, "layer catalogue"),
    ("cnnviz/render.py", None, "rendering (numpy, colormaps)"),
    ("cnnviz/inside/featuremaps.py", None, "rendering (numpy, colormaps)"),
    ("altair", None, "charts (altair)"),
    ("streamlit/runtime/caching", None, "Streamlit cache (hash, pickle)"),
    ("cnnviz/ui/", None, "page code (cnnviz.ui)"),
    ("/pages/", None, "page code (pages)"),
    ("/app.py", None, "page code (pages)"),
    ("streamlit/runtime/scriptrunner", None, "Streamlit script run (widgets, deltas, gc)"),
    ("streamlit/", None, "Streamlit server (messages, websocket, media)"),
    ("tornado/", None, "Streamlit server (messages, websocket, media)"),
    ("starlette/", None, "Streamlit server (messages, websocket, media)"),
    ("uvicorn/", None, "Streamlit server (messages, websocket, media)"),
    ("asyncio/", None, "Streamlit server (messages, websocket, media)"),
)


def category(frame) -> str:
    """What the thread whose innermost frame is ``frame`` is doing."""
    f = frame
    while f is not None:
        fn, name = f.f_code.co_filename, f.f_code.co_name
        for part, names, cat in _RULES:
            if part in fn and (names is None or name in names):
                return cat
        f = f.f_back
    return "other"


def _sample(out: Path) -> None:
    """Every INTERVAL_S: for each Python thread, the CPU it used since the last look
    (its own CPU clock), booked to what its stack shows now."""
    me = threading.get_ident()
    clocks: dict[int, tuple[int, float]] = {}  # thread ident -> (clock id, cpu seconds seen)
    lines: list[str] = []
    last_flush = time.monotonic()
    with out.open("a") as fh:
        while True:
            time.sleep(INTERVAL_S)
            now = time.monotonic()
            for tid, frame in sys._current_frames().items():
                if tid == me:
                    continue
                try:
                    if tid not in clocks:
                        clock = time.pthread_getcpuclockid(tid)
                        clocks[tid] = (clock, time.clock_gettime(clock))
                        continue
                    clock, seen = clocks[tid]
                    cpu = time.clock_gettime(clock)
                except OSError:  # the thread ended between the two calls
                    clocks.pop(tid, None)
                    continue
                clocks[tid] = (clock, cpu)
                if cpu - seen > 0:
                    where = ""
                    if _DEBUG:
                        f, chain = frame, []
                        while f is not None and len(chain) < 12:
                            chain.append(f"{f.f_code.co_filename.rsplit('/', 1)[-1]}:{f.f_code.co_name}")
                            f = f.f_back
                        where = "\t" + " < ".join(chain)
                    lines.append(f"{now:.4f}\t{cpu - seen:.6f}\t{category(frame)}{where}\n")
            if now - last_flush > 0.25:
                fh.writelines(lines)
                fh.flush()
                lines.clear()
                last_flush = now


def main(argv: list[str]) -> None:
    out, app, *options = argv
    Path(out).write_text("")
    threading.Thread(target=_sample, args=(Path(out),), daemon=True, name="bench-sampler").start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", app, *options]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
