"""The bad-input catalogue (every kind of bad file a student may give), generated in code (nothing committed).

``BAD_IMAGES``: files the app must refuse with a clear message. ``ODD_IMAGES``: real
images in awkward forms the app must accept. ``BAD_CHECKPOINTS``, ``TRAINING_ZIPS``: the
same for weights files and the Train page's zips (``BAD_ONNX``: hostile ONNX files) (tests/browser/test_upload_memory.py
sends every one of these to a real server and measures its peak memory). ``BAD_UPLOAD_NAMES``,
``BAD_LINKS``, ``BAD_OUTPUTS`` and :func:`deep_json`: hostile names, links, output paths and
sidecars (issue 23). Shared by the unit, app, CLI and browser tests so that every layer is
checked against the same list.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def handmade_png(width: int, height: int, *, bit_depth: int = 1, colour_type: int = 0) -> bytes:
    """A valid grey PNG of zeros built row by row with zlib: cheap even at 20000×20000."""
    row = b"\x00" * (1 + (width * bit_depth + 7) // 8)  # filter byte + packed pixels
    z = zlib.compressobj(9)
    block = row * 1000
    parts = [z.compress(block) for _ in range(height // 1000)]
    parts.append(z.compress(row * (height % 1000)))
    parts.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def handmade_tiff(width: int, height: int, *, sample_format: int = 3, bits: int = 32) -> bytes:
    """A deflate-compressed one-strip TIFF of zeros (float32 by default), cheap at any size."""
    row = b"\x00" * (width * bits // 8)
    z = zlib.compressobj(9)
    parts = [z.compress(row * 1000) for _ in range(height // 1000)]
    parts += [z.compress(row * (height % 1000)), z.flush()]
    strip = b"".join(parts)
    tags = [  # (tag, type, count, value): type 3 = SHORT, 4 = LONG
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, bits),
        (259, 3, 1, 8),  # deflate
        (262, 3, 1, 1),  # black is zero
        (273, 4, 1, 8),  # the strip follows the 8-byte header
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, len(strip)),
        (339, 3, 1, sample_format),  # 3 = IEEE float, 1 = unsigned int
    ]
    ifd = struct.pack("<H", len(tags))
    for tag, kind, count, value in tags:
        ifd += struct.pack("<HHI", tag, kind, count) + (
            struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        )
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8 + len(strip)) + strip + ifd


def handmade_jpeg(width: int, height: int, *, orientation: int | None = None) -> bytes:
    """A valid baseline 4:2:0 JPEG of mid-grey at any size, cheap (4 bytes per 16×16 block):
    the header of a small Pillow JPEG (standard Huffman tables) with its size patched, then
    a scan in which every block is "DC unchanged, end of block". ``orientation``: its EXIF tag."""
    small = Image.new("RGB", (16, 16), (128, 128, 128))
    buf = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    small.save(buf, "JPEG", quality=90, subsampling=2, optimize=False, exif=exif.tobytes())
    data = buf.getvalue()
    sof = data.index(b"\xff\xc0")
    head = data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]
    sos = head.index(b"\xff\xda")
    start = sos + 2 + struct.unpack(">H", head[sos + 2 : sos + 4])[0]
    # per 16×16 MCU: 4 luma blocks of DC code "00" + EOB "1010", 2 chroma blocks of "00" + "00"
    mcus = -(-width // 16) * -(-height // 16)
    return head[:start] + b"\x28\xa2\x8a\x00" * mcus + b"\xff\xd9"


def photo(w: int = 320, h: int = 240) -> Image.Image:
    """A smooth colourful test picture (compresses like a photo, unlike noise)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([x / w, y / h, 0.5 + 0.5 * np.sin(x / 17.0) * np.cos(y / 23.0)], axis=-1)
    return Image.fromarray((rgb * 255).astype(np.uint8))


