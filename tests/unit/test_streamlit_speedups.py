"""Streamlit's work per run, done once (cnnviz.ui.compat): a picture shrunk to an element's
width and a chart's data in Arrow are made once per content, and equal what Streamlit makes
itself."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from streamlit import dataframe_util
from streamlit.elements.lib import image_utils
from streamlit.elements.lib.layout_utils import LayoutConfig

from cnnviz.ui import compat


def _jpeg(width: int, height: int) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def test_a_picture_is_shrunk_once_per_content_and_width():
    original = image_utils._ensure_image_size_and_format
    original = getattr(original, "__wrapped__", original)
    assert compat.remember_resized_pictures()
    ensure = image_utils._ensure_image_size_and_format
    big, small = _jpeg(640, 427), _jpeg(200, 100)
    first = ensure(big, LayoutConfig(width=300), "JPEG")
    assert first == original(big, LayoutConfig(width=300), "JPEG")
    assert Image.open(io.BytesIO(first)).size == (300, 200)
    assert ensure(big, LayoutConfig(width=300), "JPEG") is first  # kept, not made again
    assert Image.open(io.BytesIO(ensure(big, LayoutConfig(width=200), "JPEG"))).size == (200, 133)  # its own width
    assert ensure(small, LayoutConfig(width=300), "JPEG") is small  # narrower: untouched, as before


def test_chart_data_is_converted_once_per_content():
    original = dataframe_util.convert_anything_to_arrow_bytes
    original = getattr(original, "__wrapped__", original)
    assert compat.remember_chart_data()
    convert = dataframe_util.convert_anything_to_arrow_bytes
    values = [{"class": "cat", "p": 0.5}, {"class": "dog", "p": 0.25}]
    first = convert(values)
    assert first == original(values)
    assert convert([dict(v) for v in values]) is first  # the same content: kept
    other = convert([{"class": "cat", "p": 0.75}])
    assert other != first and other == original([{"class": "cat", "p": 0.75}])
    odd = [{"p": np.float32(0.5)}]  # not plain JSON: converted as before
    assert convert(odd) == original(odd)
