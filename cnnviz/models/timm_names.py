"""What names a timm model (``timm:NAME``), without importing torch or timm: the link and
ownership checks ask it of every model name (cnnviz/models/timm_zoo.py builds them)."""

from __future__ import annotations

import re

PREFIX = "timm:"
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")


def is_timm_name(name: str) -> bool:
    """Whether a name asks for a timm model (``timm:`` and a plausible architecture name).

    Args:
        name: a model name.

    Returns:
        True for such a name; whether timm builds it is checked later.
    """
    return name.startswith(PREFIX) and _NAME_RE.fullmatch(name[len(PREFIX) :]) is not None
