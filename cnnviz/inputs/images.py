"""Safe decoding of user images (the offline sample gallery is ``cnnviz.inputs.gallery``).

Every upload goes through :func:`decode_image`, which turns any bytes into an RGB
``PIL.Image`` or raises :class:`~cnnviz.errors.ImageError` with one sentence a student
can act on. Samples are served as bytes too, so they take exactly the upload path.
No streamlit here (see cnnviz/ui).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from cnnviz.errors import ImageError
from cnnviz.i18n import _
from cnnviz.inputs.gallery import sample_bytes
from cnnviz.inputs.image_header import OPEN_FORMATS, draft_and_need, open_header

__all__ = [
    "SUPPORTED_FORMATS",
    "decode_image",
    "image_digest",
    "load_sample",
    "to_grayscale",
]

# Pillow plugins we let parse untrusted bytes. A whitelist, because some plugins are
# risky or surprising on uploads (EPS runs Ghostscript, others are rarely exercised).
SUPPORTED_FORMATS: tuple[str, ...] = tuple(f for f in OPEN_FORMATS if f != "MPO")  # MPO is a JPEG
_SUPPORTED_TEXT = "JPEG, PNG, GIF, BMP, WebP, TIFF"

# Used only if someone set Image.MAX_IMAGE_PIXELS = None: we never decode unbounded sizes.
_FALLBACK_MAX_PIXELS = 89_478_485

# A classroom needs photos, not posters: Pillow's own 89 MP limit let a 172 KB 16-bit PNG
# cost +2.9 GB. For a JPEG the limit applies to what its decoder produces after the 1/2–1/8
# reduction (cnnviz.inputs.image_header), so a 50–200 MP phone photo opens. Tunable per server.
CLASSROOM_MAX_PIXELS = int(os.environ.get("CNNVIZ_MAX_IMAGE_PIXELS", 50_000_000))

# What one decode may hold in Pillow's memory before it is shrunk (bytes). Pillow keeps
# RGB as 4 bytes a pixel, so 50 MP of RGB is 200 MB; a JPEG decoded at 1/8 scale is less.
DECODE_BUDGET_BYTES = int(os.environ.get("CNNVIZ_DECODE_BUDGET_MB", 256)) << 20

# The largest image file read from disk or accepted as an upload (a 50 MP photo as JPEG is
# ~25 MB; the decoded budget above is what really bounds memory).
MAX_FILE_BYTES = 64 << 20

# An image longer than this many times its width (or the other way round) cannot be
# shown: scaled to a page column its short side would be 0 pixels.
MAX_ASPECT = 100

# Modes resized before conversion (palette indices and bit masks cannot be averaged;
# Pillow premultiplies alpha when it resizes RGBA and LA).
_RESIZABLE = frozenset({"L", "LA", "RGB", "RGBA", "CMYK"})

# Modes whose values are not 0..255 and need a range stretch to become 8-bit.
_WIDE_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def _label(name: str) -> str:
    """How a file is called in messages: its quoted base name, or 'This file'."""
    base = " ".join(Path(name.replace("\\", "/")).name.split())  # one line, no path
    if not base:
        return _("This file")
    if len(base) > 60:
        base = base[:57] + "..."
    return f"'{base}'"


def decode_image(data: bytes, *, name: str = "", max_side: int = 2048) -> Image.Image:
    """Decode image bytes into an RGB image whose longer side is at most ``max_side``.

    Raises ImageError (one sentence) for empty, non-image, damaged, oversized or
    unconvertible input. EXIF rotation is applied, transparency lands on white,
    animations give their first frame, 16-bit/float images are stretched to 8 bits.
    """
    label = _label(name)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImageError(_("{label} could not be read because no file data was given.").format(label=label))
    data = bytes(data)
    if not data:
        raise ImageError(_("{label} is empty (0 bytes), so there is no image to show.").format(label=label))
    if max_side < 1:
        raise ValueError("max_side must be at least 1")

    try:
        img = open_header(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses > 2x MAX_IMAGE_PIXELS inside open() (and warns above 1x,
        # which is an exception if a caller turned that warning into an error).
        raise ImageError(
            _("{label} is too large to open safely (it has more than {mp} megapixels).").format(
                label=label, mp=f"{_max_pixels() / 1e6:.0f}"
            )
        ) from None
    except Exception:  # any parser failure on untrusted bytes
        # UnidentifiedImageError for non-images and formats outside the whitelist,
        # anything else for headers so broken that a plugin trips over them.
        kind = _sniff(data)
        if kind:
            raise ImageError(
                _("{label} starts like a {kind} file but is damaged or incomplete, so it could not be read.").format(
                    label=label, kind=kind
                )
            ) from None
        raise ImageError(
            _("{label} is not an image we can read (supported: {formats}).").format(
                label=label, formats=_SUPPORTED_TEXT
            )
        ) from None

    with img:
        full = img.size
        need = draft_and_need(img, max_side)
        _check_size(img, label, full)
        _check_budget(img, label, need)
        try:
            # Decode every pixel now: with LOAD_TRUNCATED_IMAGES left False a cut-off
            # file raises here instead of coming back half grey.
            img.load()
        except MemoryError:
            raise ImageError(
                _("{label} is too large to decode on this server; try a smaller image.").format(label=label)
            ) from None
        except Exception:  # decoders raise many exception types on bad data
            raise ImageError(
                _(
                    "{label} looks damaged or incomplete and could not be read; try saving it again or pick another "
                    "image."
                ).format(label=label)
            ) from None
        _apply_exif_orientation(img)
        # Shrink before converting, so no RGB or alpha copy of a full-size image is made;
        # wide modes first become 1 byte a pixel (strip by strip).
        small = _stretch_to_l(img) if img.mode in _WIDE_MODES else img
        if small.mode == "1":
            small = small.convert("L")  # same bytes a pixel in Pillow, and resizable
        elif small.mode in ("P", "PA") and max(small.size) > 2 * max_side:
            # Palette indices cannot be averaged: thin out to twice the target first
            # (nearest), so the RGB(A) conversion below is of a small picture.
            scale = 2 * max_side / max(small.size)
            small = small.resize((max(1, round(small.width * scale)), max(1, round(small.height * scale))))
        if small.mode in _RESIZABLE:
            small = _fit(small, max_side)
        rgb = _to_rgb(small, label)
        if rgb is img:
            rgb = img.copy()  # a plain in-memory image, detached from the file object
    return _fit(rgb, max_side)


def to_grayscale(img: Image.Image) -> Image.Image:
    """A mode-L copy of ``img`` (alpha flattened on white, 16-bit stretched)."""
    if img.mode == "L":
        return img.copy()
    return _to_rgb(img, "This image").convert("L")


def _header(data: bytes, max_side: int) -> tuple[tuple[int, int], int] | None:
    """((width, height) to be decoded, bytes its pixels take) from the header only, after
    JPEG's reduce-on-load for ``max_side``; None when Pillow cannot even open the bytes."""
    try:
        with open_header(bytes(data)) as img:
            need = draft_and_need(img, max_side)
            return img.size, need
    except Exception:  # decode_image gives the message
        return None


