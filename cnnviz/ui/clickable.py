"""Pictures a student can click, tap or walk with the keyboard: what they chose, in the
picture's own pixels.

The project's own component (``clickable.js`` and ``clickable.css`` beside this module, on
Streamlit's components v2): the picture is an ``<img>`` with a real ``alt``, in the page
itself (no iframe), as wide as its column (never wider, never cut) and as high as the
picture at every width, also after the sidebar is toggled. Given ``hotspots``
(``cnnviz.hotspots``: the tiles of a grid, the units of a map, the thumbnails of a diagram)
it is focusable: arrow keys move a visible cursor between them, a live region names the one
under it, and Enter or Space chooses it. While the presenter's link locks the view
(``share.locked``) it says so, in words and to a screen reader, instead of ignoring clicks.

Each choice is handled once: a click or key press comes back as a trigger value (only in the
run it caused) with an id, remembered under ``key + "_handled"`` so that no rerun acts on it
again (e.g. after the student picked another channel in a selectbox).

Usage (call it *before* the widgets the click drives, so it can set their keys)::

    hit = clicked(pic, key=state.FEAT_GRID_CLICK, alt=..., hotspots=grid.hotspots(),
                  selected=grid.position(channel))     # (row, col) in pic's pixels, or None
    if hit is not None:
        st.session_state[state.FEAT_CHANNEL] = grid.channel_at(hit)
    st.selectbox("Channel", ..., key=state.FEAT_CHANNEL)

If the widgets are drawn above the picture, set their keys and ``st.rerun()``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import render
from cnnviz.hotspots import Hotspots, units
from cnnviz.i18n import N_, _
from cnnviz.ui import compat
from cnnviz.ui.share import LOCKED_TEXT, locked

_HERE = Path(__file__).parent
_mount = st.components.v2.component(
    "cnnviz.clickable_picture",
    js=(_HERE / "clickable.js").read_text(encoding="utf-8"),
    css=(_HERE / "clickable.css").read_text(encoding="utf-8"),
)

HELP = N_(
    "Arrow keys move between the parts of the picture (Page Up, Page Down, Home, End jump); Enter or Space chooses."
)


def to_pixel(value: dict, natural: tuple[int, int]) -> tuple[int, int] | None:
    """A choice ``value`` ({x, y, width, height}: x, y in a picture drawn width × height) as
    (row, col) in a picture of ``natural`` = (height, width) pixels, or None if outside."""
    try:
        x, y = float(value["x"]), float(value["y"])
        dw, dh = float(value.get("width") or 0), float(value.get("height") or 0)
    except (KeyError, TypeError, ValueError):
        return None
    if not all(np.isfinite(v) for v in (x, y, dw, dh)):  # the browser's JSON: "NaN" is a float too
        return None
    nh, nw = natural
    sx = nw / dw if dw > 0 else 1.0
    sy = nh / dh if dh > 0 else sx
    row, col = int(np.floor(y * sy)), int(np.floor(x * sx))
    if not (0 <= row < nh and 0 <= col < nw):
        return None
    return row, col


def is_new(value: dict | None, last: object) -> bool:
    """True when ``value`` is a choice that has not been handled (its id differs from ``last``)."""
    return isinstance(value, dict) and "x" in value and value.get("id") != last


def fallback_alt(hotspots: Hotspots | None) -> str:
    """A text alternative when the caller has none: what can be chosen in the picture."""
    if hotspots is None:
        return _("A picture that can be clicked.")
    return _("A picture of {n} parts to choose from, such as {example}.").format(
        n=hotspots.n, example=hotspots.label(0)
    )


def clicked(
    image: np.ndarray | Image.Image,
    key: str,
    *,
    alt: str = "",
    width: int | Literal["stretch"] = "stretch",
    cursor: str = "pointer",
    hotspots: Hotspots | None = None,
    selected: int | None = None,
    min_width: int | None = None,
    pixelated: bool = True,
) -> tuple[int, int] | None:
    """Show ``image`` ((H, W, 3) uint8 or PIL) as a clickable picture.

    Args:
        image: the picture; its own pixels are the coordinates returned.
        key: the component's key (unique on the page); ``key + "_handled"`` is used too.
        alt: its text alternative (what it shows); empty: :func:`fallback_alt`.
        width: "stretch" fills the column; an int is a largest width in CSS pixels (narrower
            columns shrink it).
        cursor: the mouse cursor over it (CSS).
        hotspots: the parts the keyboard can walk (``cnnviz.hotspots``); None: mouse and touch only.
        selected: the hotspot chosen now (the keyboard cursor starts there).
        min_width: on a narrow screen (a phone: at most 768 CSS px), never drawn narrower than
            this many CSS pixels: it scrolls sideways instead (readable labels, large tap targets).
        pixelated: enlarge with crisp pixels (maps) rather than smoothly.

    Returns:
        (row, col) in the image's own pixels for a click, tap or key press not handled before,
        else None (no choice yet, one already handled, outside the picture, or locked).
    """
    if isinstance(image, Image.Image):
        natural = (image.height, image.width)
    else:
        image = np.ascontiguousarray(image)
        natural = image.shape[:2]
    png = render.to_png(image)
    src = compat.media_url(png, "image/png", f"cnnviz.clickable.{key}")
    if src is None:
        src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    data = {
        "src": src,
        "alt": alt or fallback_alt(hotspots),
        "natural": [int(natural[0]), int(natural[1])],
        "width": width if isinstance(width, int) else None,
        "min_width": min_width,
        "cursor": cursor,
        "pixelated": pixelated,
        "spots": hotspots.spec(selected) if hotspots is not None else None,
        "help": _(HELP),
        "disabled": locked(),
        "locked": _(LOCKED_TEXT),
    }
    value = _mount(key=key, data=data, on_click_change=_ignore, width="stretch", height="content").get("click")
    handled = key + "_handled"
    if locked() or not is_new(value, st.session_state.get(handled)):
        return None
    st.session_state[handled] = value.get("id")
    return to_pixel(value, natural)


def pick_unit(
    view: np.ndarray, key: str, *, alt: str, shape: tuple[int, int], unit: tuple[int, int], keys: tuple[str, str]
) -> None:
    """One channel's (h, w) = ``shape`` map drawn as ``view`` ((h·k, w·k, 3): k pixels per unit),
    ``unit`` = (row, col) painted in magenta; a click, tap or key press on a unit writes it into
    the session keys ``keys`` = (row key, column key) and reruns (they drive sliders below)."""
    h, w = shape
    k = view.shape[0] // h
    row, col = unit
    view = view.copy()
    view[row * k : (row + 1) * k, col * k : (col + 1) * k] = (255, 0, 255)
    hit = clicked(view, key, alt=alt, hotspots=units(h, w, k), selected=row * w + col)
    if hit is not None:
        st.session_state[keys[0]], st.session_state[keys[1]] = min(hit[0] // k, h - 1), min(hit[1] // k, w - 1)
        st.rerun()


def _ignore() -> None:
    """The click trigger's callback: Streamlit registers a trigger only for a named callback;
    the value is read from the component's result instead."""