def _truncated_jpeg() -> bytes:
    data = encode(photo(), "JPEG", quality=90)
    return data[: len(data) // 2]


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    return encode(photo(320, 160), "JPEG", exif=exif.tobytes())


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (64, 64), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def _sixteen_bit() -> bytes:
    ramp = np.linspace(0, 65535, 200 * 120).reshape(120, 200).astype(np.uint16)
    return encode(Image.fromarray(ramp), "PNG")


# name -> (file name, bytes maker)
BAD_IMAGES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "empty file": ("empty.jpg", lambda: b""),
    "truncated JPEG": ("cut.jpg", _truncated_jpeg),
    "random bytes named .jpg": ("noise.jpg", lambda: np.random.default_rng(0).bytes(4096)),
    "PDF named .png": ("paper.png", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
    "SVG named .png": ("drawing.png", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
    "decompression bomb": ("bomb.png", lambda: handmade_png(30000, 30000)),
    # Under Pillow's 89 MP limit, but +2.9 GB of float64 copies before the fix (issue 10).
    "16-bit PNG bomb (9400²)": ("deep_bomb.png", lambda: handmade_png(9400, 9400, bit_depth=16)),
    "float TIFF bomb (9400²)": ("float_bomb.tif", lambda: handmade_tiff(9400, 9400)),
    # Scaled to a page column its height is 0 pixels (the generic error box before).
    "1500×1 line": ("line.png", lambda: encode(Image.new("RGB", (1500, 1), (200, 30, 30)), "PNG")),
}

ODD_IMAGES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "grayscale": ("grey.png", lambda: encode(photo().convert("L"), "PNG")),
    "palette": ("palette.gif", lambda: encode(photo().convert("P"), "GIF")),
    "RGBA": ("alpha.png", lambda: encode(photo().convert("RGBA"), "PNG")),
    "CMYK": ("print.jpg", lambda: encode(photo().convert("CMYK"), "JPEG")),
    "16-bit": ("deep.png", _sixteen_bit),
    "animated GIF": ("anim.gif", _animated_gif),
    "EXIF-rotated": ("phone.jpg", _exif_rotated),
    "1×1": ("dot.png", lambda: encode(Image.new("RGB", (1, 1), (200, 30, 30)), "PNG")),
    "huge (6000×4000)": ("huge.jpg", lambda: encode(photo(6000, 4000), "JPEG", quality=70)),
}


# ----------------------------------------------------------------- hostile checkpoints
def _torch_zip_with_deflated_zeros(unpacked: int) -> bytes:
    """A real torch .pt whose storage entry is ``unpacked`` bytes of deflated zeros (a bomb)."""
    import zipfile

    import torch

    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename.endswith("/data/0"):
                with dst.open(info.filename, "w", force_zip64=True) as f:
                    for _ in range(unpacked >> 20):
                        f.write(b"\0" * (1 << 20))
            else:
                dst.writestr(info.filename, src.read(info))
    return out.getvalue()


# name -> (file name, bytes maker, words the one-line message must contain)
BAD_CHECKPOINTS: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "zip bomb (3 GB of zeros)": ("homework.pt", lambda: _torch_zip_with_deflated_zeros(3 << 30), "would unpack to"),
    "malformed pickle": ("mine.pt", lambda: b"\x80\x02h\x05.", "is damaged"),
    "malformed pickle (list)": ("mine2.pt", lambda: b"\x80\x02]q\x00h\x05a.", "is damaged"),
    "random bytes": ("noise.pt", lambda: bytes(range(7, 256)) * 16, "not a PyTorch checkpoint"),
    "empty file": ("empty.pt", lambda: b"", "not a PyTorch checkpoint"),
    "safetensors that is not": (
        "fake.safetensors",
        lambda: b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage",
        "safetensors",
    ),
}


# ----------------------------------------------------------------- hostile ONNX files (issue 29)
def onnx_bytes(nodes: list, inits: list | None = None, *, side: int = 8, output: str = "y", classes: int = 4) -> bytes:
    """A serialised ONNX model of ``nodes`` on an image input ``x`` (1, 3, side, side)."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, classes])],
        initializer=inits or [],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _onnx_tiny_classifier(weights: int = 3 * 3 * 3 * 4) -> bytes:
    """A valid little ONNX CNN: conv, global pool, flatten (its weights ``weights`` floats)."""
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(np.linspace(-1, 1, weights, dtype=np.float32).reshape(4, -1, 3, 3), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["c"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["y"], name="flat"),
    ]
    return onnx_bytes(nodes, [w])


def _onnx_claiming_gigabytes() -> bytes:
    """An initialiser whose dims claim 16 GB of floats, holding 16 bytes."""
    from onnx import TensorProto, helper

    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 16, 1 << 16], raw_data=b"\0" * 16)
    return onnx_bytes([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [w])


def _onnx_external_data() -> bytes:
    """Weights "stored" in ../../etc/passwd: a loader that follows the path reads the server's files."""
    from onnx import TensorProto, helper

    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 3, 3, 3])
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="../../etc/passwd")
    w.external_data.add(key="length", value="432")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("GlobalAveragePool", ["c"], ["p"]),
        helper.make_node("Flatten", ["p"], ["y"]),
    ]
    return onnx_bytes(nodes, [w])


