"""Issue 23, the command line: every output write that fails (a full disk, a folder, no
permission, /dev/full) and a sidecar nested 100,000 deep end with exit 2 and one line on
stderr, never a traceback. The cases come from the shared catalogue (testing/catalogue.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnviz.cli import main, write_npy
from testing.catalogue import BAD_OUTPUTS, deep_json

ROOT = Path(__file__).resolve().parents[2]
DIGIT = "tinyvgg_mnist"  # shipped: no download, a forward in milliseconds

# Every command and option that writes a file: (argv before the option, option).
WRITERS = [
    (["features", "{img}", "--model", DIGIT, "--layer", "features.0.act"], "--out"),
    (["features", "{img}", "--model", DIGIT, "--layer", "features.0.act"], "--npy"),
    (["features", "{img}", "--model", DIGIT, "--layer", "features.0.act"], "--save-input"),
    (["filters", "--model", DIGIT, "--layer", "features.0.conv"], "--out"),
    (["filters", "--model", DIGIT, "--layer", "features.0.conv"], "--npy"),
    (["explain", "{img}", "--model", DIGIT, "--method", "gradcam"], "--out"),
    (["explain", "{img}", "--model", DIGIT, "--method", "gradcam"], "--npy"),
    (["visualize", "--model", DIGIT, "--layer", "features.0.act", "--channel", "0", "--steps", "2"], "--out"),
    (["visualize", "--model", DIGIT, "--layer", "features.0.act", "--channel", "0", "--steps", "2"], "--npy"),
]


def _one_line_error(err: str, *words: str) -> None:
    """``err`` (notes the command prints before it fails aside) is one line, ``error: ...``."""
    assert "Traceback" not in err, err
    err = "".join(line for line in err.splitlines(keepends=True) if not line.startswith("note: "))
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)


@pytest.mark.parametrize("case", list(BAD_OUTPUTS))
@pytest.mark.parametrize(("argv", "option"), WRITERS, ids=[f"{a[0]} {o}" for a, o in WRITERS])
def test_every_output_that_cannot_be_written_is_one_line_and_exit_2(case, argv, option, tmp_path, hopper_path, capsys):
    path = BAD_OUTPUTS[case][0](tmp_path)
    if path is None:
        pytest.skip("no such path on this machine")
    says = BAD_OUTPUTS[case][1]
    if option != "--out" and path.endswith(".png"):
        path = path[: -len(".png")] + ".npy"  # as --npy would name it: the same folder's problem
    full = [a.format(img=hopper_path) for a in argv] + [option, path]
    assert main(full) == 2, full
    _one_line_error(capsys.readouterr().err, "cannot write", says)


def test_a_full_disk_leaves_no_half_written_file(tmp_path, monkeypatch, capsys):
    """ENOSPC in the middle of a write: the truncated file is removed, the message names it."""
    import builtins
    import errno

    real_open = builtins.open

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def opening(path, mode="r", *a, **k):
        f = real_open(path, mode, *a, **k)
        return Full(f) if "w" in mode and str(path).startswith(str(tmp_path)) else f

    monkeypatch.setattr(builtins, "open", opening)
    target = tmp_path / "maps.npy"
    assert main(["filters", "--model", DIGIT, "--layer", "features.0.conv", "--npy", str(target)]) == 2
    _one_line_error(capsys.readouterr().err, f"cannot write {target}", "No space left on device")
    assert not target.exists()


def test_write_npy_writes_exactly_the_path_given(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_npy(str(tmp_path / "x"), a)  # np.save(path) would have made x.npy
    write_npy(str(tmp_path / "y.npy"), a)
    assert np.array_equal(np.load(tmp_path / "x"), a) and np.array_equal(np.load(tmp_path / "y.npy"), a)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x", "y.npy"]


@pytest.mark.parametrize("case", ["a folder", "inside a regular file"])
def test_train_refuses_an_unwritable_out_before_training(case, tmp_path, monkeypatch, capsys):
    from cnnviz.training import datasets

    def no_loading(*a, **k):
        raise AssertionError("the dataset was loaded before --out was checked")

    monkeypatch.setattr(datasets, "load", no_loading)
    out = BAD_OUTPUTS[case][0](tmp_path)
    if case == "a folder":
        (tmp_path / "model.safetensors").mkdir()
        out = str(tmp_path / "model")
    assert main(["train", "--dataset", "digits", "--out", out]) == 2
    _one_line_error(capsys.readouterr().err, "cannot write")


@pytest.mark.parametrize("cmd", [["models"], ["layers", "--model", DIGIT]])
def test_stdout_on_a_full_disk_is_one_line_and_exit_2(cmd):
    with open("/dev/full", "wb") as full:
        run = subprocess.run(
            [sys.executable, "-m", "cnnviz", *cmd],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=180,
        )
    assert run.returncode == 2, run.stderr
    _one_line_error(run.stderr, "No space left on device")


@pytest.mark.parametrize("how", ["--model", "--weights"])
def test_a_sidecar_nested_100000_deep_is_one_line_and_exit_2(how, tmp_path):
    sidecar = tmp_path / "deep.json"
    sidecar.write_bytes(deep_json())
    (tmp_path / "deep.safetensors").write_bytes(b"")
    arg = str(sidecar) if how == "--model" else str(tmp_path / "deep.safetensors")
    # In a child: the real interpreter's recursion limit and stderr, as a user runs it.
    run = subprocess.run(
        [sys.executable, "-m", "cnnviz", "layers", how, arg], capture_output=True, text=True, cwd=ROOT, timeout=180
    )
    assert run.returncode == 2, run.stderr
    _one_line_error(run.stderr, "deep" if how == "--model" else "--weights")
