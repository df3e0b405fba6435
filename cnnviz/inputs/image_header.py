"""What an image will cost to decode, from its header alone (no pixels decoded).

:func:`open_header` opens the bytes; :func:`draft_and_need` asks the JPEG decoder for its
1/2, 1/4 or 1/8 reduction and says how many bytes the decode will then allocate.
``cnnviz.inputs.images`` checks its pixel limit and memory budget against these numbers before it
decodes anything, and ``decode_cost`` reserves them with the memory guard.
"""

from __future__ import annotations

import io
import math

from PIL import Image, JpegImagePlugin

__all__ = ["OPEN_FORMATS", "draft_and_need", "open_header"]

# MPO is how Pillow labels many phone/camera JPEGs, so it counts as JPEG.
OPEN_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF", "MPO")

# Bytes per pixel Pillow allocates for a decoded image of each mode (4 for the others).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


def open_header(data: bytes) -> Image.Image:
    """``data`` opened (header only), or Pillow's exception.

    A JPEG is opened by its own plugin, without the pixel check of ``Image.open``: its limit
    applies to what the decoder will produce after its 1/2–1/8 reduction (``cnnviz.inputs.images`` checks
    the size after :func:`draft_and_need`), so a 200 MP phone photo opens while a 200 MP PNG does not.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return JpegImagePlugin.jpeg_factory(io.BytesIO(data))
    return Image.open(io.BytesIO(data), formats=OPEN_FORMATS)


def draft_and_need(img: Image.Image, max_side: int) -> int:
    """Ask the JPEG decoder for its reduction towards ``max_side`` (``img.size`` becomes
    what will be decoded); bytes the decode will then allocate."""
    coefficients = _jpeg_coefficient_bytes(img)  # of the full size: before the draft
    _request_draft(img, max_side)
    return _decode_need(img) + coefficients


def _jpeg_coefficient_bytes(img: Image.Image) -> int:
    """What libjpeg holds besides the pixels: a progressive JPEG keeps every DCT coefficient
    of the full-size image until its last scan (2 bytes × 64 per 8×8 block of each
    component, 3 bytes a pixel at 4:2:0), whatever the reduction. 0 for a baseline JPEG."""
    if img.format not in ("JPEG", "MPO") or not img.info.get("progressive"):
        return 0
    w, h = img.size
    hmax = max(layer[1] for layer in img.layer)
    vmax = max(layer[2] for layer in img.layer)
    # each component in whole 8×8 blocks at its own sampling (libjpeg's width_in_blocks)
    blocks = sum(math.ceil(w * hs / (hmax * 8)) * math.ceil(h * vs / (vmax * 8)) for _, hs, vs, _ in img.layer)
    return blocks * 64 * 2


def _decode_need(img: Image.Image) -> int:
    """Bytes Pillow allocates for the pixels of ``img`` (opened, after draft())."""
    w, h = img.size  # after draft(): a JPEG decoded at 1/2..1/8 scale needs less
    need = w * h * _BYTES_PER_PIXEL.get(img.mode, 4)
    if img.format == "TIFF":
        need *= 2  # libtiff decodes a strip into its own buffer first: measured 2x for one strip
    return need


def _request_draft(img: Image.Image, max_side: int) -> None:
    """Let the JPEG decoder skip detail we would throw away (1/2, 1/4, 1/8 scale).

    The target is ``max_side``, the most any page keeps of a photo (2048 px by default: 9×
    the largest model input, and more than a projector shows); libjpeg picks the strongest
    reduction still at least that size, so the final resize loses nothing a page uses."""
    w, h = img.size
    if img.format not in ("JPEG", "MPO") or max(w, h) <= max_side:
        return
    scale = max_side / max(w, h)
    # draft() never goes below the requested size, so the final resize still has work.
    img.draft(None, (max(1, int(w * scale)), max(1, int(h * scale))))