def _onnx_unknown_operator() -> bytes:
    from onnx import helper

    return onnx_bytes([helper.make_node("RunShell", ["x"], ["y"], name="evil", domain="com.evil", cmd="rm -rf /")])


def _onnx_markdown_operator() -> bytes:
    """An operator named like a markdown image: the app shows messages as markdown."""
    from onnx import helper

    return onnx_bytes([helper.make_node("![x](https://evil.example/t.png)", ["x"], ["y"], name="md")])


def _onnx_cycle() -> bytes:
    """a = x + b; b = relu(a): each node waits for the other."""
    from onnx import helper

    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="add"),
        helper.make_node("Relu", ["a"], ["b"], name="relu"),
        helper.make_node("GlobalAveragePool", ["a"], ["p"]),
        helper.make_node("Flatten", ["p"], ["y"]),
    ]
    return onnx_bytes(nodes)


def _onnx_10000_nodes() -> bytes:
    from onnx import helper

    nodes = [helper.make_node("Relu", [f"v{i}" if i else "x"], [f"v{i + 1}"]) for i in range(9998)]
    nodes += [helper.make_node("GlobalAveragePool", ["v9998"], ["p"]), helper.make_node("Flatten", ["p"], ["y"])]
    return onnx_bytes(nodes, classes=3)


# name -> (file name, bytes maker, words the one-line message must contain)
BAD_ONNX: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "initialisers that claim gigabytes": ("big.onnx", _onnx_claiming_gigabytes, "claims 17.2 GB"),
    "external data pointing at ../../etc/passwd": ("ext.onnx", _onnx_external_data, "external data"),
    "an unknown operator": ("evil.onnx", _onnx_unknown_operator, "'com.evil.RunShell'"),
    "an operator named as markdown": ("md.onnx", _onnx_markdown_operator, "'??x??https://evil.example/t.png?'"),
    "a cyclic graph": ("loop.onnx", _onnx_cycle, "a cycle"),
    "a 10,000-node graph": ("deep.onnx", _onnx_10000_nodes, "has 10000 nodes"),
    "a truncated protobuf": (
        "cut.onnx",
        lambda: (b := _onnx_tiny_classifier(3 * 3 * 3 * 4000))[: len(b) // 2],
        "not a readable ONNX model",
    ),
    "a renamed JPEG": ("photo.onnx", lambda: encode(photo(64, 48), "JPEG"), "not a readable ONNX model"),
}


# ----------------------------------------------------------------- hostile training zips
def make_zip(entries: dict[str, bytes], *, stored: bool = False) -> bytes:
    """A deflated (or ``stored``: uncompressed) zip of ``{path: bytes}``."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
        for path, data in entries.items():
            zf.writestr(path, data)
    return buf.getvalue()


def _tiny_png(value: int = 128) -> bytes:
    return encode(Image.new("L", (8, 8), value), "PNG")


def _zip_of_zeros(unpacked: int) -> bytes:
    """A zip whose one image entry inflates to ``unpacked`` bytes of zeros (a zip bomb)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("a/bomb.png", "w", force_zip64=True) as f:
            for _ in range(unpacked >> 20):
                f.write(b"\0" * (1 << 20))
        zf.writestr("b/x.png", _tiny_png())
    return buf.getvalue()


def _photo_zip(classes: int, per_class: int, side: int) -> bytes:
    """Class folders of distinct small photos (JPEG), e.g. the most files a zip may hold."""
    files = {}
    base = photo(side, side)
    for c in range(classes):
        for i in range(per_class):
            img = base.rotate(7 * i + c, fillcolor=(c * 40 % 256, 90, 160))
            files[f"class_{c}/{i}.jpg"] = encode(img, "JPEG", quality=80)
    return make_zip(files)