def header_size(data: bytes, max_side: int = 2048) -> tuple[int, int] | None:
    """(width, height) to be decoded, from the header only (after JPEG's reduce-on-load
    for ``max_side``); None when Pillow cannot even open the bytes."""
    got = _header(data, max_side)
    return None if got is None else got[0]


def decode_cost(data: bytes, max_side: int = 2048) -> int:
    """What :func:`decode_image` of ``data`` may allocate, in bytes, from the header alone: the
    decoded pixels (at most the decode budget: more is refused before decoding), the
    ``max_side`` RGB result and a copy of the file; the file's size when there is no header."""
    got = _header(data, max_side)
    if got is None:  # not an image: nothing is decoded
        return len(data)
    (w, h), need = got
    scale = min(1.0, max_side / max(w, h, 1))
    return min(need, DECODE_BUDGET_BYTES) + int(w * scale) * int(h * scale) * 3 + len(data)


def image_digest(data: bytes) -> str:
    """SHA-1 hex digest of the raw bytes, for cache keys (not for security)."""
    return hashlib.sha1(bytes(data), usedforsecurity=False).hexdigest()


# --------------------------------------------------------------------------- decoding


def _max_pixels() -> int:
    # Read at call time so that tests and deployments can tune Pillow's global.
    return min(int(Image.MAX_IMAGE_PIXELS or _FALLBACK_MAX_PIXELS), CLASSROOM_MAX_PIXELS)


