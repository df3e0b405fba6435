"""The command line: JSON outputs, and bad input as exit code 2 with one line on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnviz", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_predict_grace_hopper_json(hopper_path):
    r = run_cli("predict", str(hopper_path), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["model"] == "efficientnet_lite0"
    assert len(out["top"]) == 5
    assert set(out["top"][0]) == {"index", "label", "prob"}
    labels = [t["label"] for t in out["top"]]
    assert {"military uniform", "academic gown", "mortarboard"} & set(labels)
    probs = [t["prob"] for t in out["top"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001


def test_models_json_lists_availability():
    r = run_cli("models", "--json")
    assert r.returncode == 0, r.stderr
    rows = {m["name"]: m for m in json.loads(r.stdout)}
    assert rows["efficientnet_lite0"]["available"] is True
    assert {"name", "source", "available"} <= set(rows["resnet18"])


@pytest.mark.parametrize(
    "args",
    [
        ("predict", "no_such_file.jpg"),
        ("predict", "README.md"),  # a text file, not an image
        ("predict", "{img}", "--model", "no_such_model"),
        ("predict", "{img}", "--weights", "missing.safetensors"),
        ("predict", "{img}", "--top", "many"),
        ("frobnicate",),
    ],
)
def test_bad_input_exits_2_with_one_line(args, hopper_path):
    args = [a.replace("{img}", str(hopper_path)) for a in args]
    r = run_cli(*args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "Traceback" not in r.stderr


def test_random_weights_predict(hopper_path):
    r = run_cli("predict", str(hopper_path), "--model", "resnet18", "--weights", "random", "--top", "3", "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["top"]) == 3