# name -> (file name, bytes maker, words its message must contain; None: a usable dataset)
TRAINING_ZIPS: dict[str, tuple[str, Callable[[], bytes], str | None]] = {
    # Issue 10: 300 classes with 20,000-character names drove the server to 20.8 GB.
    "300 classes, 20000-character names": (
        "long_names.zip",
        lambda: make_zip({f"{i:03d}{'n' * 20_000}/x.png": _tiny_png() for i in range(300)}),
        "class folders",
    ),
    "1666 short-named classes": (
        "many.zip",
        lambda: make_zip({f"c{i}/x.png": _tiny_png() for i in range(1666)}),
        "class folders",
    ),
    "zip bomb (200 MB of zeros in one entry)": ("bomb.zip", lambda: _zip_of_zeros(200 << 20), "bomb.png"),
    # Skipped as unreadable (counted on the page); the other images make a usable dataset.
    "16-bit PNG bomb inside": (
        "deep.zip",
        # stored, not deflated again: the entry's ratio is the PNG's own, so only its header tells
        lambda: make_zip(
            {
                "a/deep_bomb.png": handmade_png(9400, 9400, bit_depth=16),
                **{f"{c}/{i}.png": _tiny_png(40 * i + 100 * (c == "b")) for c in "ab" for i in range(3)},
            },
            stored=True,
        ),
        None,
    ),
    "5000 photos (the file cap), 4 classes": ("big.zip", lambda: _photo_zip(4, 1250, 64), None),
}


# ----------------------------------------------------------------- hostile command lines
def deep_json(depth: int = 100_000) -> bytes:
    """A model sidecar whose ``arch`` is ``depth`` nested lists: deeper than Python's recursion
    limit, so ``json.loads`` raises RecursionError (a traceback on the CLI before issue 23)."""
    return b'{"format": "cnnviz-model/1", "arch": ' + b"[" * depth + b"]" * depth + b"}"


def _no_permission(tmp) -> str | None:
    """A path this process may not write: a read-only folder, or (as root, who may write
    there anyway) a kernel file that refuses everyone; None when neither exists."""
    import os
    from pathlib import Path

    if os.geteuid() != 0:
        locked = Path(tmp) / "locked"
        locked.mkdir(mode=0o500, exist_ok=True)
        return str(locked / "out.png")
    return "/sys/kernel/notes" if os.path.exists("/sys/kernel/notes") else None


# Where every --out/--npy/--save-input must fail with one line and exit 2 (issue 23: an OSError
# traceback, exit 1, before). name -> (path maker taking a temporary folder, words of the
# message; None: the path does not exist on this machine).
BAD_OUTPUTS: dict[str, tuple[Callable[[object], str | None], str]] = {
    "/dev/full (no space left)": (lambda tmp: "/dev/full", "No space left on device"),
    "a folder": (lambda tmp: str(tmp), "Is a directory"),
    "inside a regular file": (lambda tmp: _file_in(tmp) + "/out.png", "Not a directory"),
    "a folder that does not exist": (lambda tmp: f"{tmp}/missing/out.png", "No such file or directory"),
    "no permission": (_no_permission, "Permission denied"),
}


def _file_in(tmp) -> str:
    from pathlib import Path

    f = Path(tmp) / "plain_file"
    f.write_bytes(b"x")
    return str(f)


# ----------------------------------------------------------------- hostile names and links
# Upload names Streamlit's uploader refused on every run of the sender's session (the generic
# error box, issue 23): name -> file name as sent over the protocol (a browser never sends one).
BAD_UPLOAD_NAMES: dict[str, str] = {
    "NUL byte in a photo's name": "ca\x00t.jpg",
    "NUL byte in a checkpoint's name": "wei\x00ghts.pt",
    "NUL byte in a folder upload's class": "dataset/ca\x00t/0.png",
}

# Links to a model the viewer may not open: the same one sentence whether the model exists
# (another browser's private model, ``{private}``) or not; with present=1 too (issue 23: the
# private model loaded in presenter mode).
BAD_LINKS: dict[str, dict[str, str]] = {
    "another browser's private model": {"model": "{private}"},
    "another browser's private model, presenter mode": {"model": "{private}", "present": "1"},
    "a model nobody has": {"model": "my_tinyvgg_shapes_zzzz-zzzz-zzzzz"},
    "a model nobody has, presenter mode": {"model": "my_tinyvgg_shapes_zzzz-zzzz-zzzzz", "present": "1"},
}

# A view's link longer than a QR code holds (2,331 bytes at medium error correction): the
# generic error box when its QR code was asked for, before issue 23.
LONG_LINK = "http://127.0.0.1:8501/convolution?" + "&".join(f"p{i}=" + "9" * 40 for i in range(70))


# ----------------------------------------------------------------- lessons (issue 24)
def lesson_json(**top) -> bytes:
    """A valid one-step lesson file, top-level fields replaced by ``top`` (None: removed)."""
    import json

    doc = {
        "format": "cnnviz-lesson",
        "version": 1,
        "title": "A lesson",
        "steps": [{"title": "Start", "note": "", "view": {"page": "", "params": {}}}],
    }
    doc.update(top)
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def _step(**fields) -> dict:
    return {"title": "A step", "view": {"page": "gradcam", "params": {"layer": "blocks.6"}}, **fields}