def _sniff(data: bytes) -> str | None:
    """The supported format these bytes claim to be by their magic number, if any."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WebP"
    if data.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "TIFF"
    return None


def _check_size(img: Image.Image, label: str, full: tuple[int, int]) -> None:
    """Refuse empty and bomb-sized images from the header alone, before any pixels.
    ``img.size`` is what will be decoded (after JPEG's reduction), ``full`` the header's size."""
    w, h = img.size
    if w <= 0 or h <= 0:
        raise ImageError(_("{label} has no pixels (its size is {w}×{h}).").format(label=label, w=w, h=h))
    limit = _max_pixels()
    if w * h > limit:
        # Pillow only warns between 1x and 2x its limit; we refuse the whole range.
        if (w, h) != full:
            text = _(
                "{label} is too large to open safely ({fw}×{fh}, still {w}×{h} decoded at 1/{k} scale is {mp} "
                "megapixels, the limit is {limit})."
            )
        else:
            text = _("{label} is too large to open safely ({fw}×{fh} is {mp} megapixels, the limit is {limit}).")
        raise ImageError(
            text.format(
                label=label,
                fw=full[0],
                fh=full[1],
                w=w,
                h=h,
                k=round(full[0] / w),
                mp=f"{w * h / 1e6:.0f}",
                limit=f"{limit / 1e6:.0f}",
            )
        )
    if max(w, h) > MAX_ASPECT * min(w, h):
        raise ImageError(
            _("{label} is {w}×{h} pixels: too thin to show (one side is more than {n} times the other).").format(
                label=label, w=w, h=h, n=MAX_ASPECT
            )
        )


def _check_budget(img: Image.Image, label: str, need: int) -> None:
    """Refuse an image whose decode (``need`` bytes) would not fit the per-upload memory budget."""
    w, h = img.size
    if need > DECODE_BUDGET_BYTES:
        raise ImageError(
            _(
                "{label} would need {need} MB to decode ({w}×{h}, {mode}); "
                "this server allows {budget} MB per image, so try a smaller one."
            ).format(label=label, need=f"{need / 2**20:.0f}", w=w, h=h, mode=img.mode, budget=DECODE_BUDGET_BYTES >> 20)
        )


def _apply_exif_orientation(img: Image.Image) -> None:
    """Rotate/flip the pixels in place as the camera's EXIF orientation tag says."""
    # A broken EXIF block says nothing reliable about rotation; the pixels themselves
    # decoded fine, so show them as stored rather than refuse the image.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(img, in_place=True)


_STRIP_PIXELS = 1 << 20  # rows converted at a time: a few MB, whatever the image size


def _strips(img: Image.Image):
    """(top, rows as an array) over the image, a strip of about 1 MP at a time."""
    w, h = img.size
    step = max(1, _STRIP_PIXELS // max(1, w))
    for top in range(0, h, step):
        yield top, np.asarray(img.crop((0, top, w, min(h, top + step))))


def _stretch_to_l(img: Image.Image) -> Image.Image:
    """Map a 16/32-bit or float single-band image onto 0..255 by its actual range.

    Works strip by strip: a full-size float64 copy of a 50 MP image would be 400 MB.
    """
    out = np.empty((img.size[1], img.size[0]), np.uint8)
    if img.mode.startswith("I;16"):
        strips = [(int(a.min()), int(a.max())) for _, a in _strips(img)]  # integer, no float copy
        lo, hi = min(s[0] for s in strips), max(s[1] for s in strips)
        v = np.arange(65536, dtype=np.float64)
        # A flat image has no range to stretch: black if it is zero, white otherwise.
        v = (v - lo) * (255.0 / (hi - lo)) if hi > lo else np.full(v.shape, 0.0 if lo <= 0 else 255.0)
        lut = np.clip(np.rint(v), 0, 255).astype(np.uint8)
        for top, a in _strips(img):
            out[top : top + len(a)] = lut[a]
        return Image.fromarray(out, "L")
    lo, hi = np.inf, -np.inf
    for _box, a in _strips(img):
        finite = a[np.isfinite(a)]
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    if lo > hi:  # no finite value at all
        return Image.new("L", img.size, 0)
    for top, a in _strips(img):
        a = a.astype(np.float64)  # one strip: exact for int32 and float32 alike
        v = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.full(a.shape, 0.0 if lo <= 0 else 255.0)
        v = np.where(np.isfinite(v), v, 0.0)
        out[top : top + len(a)] = np.clip(np.rint(v), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "L")


def _to_rgb(img: Image.Image, label: str) -> Image.Image:
    """Convert any Pillow mode to RGB; transparency is composited on white."""
    mode = img.mode
    if mode == "RGB" and "transparency" not in img.info:
        return img
    if mode in _WIDE_MODES:
        return _stretch_to_l(img).convert("RGB")
    try:
        if mode in _ALPHA_MODES or "transparency" in img.info:
            rgba = img.convert("RGBA")
            # White, not black: transparent logos and cut-outs are drawn for light pages.
            out = Image.new("RGB", rgba.size, (255, 255, 255))
            out.paste(rgba, mask=rgba.getchannel("A"))
            return out
        return img.convert("RGB")
    except (ValueError, OSError):
        raise ImageError(
            _("{label} uses a colour format ({mode}) that we cannot convert to RGB.").format(label=label, mode=mode)
        ) from None


def _fit(img: Image.Image, max_side: int) -> Image.Image:
    """Downscale so the longer side is at most ``max_side``, keeping the aspect ratio."""
    w, h = img.size
    if max(w, h) <= max_side:
        return img
    scale = max_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # LANCZOS for quality; reducing_gap first shrinks by whole factors, which is fast.
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def load_sample(name: str) -> Image.Image:
    """The sample decoded exactly like an upload: a fresh RGB image."""
    return decode_image(sample_bytes(name), name=_("{name} (sample)").format(name=name))
