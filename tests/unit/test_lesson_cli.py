"""Issue 24, the command line: ``python -m cnnviz lesson check FILE`` says "ok: N steps"
(exit 0) or each problem on its own line (exit 2), never a traceback: for every bad lesson
of the catalogue, a missing, unreadable, binary or oversized file, a folder, a device."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.cli import main
from testing.catalogue import BAD_LESSONS, lesson_json

ROOT = Path(__file__).resolve().parents[2]


def _check(path, capsys) -> tuple[int, str, str]:
    code = main(["lesson", "check", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_valid_lesson_is_ok_with_its_step_count(tmp_path, capsys):
    f = tmp_path / "l.json"
    f.write_bytes(lesson_json(steps=[{"title": f"s{i}", "view": {"page": "model"}} for i in range(7)]))
    assert _check(f, capsys) == (0, "ok: 7 steps\n", "")
    f.write_bytes(lesson_json())
    assert _check(f, capsys) == (0, "ok: 1 step\n", "")


@pytest.mark.parametrize("case", list(BAD_LESSONS))
def test_every_bad_lesson_is_one_line_and_exit_2(case, tmp_path, capsys):
    data, words = BAD_LESSONS[case]
    f = tmp_path / "bad.json"
    f.write_bytes(data)
    code, out, err = _check(f, capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err


def test_each_problem_gets_its_own_line(tmp_path, capsys):
    f = tmp_path / "bad.json"
    f.write_bytes(lesson_json(title="", steps=[{"title": "", "view": {"page": "nowhere"}}]))
    code, out, err = _check(f, capsys)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error: The lesson: the title is empty.",
        "error: Step 1: the title is empty.",
        err.splitlines()[2],
    ]
    assert err.splitlines()[2].startswith("error: Step 1: `nowhere` is not a page of this app")


def _unreadable(tmp_path) -> Path | None:
    if os.geteuid() == 0:
        return None  # root reads anything
    f = tmp_path / "secret.json"
    f.write_bytes(lesson_json())
    f.chmod(0)
    return f


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: tmp / "missing.json", "No such file"),
        (lambda tmp: tmp, "not a regular file"),
        (lambda tmp: Path("/dev/zero"), "not a regular file"),
        (lambda tmp: Path(sys.executable).resolve(), "not text"),  # a binary under 256 KB, or over it
        (_unreadable, "Permission denied"),
    ],
    ids=["missing", "a folder", "/dev/zero", "a binary", "unreadable"],
)
def test_files_that_cannot_be_read_are_one_line(make, words, tmp_path, capsys):
    path = make(tmp_path)
    if path is None:
        pytest.skip("root reads every file")
    code, out, err = _check(path, capsys)
    assert (code, out) == (2, "") and err.count("\n") == 1 and err.startswith("error: ")
    assert words in err or (words == "not text" and "256 KB" in err), err


def test_a_huge_file_is_refused_from_its_size_without_reading_it(tmp_path, capsys):
    f = tmp_path / "huge.json"
    with f.open("wb") as fh:
        fh.truncate(5 << 30)  # sparse: 5 GB that cost no disk, and would take seconds to read
    code, out, err = _check(f, capsys)
    assert (code, out, err) == (2, "", "error: The file has 5,242,880 KB; a lesson file may have at most 256 KB.\n")


def test_the_real_command_exits_2_without_a_traceback(tmp_path):
    f = tmp_path / "bad.json"
    f.write_bytes(b"\xff\xfe\x00binary")
    r = subprocess.run(
        [sys.executable, "-m", "cnnviz", "lesson", "check", str(f)], cwd=ROOT, capture_output=True, text=True
    )
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "error: The file is not text (UTF-8), so it is not a lesson file.\n"
