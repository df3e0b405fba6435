"""Notices a page carries at its top: the plain warning that a model's weights are untrained."""

from __future__ import annotations

import streamlit as st

from cnnviz.ui import state

RANDOM_WEIGHTS = (
    "Random weights: this network has not been trained. Its predictions, feature maps, filters and "
    "explanations show what an untrained network does — they mean nothing about the photo. "
    "Compare them with the trained weights to see what learning changed."
)


def weights_notice(weights: str) -> None:
    """A warning when ``weights`` are random (shown by ``loaders.current_model``, once per page)."""
    if weights == state.WEIGHTS_RANDOM:
        st.warning(RANDOM_WEIGHTS, icon=":material/casino:")
