"""Babel's extraction method for the shipped lessons (babel.cfg names it): their words as messages.

A shipped lesson (``cnnviz/lessons/shipped/*.json``) is kept in English, as the file a teacher
saves; the lesson views show its title, step titles, notes and questions through ``_()``, so
each reader sees them in their own language. ``pybabel extract -F babel.cfg`` calls
:func:`extract_lessons` on each file so those texts become message ids beside the code's.
A choice question's options are ImageNet class names in the shipped lessons: they are
extracted with a note saying so (the app keeps class names in English).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

CLASS_NAME_NOTE = "An ImageNet class name: the app shows class names in English; keep it as it is."


def _line_of(lines: list[str], text: str, start: int) -> int:
    """The 1-based number of the first line at or after ``start`` (0-based) holding ``text``
    as a JSON string; ``start + 1`` when none does (a translator's reference, nothing more)."""
    needle = json.dumps(text, ensure_ascii=False)[:60]
    for i in range(start, len(lines)):
        if needle in lines[i]:
            return i + 1
    return start + 1


def lesson_texts(lesson: dict) -> Iterator[tuple[str, str, list[str]]]:
    """Every text of a lesson file's JSON a reader sees; empty texts are left out.

    Args:
        lesson: the parsed JSON object of a lesson file (``cnnviz.lessons.format``'s format).

    Yields:
        (field, text, translator notes): field is "title", "step title", "note", "prompt" or
        "option"; text is the English text.
    """
    if lesson.get("title"):
        yield "title", lesson["title"], ["The title of a ready-made lesson."]
    for n, step in enumerate(lesson.get("steps") or [], start=1):
        if step.get("title"):
            yield "step title", step["title"], [f"The title of step {n} of a ready-made lesson."]
        if step.get("note"):
            yield "note", step["note"], [f"What the teacher says at step {n}: plain text, line breaks kept."]
        question = step.get("question") or {}
        if question.get("prompt"):
            yield "prompt", question["prompt"], ["A question the class answers."]
        if question.get("kind") == "choice":  # picture options are gallery names: keys, not words
            for option in question.get("options") or []:
                yield "option", option, [CLASS_NAME_NOTE]


def extract_lessons(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extraction method: the messages of one shipped lesson file.

    Args:
        fileobj: the lesson file, opened in binary mode.
        keywords: Babel's (unused: a lesson file has no keywords).
        comment_tags: Babel's (unused: a lesson file has no comments).
        options: Babel's; ``encoding`` is read.

    Yields:
        (line number, None, message, translator notes), in the file's order.
    """
    text = fileobj.read().decode(options.get("encoding", "utf-8-sig"))
    lines = text.splitlines()
    at = 0
    for _field, message, notes in lesson_texts(json.loads(text)):
        lineno = _line_of(lines, message, at)
        at = lineno - 1
        yield lineno, None, message, notes
