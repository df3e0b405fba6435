"""Notices pages carry: untrained weights, and an input unlike the model's training images."""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.familiarity import OFFLINE, familiarity, reference_for
from cnnviz.loaded_model import LoadedModel
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


def familiarity_notice(lm: LoadedModel, img: Image.Image) -> None:
    """For a model whose training set can be rebuilt offline: say when the input is unlike its
    training images (the model can only answer with its own classes), or that it looks like them."""
    dataset = lm.info.metadata.get("dataset")
    if dataset not in OFFLINE:  # also keeps the sidecar's text out of the markdown below
        return
    with st.spinner(f"Comparing your picture with the {dataset} training images…"):
        ref = reference_for(dataset, lm.preprocess_spec.size)
    if ref is None:
        return
    fam = familiarity(ref, lm.preprocess_spec.pixels(img)[0].numpy())
    if fam.unusual:
        st.warning(
            f"Out of its world: this model only knows its {len(lm.classes)} classes, so it must answer "
            f"with one of them, however unlike them your picture is. And it is unlike its training images "
            f"({dataset}): farther from their average than {1 - fam.share_farther:.1%} of them "
            f"(distance {fam.distance:.1f}; half of the training images are within "
            f"{float(np.median(ref.distances)):.1f}). Treat the answer as a forced guess.",
            icon=":material/travel_explore:",
        )
    else:
        st.caption(
            f"Your picture looks like the model's training images ({dataset}) in brightness, contrast and "
            f"edges: {fam.share_farther:.0%} of them are farther from their average."
        )
