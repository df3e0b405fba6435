"""A student's answer to a class question: which values a question takes, and how it is stored."""

from __future__ import annotations

import re

from cnnviz.i18n import _
from cnnviz.lessons.lesson import LessonError

MAX_ANSWER_CHARS = 100
# a click: "x,y", each 0..1 with at most 6 decimals
_CLICK_RE = re.compile(r"(0(\.[0-9]{1,6})?|1(\.0{1,6})?),(0(\.[0-9]{1,6})?|1(\.0{1,6})?)")


def checked_answer(kind: str, options: tuple[str, ...], value: str) -> str:
    """``value`` as stored; LessonError if the question does not take it.

    Args:
        kind: the question's kind ("choice", "pick_image" or "click").
        options: its options (the values "choice" and "pick_image" take).
        value: what the student sent: an option, or "x,y" in 0..1 for "click".
    Returns:
        The option itself, or a click as "x.xxx,y.yyy" (three decimals).
    """
    if not isinstance(value, str) or len(value) > MAX_ANSWER_CHARS:
        raise LessonError(_("That answer is not one this question takes."))
    if kind == "click":
        if not _CLICK_RE.fullmatch(value.replace(" ", "")):
            raise LessonError(_("A click answer is two numbers from 0 to 1, like 0.25,0.6."))
        x, y = (float(v) for v in value.replace(" ", "").split(","))
        return f"{x:.3f},{y:.3f}"
    if value not in options:
        raise LessonError(_("That answer is not one of this question's options."))
    return value
