"""Pictures a student can click: where they clicked, in the picture's own pixels.

Built on ``streamlit-image-coordinates`` (an iframe that sends back the click in CSS pixels
of the *displayed* picture, with the displayed width/height and a ``unix_time``). Two
things this module takes care of so pages don't have to:

* **Stale clicks.** The component keeps returning its last value on every rerun, also
  after another widget changed (e.g. the student picked a channel in a selectbox after
  clicking a tile): acting on that value again would undo the student's new choice. Each
  click is handled once: its ``unix_time`` is remembered under ``key + "_handled"``.
* **Scaling.** A picture shown at ``width="stretch"`` is drawn at the column's width, not
  its natural size: the click is scaled by natural size / displayed size.

Usage (call it *before* the widgets the click drives, so it can set their keys)::

    hit = clicked(rgb, key=state.FEAT_GRID_CLICK)          # (row, col) in rgb's pixels, or None
    if hit is not None:
        st.session_state[state.FEAT_CHANNEL] = channel_at(hit)
    st.selectbox("Channel", ..., key=state.FEAT_CHANNEL)

If the widgets are drawn above the picture, set their keys and ``st.rerun()``. For a grid of
tiles use ``cnnviz.render.tile_at`` (or ``featuremaps.Grid.channel_at``) to turn the pixel into a tile index.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import streamlit as st
from PIL import Image
from streamlit_image_coordinates import streamlit_image_coordinates


def to_pixel(value: dict, natural: tuple[int, int]) -> tuple[int, int] | None:
    """The component's click ``value`` ({x, y, width, height} in displayed CSS pixels) as
    (row, col) in a picture of ``natural`` = (height, width) pixels, or None if outside."""
    try:
        x, y = float(value["x"]), float(value["y"])
        dw, dh = float(value.get("width") or 0), float(value.get("height") or 0)
    except (KeyError, TypeError, ValueError):
        return None
    nh, nw = natural
    sx = nw / dw if dw > 0 else 1.0
    sy = nh / dh if dh > 0 else sx
    row, col = int(np.floor(y * sy)), int(np.floor(x * sx))
    if not (0 <= row < nh and 0 <= col < nw):
        return None
    return row, col


def is_new(value: dict | None, last: object) -> bool:
    """True when ``value`` is a click that has not been handled (its time differs from ``last``)."""
    return isinstance(value, dict) and "x" in value and value.get("unix_time") != last


def clicked(
    image: np.ndarray | Image.Image,
    key: str,
    *,
    alt: str = "",
    width: int | Literal["stretch"] = "stretch",
    cursor: str = "pointer",
) -> tuple[int, int] | None:
    """Show ``image`` ((H, W, 3) uint8 or PIL) as a clickable picture.

    Returns (row, col) in the image's own pixels for a click not handled before, else None
    (no click yet, or the same click the component sends again on a later rerun).
    ``width``: CSS pixels, or "stretch" to fill the column (no horizontal scroll).
    ``alt``: the picture's text alternative (cnnviz.a11y). streamlit-image-coordinates cannot
    carry one; the component that replaces it (issue 22) puts it on its picture.
    """
    if isinstance(image, Image.Image):
        natural = (image.height, image.width)
    else:
        image = np.ascontiguousarray(image)
        natural = image.shape[:2]
    value = streamlit_image_coordinates(image, key=key, width=width, cursor=cursor, png_compression_level=1)
    handled = key + "_handled"
    if not is_new(value, st.session_state.get(handled)):
        return None
    st.session_state[handled] = value.get("unix_time")
    return to_pixel(value, natural)
