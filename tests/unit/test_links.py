"""Links: query-parameter parsing, messages that never echo hostile text, and the shared-upload store."""

from __future__ import annotations

import io
import os
import time

import numpy as np
import pytest
from PIL import Image

from cnnviz.errors import ImageError
from cnnviz.inputs.gallery import SAMPLES, sample_bytes
from cnnviz.inputs.images import decode_image
from cnnviz.lessons import links as L
from cnnviz.serving.sharing import SharedImages, default_store, sha256_hex

SPEC = {
    "layer": L.layer_param("feat_layer"),
    "channel": L.int_param("feat_channel"),
    "sort": L.choice_param("feat_sort", ("channel", "mean", "max")),
    "size": L.choice_param("conv_size", (3, 5)),
    "eps": L.float_param("adv_eps", 0.0, 8.0),
    "signed": L.bool_param("gc_signed"),
    "cells": L.numbers_param("conv_cells", (9, 25), -1000, 1000),
}


def test_parse_params_types_and_unknown_names():
    values, problems = L.parse_params(
        SPEC,
        {
            "layer": "blocks.3.expand.act",
            "channel": "12",
            "sort": "mean",
            "size": "5",
            "eps": "2.5",
            "signed": "1",
            "x": "y",
        },
    )
    assert problems == []
    assert values == {
        "layer": "blocks.3.expand.act",
        "channel": 12,
        "sort": "mean",
        "size": 5,
        "eps": 2.5,
        "signed": True,
    }
    assert type(values["size"]) is int  # the radio's own option, not its text


def test_format_params_round_trips():
    state = {"feat_layer": "layer1.0.relu#2", "feat_channel": 7, "conv_size": 3, "adv_eps": 0.5, "gc_signed": False}
    text = L.format_params(SPEC, state)
    assert text == {"layer": "layer1.0.relu#2", "channel": "7", "size": "3", "eps": "0.5", "signed": "0"}
    values, problems = L.parse_params(SPEC, text)
    assert problems == [] and {SPEC[n].key: v for n, v in values.items()} == state


def test_kernel_cells_round_trip_as_float32():
    """cells= holds a kernel row by row; text → float32 values → the same text."""
    spec = {"cells": SPEC["cells"]}
    kernel = np.array([1 / 9, -0.5, 2, 0, -0.0, 3.25, 1e-3, -999.5, 7], dtype=np.float32)
    text = L.format_params(spec, {"conv_cells": tuple(float(v) for v in kernel)})
    assert text["cells"].startswith("0.11111111,-0.5,2,0,")
    values, problems = L.parse_params(spec, text)
    assert problems == [] and np.array_equal(np.float32(values["cells"]), kernel)
    assert len(L.parse_params(spec, {"cells": ",".join(["0.25"] * 25)})[0]["cells"]) == 25


@pytest.mark.parametrize(
    ("name", "raw", "phrase"),
    [
        ("channel", "-1", "out of range"),
        ("channel", "99999999", "not a whole number"),
        ("channel", "1e3", "not a whole number"),
        ("channel", "", "not a whole number"),
        ("eps", "nan", "not a number"),
        ("eps", "inf", "not a number"),
        ("eps", "9", "out of range"),
        ("sort", "random", "not one of"),
        ("size", "4", "not one of"),
        ("signed", "maybe", "not 1 or 0"),
        ("layer", "../../etc/passwd", "not a valid name"),
        ("layer", "<script>alert(1)</script>", "not a valid name"),
        ("layer", "x" * 10_000, "too long"),
        ("cells", "1,2,3", "not 9 or 25 numbers"),
        ("cells", "nan,0,0,0,0,0,0,0,0", "not 9 or 25 numbers"),
        ("cells", "1e3,0,0,0,0,0,0,0,0", "not 9 or 25 numbers"),
        ("cells", "2000,0,0,0,0,0,0,0,0", "out of range"),
        ("cells", "<script>,0,0,0,0,0,0,0,0", "not 9 or 25 numbers"),
        ("cells", "0," * 5_000 + "0", "too long"),
    ],
)
def test_bad_values_are_refused_with_a_phrase(name, raw, phrase):
    values, problems = L.parse_params(SPEC, {name: raw})
    assert values == {} and len(problems) == 1
    assert phrase in problems[0] and problems[0].startswith(name)


@pytest.mark.parametrize(
    "raw", ["<script>alert(1)</script>", "**bold**", "[a](javascript:x)", "x" * 300, "a b", "`tick`"]
)
def test_messages_never_repeat_markup_or_long_values(raw):
    _, problems = L.parse_params(SPEC, {"sort": raw})
    msg = L.problems_message(problems)
    assert raw not in msg and "<" not in msg and "*" not in msg.replace("`", "") and len(msg) < 300
    assert msg.startswith("Part of this link") and msg.endswith(".")


