"""The lesson file's checker: problems gathered as sentences, and its rule for plain text.

A lesson file's text comes from anyone; ``Check.text`` admits plain text of a bounded
length only, and every problem is a sentence that names where it is without repeating a
value that could be long or hostile.
"""

from __future__ import annotations

import unicodedata

from cnnviz.i18n import N_, _, ngettext, number
from cnnviz.lessons import links

# The fields a problem names, with their article (the sentences put them first or last: no
# adjective agrees with them); translated where the sentence is made.
_FIELDS = {
    "title": N_("the title"),
    "note": N_("the note"),
    "question's prompt": N_("the question's prompt"),
    "option": N_("the option"),
}


class Check:
    """Collects problems while a parsed JSON value is turned into a Lesson."""

    def __init__(self):
        self.problems: list[str] = []

    def add(self, where: str, what: str) -> None:
        sentence = _("{where}: {what}.").format(where=where, what=what)
        if sentence not in self.problems:  # four bad images of one question: one sentence
            self.problems.append(sentence)

    def keys(self, where: str, obj: dict, allowed: tuple[str, ...]) -> None:
        for k in obj:
            if k not in allowed:
                self.add(where, _("{name} is not a field of a lesson file here").format(name=links.shown(str(k))))

    def text(self, where: str, what: str, v: object, limit: int, *, lines: bool = False, empty: bool = False) -> str:
        """``v`` as plain text of at most ``limit`` characters ("" after a problem); ``what``:
        a key of ``_FIELDS``."""
        field = _(_FIELDS[what])
        if v is None:
            self.add(where, _("{field} is missing").format(field=field))
            return ""
        if not isinstance(v, str):
            self.add(where, _("{field} must be text").format(field=field))
            return ""
        if not v.strip() and not empty:
            self.add(where, _("{field} is empty").format(field=field))
        elif len(v) > limit:
            has = ngettext(
                "{field} has {n} character; at most {limit} are allowed",
                "{field} has {n} characters; at most {limit} are allowed",
                len(v),
            )
            self.add(where, has.format(field=field, n=count(len(v)), limit=count(limit)))
        elif any(bad_char(c, lines) for c in v):
            why = (
                _("{field} has control characters; it must be plain text")
                if lines
                else _("{field} has control characters or line breaks; it must be plain text")
            )
            self.add(where, why.format(field=field))
        else:
            return v
        return ""


# Bidirectional overrides and isolates: they reorder the text around them on screen, so a
# title could show other words than it holds ("Trojan Source"). Marks (LRM, RLM) stay allowed.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def count(n: int) -> str:
    """``n`` with the language's thousands separator (1,024 / 1.024)."""
    return number(n, 0)


def bad_char(c: str, lines: bool) -> bool:
    """Whether ``c`` may not stand in a lesson's plain text (``lines``: line breaks and tabs may)."""
    if c in "\n\t" and lines:
        return False
    return c in _BIDI or unicodedata.category(c) in ("Cc", "Cs")  # controls, lone surrogates (not UTF-8)
