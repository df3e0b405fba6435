"""Data shown inside markdown (class names, titles, file names) as plain text.

st.subheader, st.caption, st.warning... render markdown: a class folder called
``![t](https://host/x)`` would make every viewer's browser fetch that address, and
``# ``, ``$...$`` or links would render. Every ASCII punctuation character may be
backslash-escaped in CommonMark, so escaping all of them leaves the text exactly as typed.
"""

from __future__ import annotations

import re

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def plain(value: object, limit: int = 200) -> str:
    """``value`` as one line of markdown that renders as its literal text (cut at ``limit``)."""
    s = " ".join(str(value).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return _PUNCT.sub(r"\\\1", s)