def test_short_plain_values_are_named_in_backticks():
    assert L.shown("blocks.3") == "`blocks.3`"
    assert "`zzz`" in L.problems_message(L.parse_params(SPEC, {"sort": "zzz"})[1])
    assert L.problems_message([]) == ""
    assert L.problems_message(["a", "a", "b"]).count("a;") == 1  # repeats merged


def test_image_refs():
    assert L.image_ref("chelsea", SAMPLES) == ("gallery", "chelsea")
    d = "ab" * 32
    assert L.image_ref(f"upload:{d}", SAMPLES) == ("upload", d)
    assert L.image_ref(f"upload:{d.upper()}", SAMPLES) == ("upload", d)
    for bad in ("upload:abc", "upload:" + "g" * 64, "upload:../../x", "upload:" + d + "0", "kitten", "x" * 5000):
        with pytest.raises(L.LinkValueError):
            L.image_ref(bad, SAMPLES)


# ------------------------------------------------------------------ the shared-upload store


@pytest.fixture
def store(tmp_path) -> SharedImages:
    return SharedImages(tmp_path / "shared", ttl_seconds=3600, max_total_bytes=10 * 2**20)


def _png(seed: int, side: int = 64) -> bytes:
    rgb = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_store_keeps_the_decoded_pixels_by_sha256(store):
    jpeg = sample_bytes("grace_hopper")  # a JPEG with metadata
    digest = store.put(jpeg, name="grace.jpg")
    data = store.get(digest)
    assert digest == sha256_hex(data) and len(digest) == 64
    assert data.startswith(b"\x89PNG")  # re-encoded: no EXIF, same pixels
    np.testing.assert_array_equal(np.asarray(decode_image(data)), np.asarray(decode_image(jpeg)))
    assert store.put(jpeg) == digest  # content-addressed: the same photo, the same name
    kept = sorted(p.name for p in store.folder.iterdir() if p.name != ".lock")
    assert kept == [f"{digest}.png", f"{digest}.refs"]


def _age(store: SharedImages, digest: str, when: float) -> None:
    """Date every reference to a kept photo (its holders' last use) at ``when``."""
    for ref in (store.folder / f"{digest}.refs").iterdir():
        os.utime(ref, (when, when))


def test_store_refuses_what_is_not_an_image_and_unknown_digests(store):
    with pytest.raises(ImageError):
        store.put(b"GIF89a not really")
    assert store.get("0" * 64) is None
    assert store.get("../../etc/passwd") is None
    assert store.get("") is None


def test_store_expires_old_files(store):
    digest = store.put(_png(1))
    path = store.folder / f"{digest}.png"
    _age(store, digest, time.time() - 2 * 3600)
    assert store.get(digest) is None and not path.exists()
    assert not (store.folder / f"{digest}.refs").exists()


def test_store_evicts_the_oldest_past_its_total(tmp_path):
    one = len(_png(0, 128))
    store = SharedImages(tmp_path / "s", max_total_bytes=int(2.5 * one))
    digests = []
    for i in range(4):
        digests.append(store.put(_png(i, 128)))
        _age(store, digests[-1], time.time() - 100 + i)  # distinct, increasing ages
    kept = [d for d in digests if store.get(d) is not None]
    assert kept == digests[-2:]
    assert sum(p.stat().st_size for p in store.folder.glob("*.png")) <= 2.5 * one


def test_store_refuses_files_over_its_size_cap_and_tampered_files(tmp_path):
    small = SharedImages(tmp_path / "s", max_file_bytes=100)
    assert small.put(_png(3)) is None and not list((tmp_path / "s").glob("*.png"))
    store = SharedImages(tmp_path / "t")
    d = store.put(_png(4))
    (store.folder / f"{d}.png").write_bytes(_png(5))  # replaced on disk
    assert store.get(d) is None


def test_store_can_be_switched_off(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNVIZ_SHARE_UPLOADS", "0")
    monkeypatch.setenv("CNNVIZ_SHARED_IMAGES", str(tmp_path / "off"))
    store = default_store()
    assert not store.enabled and store.put(_png(6)) is None and store.get("a" * 64) is None
    assert not (tmp_path / "off").exists()
    monkeypatch.setenv("CNNVIZ_SHARE_UPLOADS", "1")
    monkeypatch.setenv("CNNVIZ_SHARE_HOURS", "0.5")
    assert default_store().enabled and default_store().ttl_seconds == 1800


def test_a_model_link_says_the_same_for_a_private_name_and_an_unknown_one():
    openable = {"efficientnet_lite0", "my_own"}
    assert L.model("model", "my_own", openable) == "my_own"
    said = []
    for raw in ("alice_private", "nobody_s"):
        with pytest.raises(L.LinkValueError) as e:
            L.model("model", raw, openable)
        said.append(str(e.value).replace(raw, "NAME"))
        assert "efficientnet_lite0" not in str(e.value)  # no list of what exists
    assert said[0] == said[1] == f"model `NAME` {L.NO_MODEL}"
