"""cnnviz.inputs.images: every bad input gets one clear sentence, every good one becomes RGB.

All inputs are generated here; no image files are committed for these tests.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image, ImageFile

from cnnviz.errors import CnnvizError, ImageError
from cnnviz.inputs import gallery
from cnnviz.inputs.gallery import SAMPLES, sample_bytes
from cnnviz.inputs.images import decode_image, image_digest, load_sample, to_grayscale

# ----------------------------------------------------------------------------- helpers
from testing.catalogue import encode, handmade_png  # noqa: E402


def assert_clean_message(err: pytest.ExceptionInfo[ImageError]) -> str:
    """One non-empty line a student can read: no traceback, no exception repr."""
    msg = str(err.value)
    assert msg.strip(), "empty message"
    assert "\n" not in msg and "\r" not in msg
    assert "Traceback" not in msg
    for leak in ("Error(", "Exception(", "Warning(", "<", "b'", 'b"', "PIL.", "errno"):
        assert leak not in msg, f"{leak!r} leaked into {msg!r}"
    assert msg.endswith("."), msg
    assert len(msg) < 300
    assert isinstance(err.value, CnnvizError)
    return msg


def refuse(data: bytes, **kw) -> str:
    with pytest.raises(ImageError) as err:
        decode_image(data, **kw)
    return assert_clean_message(err)


def noise_photo(w: int = 96, h: int = 64) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def px(img: Image.Image, x: int, y: int) -> tuple[int, ...]:
    return tuple(img.getpixel((x, y)))


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int) -> bool:
    return all(abs(int(p) - int(q)) <= tol for p, q in zip(a, b, strict=True))


# ------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize("data", [b"", bytearray(), memoryview(b"")])
def test_empty_bytes(data):
    msg = refuse(data, name="empty.png")
    assert "empty" in msg and "'empty.png'" in msg


def test_random_bytes_with_image_name():
    msg = refuse(np.random.default_rng(1).bytes(4096), name="x.jpg")
    assert "'x.jpg' is not an image we can read" in msg
    assert "JPEG" in msg and "PNG" in msg  # it tells what *is* supported


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n", "scan.jpg"),
        (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
            b'<circle cx="32" cy="32" r="20" fill="red"/></svg>',
            "logo.png",
        ),
        (b"just some notes, not a picture\n" * 20, "notes.png"),
        (b"PK\x03\x04" + b"\x00" * 60, "archive.gif"),
    ],
    ids=["pdf", "svg", "text", "zip"],
)
def test_non_images_with_image_names(data, name):
    msg = refuse(data, name=name)
    assert f"'{name}' is not an image we can read" in msg


def test_formats_outside_the_whitelist_are_refused():
    # Pillow itself can read ICO and PPM, but we only parse the listed formats.
    small = noise_photo(16, 16)
    assert "not an image we can read" in refuse(encode(small, "ICO"), name="favicon.ico")
    assert "not an image we can read" in refuse(encode(small, "PPM"), name="x.ppm")


@pytest.mark.parametrize("keep", [0.5, 0.9, -2], ids=["half", "most", "no-end-marker"])
def test_truncated_jpeg_is_refused_not_grey(keep):
    data = encode(noise_photo(), "JPEG", quality=90)
    cut = data[: int(len(data) * keep)] if keep > 0 else data[:keep]
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    msg = refuse(cut, name="holiday.jpg")
    assert "damaged or incomplete" in msg and "'holiday.jpg'" in msg


def test_jpeg_header_only():
    data = encode(noise_photo(), "JPEG")[:200]
    assert "damaged or incomplete" in refuse(data, name="a.jpg")


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "TIFF", "WEBP"])
def test_truncated_other_formats(fmt):
    img = noise_photo()
    data = encode(img.convert("P") if fmt == "GIF" else img, fmt)
    assert "damaged or incomplete" in refuse(data[: len(data) // 2], name=f"x.{fmt.lower()}")


def test_loading_truncated_images_stays_off_after_import():
    # A cut-off file must raise, which needs Pillow's global to stay False.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_zero_size_is_refused():
    with pytest.raises(ImageError) as err:
        decode_image(handmade_png(0, 10), name="flat.png")
    assert_clean_message(err)


def test_decompression_bomb_is_refused_before_decoding(monkeypatch):
    data = handmade_png(20_000, 20_000)  # 400 megapixels, all zeros
    assert len(data) < 200_000  # small on disk: that is what makes it a bomb
    loads: list[int] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(1))
    msg = refuse(data, name="bomb.png")
    assert "too large" in msg and "'bomb.png'" in msg
    assert loads == []


def test_bomb_between_one_and_two_times_the_limit(monkeypatch):
    # Pillow only *warns* in this range; we must still refuse, before decoding.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    data = encode(Image.new("L", (150, 100)), "PNG")  # 15,000 pixels
    loads: list[int] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(1))
    with pytest.warns(Image.DecompressionBombWarning):
        msg = refuse(data, name="big.png")
    assert "150×100" in msg and "too large" in msg
    assert loads == []


def test_bomb_with_warnings_as_errors(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    data = encode(Image.new("L", (150, 100)), "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        assert "too large" in refuse(data)


def test_names_are_one_line_base_names():
    msg = refuse(b"nope", name="C:\\Users\\me\\secret folder/evil\nname.jpg")
    assert "secret" not in msg and "Users" not in msg
    assert "'evil name.jpg'" in msg
    assert refuse(b"nope").startswith("This file ")


def test_max_side_must_be_positive():
    with pytest.raises(ValueError):
        decode_image(encode(noise_photo(), "PNG"), max_side=0)


# ----------------------------------------------------------------------- orientation


def test_exif_orientation_6_is_applied():
    # Stored 48 wide × 24 tall, red 8×8 block in the stored top-left corner.
    stored = Image.new("RGB", (48, 24), (128, 128, 128))
    stored.paste((255, 0, 0), (0, 0, 8, 8))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    out = decode_image(encode(stored, "JPEG", quality=95, exif=exif), name="phone.jpg")
    assert out.size == (24, 48)
    assert close(px(out, 24 - 4, 4), (255, 0, 0), 40)  # top-left went to top-right
    assert close(px(out, 4, 4), (128, 128, 128), 40)


def test_nonsense_orientation_is_ignored():
    exif = Image.Exif()
    exif[0x0112] = 42
    out = decode_image(encode(noise_photo(40, 20), "JPEG", exif=exif))
    assert out.size == (40, 20)


# ---------------------------------------------------------------------------- modes


def decode_via(img: Image.Image, fmt: str, **kw) -> Image.Image:
    data = encode(img, fmt, **kw)
    assert Image.open(io.BytesIO(data)).mode  # sanity: the file is readable
    out = decode_image(data, name=f"x.{fmt.lower()}")
    assert out.mode == "RGB" and out.size == img.size
    return out


def test_mode_1():
    img = Image.new("1", (8, 8), 0)
    img.putpixel((3, 3), 1)
    out = decode_via(img, "PNG")
    assert px(out, 3, 3) == (255, 255, 255) and px(out, 0, 0) == (0, 0, 0)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF"])
def test_mode_l(fmt):
    out = decode_via(Image.new("L", (16, 16), 77), fmt)
    assert close(px(out, 8, 8), (77, 77, 77), 1)


def test_mode_la_on_white():
    img = Image.new("LA", (3, 1))
    img.putpixel((0, 0), (10, 255))  # opaque dark
    img.putpixel((1, 0), (0, 0))  # fully transparent black
    img.putpixel((2, 0), (0, 128))  # half-transparent black
    out = decode_via(img, "PNG")
    assert px(out, 0, 0) == (10, 10, 10)
    assert px(out, 1, 0) == (255, 255, 255)
    assert close(px(out, 2, 0), (127, 127, 127), 2)


def _palette_image() -> Image.Image:
    img = Image.new("P", (3, 1))
    img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 - 3) * 3)
    for x in range(3):
        img.putpixel((x, 0), x)
    return img


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP"])
def test_mode_p_without_transparency(fmt):
    out = decode_via(_palette_image(), fmt)
    assert [px(out, x, 0) for x in range(3)] == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_mode_p_with_transparency_on_white(fmt):
    out = decode_via(_palette_image(), fmt, transparency=1)  # green index is transparent
    assert [px(out, x, 0) for x in range(3)] == [(255, 0, 0), (255, 255, 255), (0, 0, 255)]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_rgba_composited_on_white_not_black(fmt):
    img = Image.new("RGBA", (2, 1))
    img.putpixel((0, 0), (0, 0, 0, 0))  # fully transparent *black*
    img.putpixel((1, 0), (10, 20, 30, 255))
    out = decode_via(img, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    assert px(out, 0, 0) == (255, 255, 255)
    assert px(out, 1, 0) == (10, 20, 30)


def test_rgb_png_with_transparent_colour_key():
    img = Image.new("RGB", (2, 1), (0, 0, 0))
    img.putpixel((1, 0), (200, 100, 50))
    out = decode_via(img, "PNG", transparency=(0, 0, 0))
    assert px(out, 0, 0) == (255, 255, 255) and px(out, 1, 0) == (200, 100, 50)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(fmt):
    img = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # pure red in CMYK
    data = encode(img, fmt)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    assert close(px(decode_image(data), 8, 8), (255, 0, 0), 10)


def _gradient16() -> np.ndarray:
    return np.linspace(0, 65535, 256).round().astype(np.uint16)[None, :].repeat(4, axis=0)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16bit_gradient_spans_8bit_range(fmt):
    img = Image.fromarray(_gradient16())
    assert img.mode == "I;16"
    grey = np.asarray(decode_via(img, fmt))[..., 0]
    assert grey.min() == 0 and grey.max() == 255
    assert 120 < grey.mean() < 135  # not all white
    assert np.all(np.diff(grey[0].astype(int)) >= 0)  # still a ramp


def test_16bit_big_endian_tiff():
    a = _gradient16()
    img = Image.frombytes("I;16B", (a.shape[1], a.shape[0]), a.astype(">u2").tobytes())
    data = encode(img, "TIFF")
    assert Image.open(io.BytesIO(data)).mode == "I;16B"
    grey = np.asarray(decode_image(data))[..., 0]
    assert grey[0, 0] == 0 and grey[0, -1] == 255 and 120 < grey.mean() < 135


def test_12bit_data_in_16bit_png_is_stretched_by_its_actual_range():
    a = np.linspace(0, 4095, 64).astype(np.uint16)[None, :].repeat(2, axis=0)
    grey = np.asarray(decode_image(encode(Image.fromarray(a), "PNG")))[..., 0]
    assert grey.min() == 0 and grey.max() == 255


def test_flat_16bit_image_is_black_not_an_error():
    out = decode_image(encode(Image.fromarray(np.zeros((4, 4), np.uint16)), "PNG"))
    assert px(out, 0, 0) == (0, 0, 0)


def test_mode_i_32bit_tiff():
    a = np.linspace(-1000, 3000, 100).astype(np.int32)[None, :].repeat(3, axis=0)
    img = Image.fromarray(a)
    assert img.mode == "I"
    grey = np.asarray(decode_via(img, "TIFF"))[..., 0]
    assert grey[0, 0] == 0 and grey[0, -1] == 255


def test_mode_f_float_tiff_with_nan():
    a = np.linspace(-0.5, 2.0, 101, dtype=np.float32)[None, :].repeat(3, axis=0)
    a[2, 5] = np.nan
    img = Image.fromarray(a)
    assert img.mode == "F"
    grey = np.asarray(decode_via(img, "TIFF"))[..., 0]
    assert grey[0, 0] == 0 and grey[0, 50] in (127, 128) and grey[0, -1] == 255


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_gives_first_frame(fmt):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (20, 20), c) for c in colours]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert close(px(decode_image(data), 10, 10), colours[0], 6)


# ---------------------------------------------------------------------------- sizes


def test_one_by_one_is_kept():
    out = decode_image(encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG"))
    assert out.size == (1, 1) and px(out, 0, 0) == (1, 2, 3)


def test_tiny_images_are_not_upscaled():
    assert decode_image(encode(noise_photo(3, 2), "PNG")).size == (3, 2)


def test_large_jpeg_is_downscaled_keeping_aspect():
    out = decode_image(encode(noise_photo(5000, 3000), "JPEG", quality=70))
    assert out.size == (2048, 1229) and out.mode == "RGB"


def test_large_portrait_png_is_downscaled():
    img = Image.new("RGB", (3000, 5000), (10, 200, 30))
    out = decode_image(encode(img, "PNG", compress_level=1))
    assert out.size == (1229, 2048)
    assert px(out, 600, 1000) == (10, 200, 30)


def test_custom_max_side():
    assert decode_image(encode(noise_photo(400, 100), "PNG"), max_side=100).size == (100, 25)


def test_result_is_a_plain_detached_image():
    out = decode_image(encode(noise_photo(), "JPEG"))
    assert type(out) is Image.Image
    out.putpixel((0, 0), (1, 2, 3))  # writable


# --------------------------------------------------------------- helpers of the API


def test_to_grayscale():
    rgba = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    rgba.putpixel((1, 0), (255, 0, 0, 255))
    grey = to_grayscale(rgba)
    assert grey.mode == "L"
    assert grey.getpixel((0, 0)) == 255 and grey.getpixel((1, 0)) == 76
    l_img = Image.new("L", (2, 2), 9)
    copy = to_grayscale(l_img)
    assert copy.mode == "L" and copy is not l_img and copy.getpixel((0, 0)) == 9
    assert to_grayscale(Image.fromarray(_gradient16())).getextrema() == (0, 255)


def test_image_digest():
    data = encode(noise_photo(), "PNG")
    assert image_digest(data) == hashlib.sha1(data).hexdigest()
    assert len(image_digest(b"")) == 40
    assert image_digest(data) != image_digest(data + b"\x00")


def test_core_does_not_import_streamlit():
    code = "import sys, cnnviz.inputs.images; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# -------------------------------------------------------------------------- gallery


def test_gallery_order_and_titles():
    names = list(SAMPLES)
    assert names[0] == "grace_hopper"
    assert {"astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "hubble_deep_field"} <= set(names)
    assert "horse" not in names  # a silhouette, not a photo
    assert SAMPLES["motorcycle_left"].title == "Motorcycle"
    digits = [s for s in SAMPLES.values() if s.title == "Hand-drawn digit (generated)"]
    assert len(digits) == 1
    for name, sample in SAMPLES.items():
        assert sample.name == name and sample.title and sample.credit
    with pytest.raises(dataclasses.FrozenInstanceError):
        SAMPLES["grace_hopper"].title = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_sample_loads_offline_like_an_upload(name):
    data = sample_bytes(name)
    assert data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n"
    img = load_sample(name)
    assert img.mode == "RGB" and min(img.size) > 100
    assert np.array_equal(np.asarray(img), np.asarray(decode_image(data)))


def test_generated_digit_is_white_on_black():
    name = next(n for n, s in SAMPLES.items() if s.title == "Hand-drawn digit (generated)")
    grey = np.asarray(to_grayscale(load_sample(name)))
    assert grey[0, 0] == 0 and grey[-1, -1] == 0  # black background
    assert grey.max() >= 250  # white strokes
    assert 0.05 < (grey > 128).mean() < 0.3  # a digit, not a blob


def test_unknown_sample():
    with pytest.raises(ImageError) as err:
        load_sample("unicorn")
    assert "unicorn" in assert_clean_message(err)
    with pytest.raises(ImageError):
        sample_bytes("unicorn")


def test_missing_sample_file_is_a_clear_error(monkeypatch):
    broken = dataclasses.replace(SAMPLES["chelsea"], name="gone", loader=gallery._skimage_file("nope.png"))
    monkeypatch.setitem(SAMPLES, "gone", broken)
    with pytest.raises(ImageError) as err:
        sample_bytes("gone")
    assert "not installed" in assert_clean_message(err)
