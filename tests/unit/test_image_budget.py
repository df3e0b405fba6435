"""Issue 10: an image is decoded within a memory budget, whatever its header promises.

Each case runs in a fresh interpreter and reports its peak RSS (ru_maxrss) after the
decode minus before it: Pillow's and numpy's C allocations count, unlike tracemalloc.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from catalogue import BAD_IMAGES, handmade_png, handmade_tiff

ROOT = Path(__file__).resolve().parents[2]
PLAIN_SESSION_PLUS = 700 << 20  # issue 10: a single upload may cost at most this much

_PROBE = """
import json, resource, sys, time
from cnnviz.images import decode_image
from cnnviz.errors import ImageError
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
try:
    img = decode_image(data, name="x")
    out = {"size": list(img.size), "mode": img.mode, "extrema": list(img.getextrema()[0])}
except ImageError as e:
    out = {"error": str(e)}
out["seconds"] = time.perf_counter() - t
out["peak_delta"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(json.dumps(out))
"""


def _decode_in_child(tmp_path: Path, data: bytes) -> dict:
    f = tmp_path / "img"
    f.write_bytes(data)
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, str(f)], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True
    )
    return json.loads(run.stdout)


@pytest.mark.parametrize("kind", ["16-bit PNG bomb (9400²)", "float TIFF bomb (9400²)"])
def test_bombs_under_pillows_limit_are_refused_from_the_header(kind, tmp_path):
    name, make = BAD_IMAGES[kind]
    data = make()
    assert len(data) < 400_000  # a few hundred KB on disk
    out = _decode_in_child(tmp_path, data)
    assert "too large" in out["error"] and "9400×9400" in out["error"]
    assert out["peak_delta"] < 20 << 20  # nothing was decoded


@pytest.mark.parametrize(
    "make",
    [
        lambda: handmade_png(7000, 7000, bit_depth=16),  # 49 MP, 98 MB as I;16
        lambda: handmade_tiff(5000, 5000),  # 25 MP of float32: 100 MB, twice that in libtiff
        lambda: handmade_png(7000, 7000, bit_depth=8),  # 49 MP of L
        lambda: handmade_png(7000, 7000),  # 49 MP of 1-bit: no full-size RGB copy either
    ],
    ids=["16-bit PNG 7000²", "float TIFF 5000²", "8-bit PNG 7000²", "1-bit PNG 7000²"],
)
def test_largest_accepted_images_decode_within_budget(make, tmp_path):
    out = _decode_in_child(tmp_path, make())
    assert out.get("error") is None, out
    assert out["size"] == [2048, 2048] and out["mode"] == "RGB"
    assert out["extrema"] == [0, 0]  # all zeros stay black
    # Decoded pixels plus a few MB of strips: no full-size float64 or RGB copy.
    # Measured: 139, 167, 56 and 110 MB (a full-size RGB copy alone would be 196 MB).
    assert out["peak_delta"] < 190 << 20, out
    assert out["peak_delta"] < PLAIN_SESSION_PLUS


def test_float_tiff_over_the_decode_budget_is_refused_before_decoding(tmp_path):
    out = _decode_in_child(tmp_path, handmade_tiff(7000, 7000))  # 49 MP: under the pixel cap
    assert "MB to decode" in out["error"] and "7000×7000" in out["error"], out
    assert out["peak_delta"] < 20 << 20
