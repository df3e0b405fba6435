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


def test_layers_needs_only_the_architecture_offline(tmp_path):
    """`layers --model resnet18 --json` with an empty torch cache: random weights, nothing
    downloaded, and the rows torchvision's own ResNet-18 gives."""
    import os

    from torchvision.models import resnet18

    env = {**os.environ, "TORCH_HOME": str(tmp_path / "torch")}
    r = subprocess.run(
        [sys.executable, "-m", "cnnviz", "layers", "--model", "resnet18", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "random weights" in r.stderr
    assert not (tmp_path / "torch").exists() or not any((tmp_path / "torch").rglob("*.pth"))
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    ref = resnet18()
    assert rows["conv1"]["params"] == ref.conv1.weight.numel() == 64 * 3 * 7 * 7
    assert rows["fc"]["params"] == sum(p.numel() for p in ref.fc.parameters()) == 512 * 1000 + 1000
    assert rows["layer4"]["out_shape"] == [512, 7, 7] and rows["fc"]["out_shape"] == [1000]


def test_a_model_saved_by_train_out_works_through_weights_alone(tmp_path, hopper_path, capsys):
    """`train --out P`, then every model command with `--weights P.safetensors` only: the
    .json beside it supplies architecture and classes; `--model P.json` gives the same."""
    from cnnviz.cli import main

    out = tmp_path / "saved" / "shapes16"
    args = ["train", "--dataset", "shapes", "--size", "16", "--epochs", "1", "--out", str(out), "--json"]
    assert main(args) == 0
    classes = json.loads(capsys.readouterr().out)["classes"]
    weights, sidecar = f"{out}.safetensors", f"{out}.json"

    def run_json(*argv: str) -> dict:
        assert main([*argv, "--json"]) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out)

    alone = run_json("predict", str(hopper_path), "--weights", weights)
    with_json = run_json("predict", str(hopper_path), "--model", sidecar)
    assert alone["top"] == with_json["top"] and {t["label"] for t in alone["top"]} == set(classes)
    assert alone["model"] == with_json["model"] == "shapes16"
    rows = run_json("layers", "--weights", weights)
    assert {"features.0.conv", "features.3.act", "classifier.fc"} <= {r["name"] for r in rows}
    assert run_json("explain", str(hopper_path), "--weights", weights)["layer"] == "features.3.act"
    att = run_json("adversarial", str(hopper_path), "--weights", weights, "--eps", "0.01")
    assert att["before"][0]["label"] in classes
    assert main(["features", str(hopper_path), "--weights", weights, "--layer", "features.0.act"]) == 0
    assert capsys.readouterr().out.startswith("features.0.act: ReLU 8×16×16")
    assert main(["filters", "--weights", weights, "--layer", "features.0.conv"]) == 0
    assert capsys.readouterr().out.startswith("features.0.conv: 8 filters of 3×3×3")
    # a state dict with no CNN Explorer JSON beside it is not a model: say what to give
    bare = tmp_path / "bare.safetensors"
    bare.write_bytes(Path(weights).read_bytes())
    assert main(["features", str(hopper_path), "--weights", str(bare), "--layer", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "give --model" in err[0]
