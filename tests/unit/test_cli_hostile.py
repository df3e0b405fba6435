"""Issue 10, the command line: bad numbers and names are refused before any work, output
into a closed pipe ends quietly, FIFOs never hang, and --json is always valid JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.cli import main, print_json

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--lr", "-1"], "--lr must be"),
        (["--lr", "nan"], "--lr must be"),
        (["--lr", "inf"], "--lr must be"),
        (["--size", "-5"], "--size must be between"),
        (["--size", "5000"], "--size must be between"),
        (["--batch-size", "-1"], "--batch-size must be between"),
        (["--batch-size", "0"], "--batch-size must be between"),
        (["--epochs", "0"], "--epochs must be between"),
        (["--name", "../evil"], "model name"),
        (["--name", "efficientnet_lite0"], "built-in model"),
    ],
)
def test_train_refuses_bad_arguments_before_any_work(argv, says, capsys, monkeypatch):
    from cnnviz.training import datasets

    def no_loading(*a, **k):  # proof that nothing was read or trained
        raise AssertionError("the dataset was loaded before the arguments were checked")

    monkeypatch.setattr(datasets, "load", no_loading)
    assert main(["train", "--dataset", "shapes", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and says in err and err.count("\n") == 1, err


def test_json_never_prints_nan(capsys):
    print_json({"val_accuracy": float("nan"), "loss": [1.0, float("inf"), -float("inf")], "n": 3})
    out = capsys.readouterr().out
    assert json.loads(out) == {"val_accuracy": None, "loss": [1.0, None, None], "n": 3}
    assert "NaN" not in out and "Infinity" not in out


def test_output_into_a_closed_pipe_is_quiet():
    # `python -m cnnviz models | head -1`: head exits after one line, the pipe closes.
    cmd = f"{sys.executable} -m cnnviz models | head -c 1"
    run = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr, run.stderr


def test_broken_pipe_inside_a_command_returns_without_a_traceback(monkeypatch, capsys):
    from cnnviz.commands import models

    def broken(args):
        raise BrokenPipeError

    monkeypatch.setattr(models, "run", broken)
    assert main(["models"]) == 1  # (pytest's captured stdout has no descriptor to redirect)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["predict", "{fifo}"], ["train", "--dataset", "zip:{fifo}"]])
def test_fifos_are_refused_without_reading(argv, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # In a child with a timeout: reading a FIFO nobody writes to would block for ever.
    run = subprocess.run(
        [sys.executable, "-m", "cnnviz", *[a.format(fifo=fifo) for a in argv]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 2 and "not a regular file" in run.stderr, run.stderr


def test_device_files_are_refused(capsys):
    assert main(["train", "--dataset", "zip:/dev/zero"]) == 2
    assert "not a regular file" in capsys.readouterr().err
