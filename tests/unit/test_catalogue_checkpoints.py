"""Issue 10's hostile checkpoints and issue 29's hostile ONNX files (testing/catalogue.py)
through the CLI, each in a fresh process: exit 2, one line naming the student's file, and
the peak memory it cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testing.catalogue import BAD_CHECKPOINTS, BAD_ONNX

ROOT = Path(__file__).resolve().parents[2]
UPLOAD_BUDGET = 700 << 20  # issue 10: any single upload within a plain session + 700 MB

_PROBE = """
import json, resource, sys, contextlib, io
import cnnviz.models.zoo  # torch and the registry: what a plain server has loaded already
from cnnviz.cli import main
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
err = io.StringIO()
with contextlib.redirect_stderr(err):
    model = ["--model", sys.argv[1]] if sys.argv[1].endswith(".onnx") else ["--model", "tinyvgg_mnist", "--weights", sys.argv[1]]
    code = main(["predict", sys.argv[2], *model])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "err": err.getvalue(), "peak_delta": (after - before) * 1024}))
"""


@pytest.mark.parametrize("kind", list(BAD_CHECKPOINTS) + list(BAD_ONNX))
def test_bad_checkpoint_on_the_cli(kind, tmp_path, hopper_path):
    name, make, says = BAD_CHECKPOINTS.get(kind) or BAD_ONNX[kind]
    f = tmp_path / name
    f.write_bytes(make())
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, str(f), str(hopper_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    out = json.loads(run.stdout)
    assert out["code"] == 2, out
    err = out["err"]
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert says in err and name in err, err
    assert out["peak_delta"] < 100 << 20 < UPLOAD_BUDGET, out  # nothing was inflated
