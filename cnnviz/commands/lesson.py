"""`lesson check FILE`: is this a lesson file the app can open? Every problem on its own line."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from cnnviz.inputs.files import read_regular_file
from cnnviz.lessons.format import MAX_BYTES, LessonError, lesson_problems, parse_lesson, too_large


def register(sub) -> None:
    """Add the ``lesson check`` command to the CLI: validate a lesson file."""
    p = sub.add_parser("lesson", help="lesson files (docs/LESSONS.md)")
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    c = actions.add_parser("check", help="validate a lesson file: 'ok: N steps', or each problem on its own line")
    c.add_argument("file", help="a lesson's .json file")
    c.set_defaults(func=run_check)


def run_check(args) -> int:
    """Check a lesson file: print 'ok: N steps', or each problem on its own line.

    Args:
        args: the parsed command line.

    Returns:
        The exit status: 0 for a lesson the app can open, 2 otherwise.

    Raises:
        LessonError: the file cannot be read.
    """
    size = 0
    with contextlib.suppress(OSError):  # a missing file: read_regular_file says so below
        size = Path(args.file).stat().st_size
    if size > MAX_BYTES:  # not read at all: it cannot be a lesson
        problems = [too_large(size)]
    else:
        problems = lesson_problems(read_regular_file(args.file, limit=MAX_BYTES, error=LessonError))
    if problems:
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    n = len(parse_lesson(read_regular_file(args.file, limit=MAX_BYTES, error=LessonError)).steps)
    print(f"ok: {n} step{'' if n == 1 else 's'}")
    return 0
