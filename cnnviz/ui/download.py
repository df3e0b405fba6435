"""One "Download PNG" button for every figure: the bytes come from cnnviz.render."""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from cnnviz import render
from cnnviz.i18n import _
from cnnviz.ui import state


def download_png(figure: bytes | np.ndarray, file_name: str, key: str, label: str | None = None) -> None:
    """A download button for ``figure``: PNG bytes, or an (H, W, 3) / (H, W) uint8 picture that
    render encodes. ``file_name`` (no extension) is cleaned to letters, digits, ``_-.``; the
    widget key is :data:`state.DOWNLOAD` + ``key``; ``label`` (None: "Download PNG") is shown."""
    png = figure if isinstance(figure, bytes) else render.to_png(figure)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", file_name).strip("_") or "figure"
    st.download_button(
        _("Download PNG") if label is None else label,
        png,
        file_name=f"{name}.png",
        mime="image/png",
        key=state.DOWNLOAD + key,
    )
