"""A progress bar for the slow steps: cnnviz's ``progress(fraction, text)`` callbacks drive
``st.progress``; the bar disappears when the step is done."""

from __future__ import annotations

import streamlit as st


class ProgressBar:
    """``with ProgressBar("Occlusion…") as bar: compute(progress=bar)`` - a callable progress
    callback (see cnnviz.inside.progress) drawing into one ``st.progress`` where it was created."""

    def __init__(self, text: str):
        self._text = text
        self._bar = None

    def __enter__(self) -> ProgressBar:
        self._bar = st.progress(0.0, text=self._text)
        return self

    def __call__(self, fraction: float, text: str) -> None:
        if self._bar is not None:
            self._bar.progress(min(max(float(fraction), 0.0), 1.0), text=text)

    def __exit__(self, *_exc) -> None:
        if self._bar is not None:
            self._bar.empty()
