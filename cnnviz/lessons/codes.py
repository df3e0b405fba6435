"""Who and which class: class codes, and owner tokens kept as digests.

A class is named by a short code a teacher reads out or shows as a QR code. A browser is
known by its owner token (``cnnviz.ui.owner.owner_token()``), which the class store keeps
only as a SHA-256 digest: the file never holds a cookie that would open a student's models.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from cnnviz.i18n import _
from cnnviz.lessons.lesson import LessonError

# 31 characters that cannot be misheard or misread (no 0/O, 1/I/L); 6 of them: 31**6 ≈ 887
# million codes. Even at the server's whole throughput (~1,000 lookups a second), finding one
# of ten live classes by trying codes takes a day on average, past a class's 4 h; the store's
# ``join`` also stops a browser after a few wrong codes a minute.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LEN = 6
CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LEN}}}")


def new_code() -> str:
    """A random class code (CODE_LEN characters of CODE_ALPHABET); the caller checks it is free."""
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LEN))


def normalize_code(text: str) -> str:
    """A code as typed ("k7f 3qx", "K7F-3QX") in its stored form ("K7F3QX")."""
    return re.sub(r"[\s\-]", "", str(text)[:40]).upper()


def digest(token: str) -> str:
    """The SHA-256 digest (64 hex digits) an owner token is stored as; LessonError for no token."""
    if not isinstance(token, str) or not token:
        raise LessonError(_("This browser has no owner token, so it cannot take part in a class."))
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