# Lesson files the app and the CLI must refuse: name -> (bytes, words every message about it
# has). Each is one problem, so each gives exactly one sentence.
BAD_LESSONS: dict[str, tuple[bytes, str]] = {
    "empty file": (b"", "not valid JSON"),
    "binary (a PNG)": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not text"),
    "NUL inside the text": (b'{"format": "cnnviz-lesson"\x00}', "NUL"),
    "not JSON": (b"title: my lesson\n", "not valid JSON"),
    "nested 100,000 deep": (deep_json().replace(b"cnnviz-model/1", b"cnnviz-lesson"), "nested too deeply"),
    "NaN in it": (b'{"format": "cnnviz-lesson", "version": NaN}', "NaN"),
    "over 256 KB": (lesson_json(title="x" * (300 * 1024)), "256 KB"),
    "another format": (b'{"format": "cnnviz-model/1"}', "not a CNN Explorer lesson"),
    "a list, not an object": (b"[1, 2, 3]", "not a CNN Explorer lesson"),
    "version 2": (lesson_json(version=2), "version must be 1"),
    "no steps": (lesson_json(steps=[]), "at least one step"),
    "101 steps": (lesson_json(steps=[_step()] * 101), "at most 100"),
    "a title of 121 characters": (lesson_json(steps=[_step(title="t" * 121)]), "at most 120"),
    "a note of 2,001 characters": (lesson_json(steps=[_step(note="n" * 2001)]), "at most 2,000"),
    "a control character in a note": (lesson_json(steps=[_step(note="a\x1b[31mred")]), "control characters"),
    "a line break in a title": (lesson_json(steps=[_step(title="two\nlines")]), "line breaks"),
    "a right-to-left override in a title": (lesson_json(steps=[_step(title="abc\u202edcba")]), "control characters"),
    "an image named by a number": (
        lesson_json(steps=[_step(question={"kind": "pick_image", "prompt": "Which?", "options": [1, 2, 3, 4]})]),
        "named as text",
    ),
    "a step with no view": (lesson_json(steps=[{"title": "x"}]), "the view must be"),
    "a page the app does not have": (
        lesson_json(steps=[_step(view={"page": "../../etc/passwd", "params": {}})]),
        "not a page of this app",
    ),
    "a parameter the page does not have": (
        lesson_json(steps=[_step(view={"page": "pooling", "params": {"eps": "2"}})]),
        "has no link parameter `eps`",
    ),
    "a parameter's value that is a number": (
        lesson_json(steps=[_step(view={"page": "features", "params": {"channel": 3}})]),
        "must be text",
    ),
    "a parameter's value over 200 characters": (
        lesson_json(steps=[_step(view={"page": "features", "params": {"layer": "a" * 201}})]),
        "too long",
    ),
    "an image not in the gallery": (
        lesson_json(steps=[_step(view={"page": "", "params": {"image": "<script>"}})]),
        "not in the gallery",
    ),
    "an unknown field": (lesson_json(steps=[_step(html="<b>x</b>")]), "not a field"),
    "a question of an unknown kind": (
        lesson_json(steps=[_step(question={"kind": "essay", "prompt": "Why?"})]),
        "kind must be one of",
    ),
    "a choice with one option": (
        lesson_json(steps=[_step(question={"kind": "choice", "prompt": "Which?", "options": ["cat"]})]),
        "2 to 6 options",
    ),
    "pick_image with 3 images": (
        lesson_json(
            steps=[
                _step(question={"kind": "pick_image", "prompt": "Which?", "options": ["chelsea", "coffee", "rocket"]})
            ]
        ),
        "4 options",
    ),
    "keep_own_photo that is not true/false": (lesson_json(steps=[_step(keep_own_photo="yes")]), "true or false"),
}

# Class codes typed or linked that name no class: the one sentence of ClassGone, with no
# echo of what was typed unless it is a well-formed code.
BAD_CLASS_CODES: dict[str, str] = {
    "empty": "",
    "well-formed, no such class": "ZZZZZZ",
    "letters the codes never use (O, I, L, 0, 1)": "O1IL0O",
    "too long": "K7F3QX" * 50,
    "markup": "<img src=x onerror=alert(1)>",
    "SQL": "' OR 1=1 --",
    "NUL": "K7F\x003QX",
}
