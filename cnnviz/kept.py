"""Bytes made once and kept by their key, within a budget: encoded pictures and charts' data.

A class following a lesson draws the same views in thirty sessions at once, and one student's
slider moves redraw unchanged ones; making the bytes again would cost far more than finding
them by their content's digest. No Streamlit, torch or numpy here: the server imports it
before it listens.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict


def digest(data: bytes) -> bytes:
    """A 16-byte digest of some bytes (a key for :class:`KeptBytes`).

    Args:
        data: the bytes.

    Returns:
        Their BLAKE2b digest, 16 bytes.
    """
    return hashlib.blake2b(data, digest_size=16).digest()


class KeptBytes:
    """Values by key, up to ``most_bytes`` in all, the least recently used out first (thread-safe).

    Args:
        most_bytes: the budget for the values' lengths.
    """

    def __init__(self, most_bytes: int) -> None:
        self.most, self.size = most_bytes, 0
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        """The value kept for a key (now the most recently used).

        Args:
            key: the key.

        Returns:
            The value, or None when none is kept.
        """
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: bytes, value: bytes) -> None:
        """Keep a value for a key (a key kept already keeps its value), the least recently
        used going while the values exceed the budget.

        Args:
            key: the key.
            value: the bytes to keep.
        """
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self.size += len(value)
            while self.size > self.most:
                self.size -= len(self._items.popitem(last=False)[1])
