"""Big one-off jobs of a server shared by a class queue on one worker thread.

Decoding a very big picture takes a core and a few hundred MB for a noticeable while.
:func:`one_at_a_time` runs such jobs on one process-wide worker thread: several students
uploading big files at once use one core between them, not every core, and their memory is
not paid several times over (the memory guard checks before each). The worker keeps normal
OS priority: at a low one it would hold the GIL while the kernel left it waiting behind any
other busy process, and every session thread would wait with it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from PIL import Image

from cnnviz import i18n
from cnnviz.inputs.images import decode_image, header_size

__all__ = ["HEAVY_PIXELS", "decode_upload", "one_at_a_time"]

T = TypeVar("T")

HEAVY_PIXELS = int(os.environ.get("CNNVIZ_HEAVY_PIXELS", 8_000_000))  # a 12 MP phone JPEG decodes at 1/2 scale
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _worker() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="cnnviz-big-jobs")
        return _pool


def one_at_a_time(fn: Callable[..., T], *args, **kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` on the big-jobs worker, after the jobs queued before it.

    Args:
        fn: the job.
        *args: its positional arguments.
        **kwargs: its keyword arguments.

    Returns:
        ``fn``'s result.

    Raises:
        CnnvizError: any that ``fn`` raises (as any other exception), its message in the
            caller's language (the worker has no session of its own).
    """
    return _worker().submit(_in_language, i18n.current(), fn, *args, **kwargs).result()


def _in_language(lang: str, fn: Callable[..., T], *args, **kwargs) -> T:
    with i18n.use(lang):
        return fn(*args, **kwargs)


def decode_upload(data: bytes, name: str = "") -> Image.Image:
    """:func:`cnnviz.inputs.images.decode_image` of an upload, on the big-jobs worker when big.

    It goes to the worker when the header announces more than ``HEAVY_PIXELS`` pixels (after
    JPEG's reduce-on-load).

    Args:
        data: the uploaded file's bytes.
        name: the file's name, for messages.

    Returns:
        An RGB PIL image whose longer side is at most 2048 pixels.

    Raises:
        ImageError: (one sentence) empty, non-image, damaged, oversized or unconvertible
            input.
    """
    size = header_size(data)
    if size is not None and size[0] * size[1] > HEAVY_PIXELS:
        return one_at_a_time(decode_image, data, name=name)
    return decode_image(data, name=name)
