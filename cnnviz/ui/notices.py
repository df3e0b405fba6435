"""Notices pages carry: untrained weights, and an input unlike the model's training images."""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.i18n import N_, _, number, percent
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.training.familiarity import OFFLINE, familiarity, reference_for
from cnnviz.ui import state

RANDOM_WEIGHTS = N_(
    "Random weights: this network has not been trained. Its predictions, feature maps, filters and "
    "explanations show what an untrained network does — they mean nothing about the photo. "
    "Compare them with the trained weights to see what learning changed."
)


def weights_notice(weights: str) -> None:
    """A warning when ``weights`` are random (shown by ``loaders.current_model``, once per page)."""
    if weights == state.WEIGHTS_RANDOM:
        st.warning(_(RANDOM_WEIGHTS), icon=":material/casino:")


def familiarity_notice(lm: LoadedModel, img: Image.Image) -> None:
    """For a model whose training set can be rebuilt offline: say when the input is unlike its
    training images (the model can only answer with its own classes), or that it looks like them."""
    dataset = lm.info.metadata.get("dataset")
    if dataset not in OFFLINE:  # also keeps the sidecar's text out of the markdown below
        return
    with st.spinner(_("Comparing your picture with the {dataset} training images…").format(dataset=dataset)):
        ref = reference_for(dataset, lm.preprocess_spec.size)
    if ref is None:
        return
    fam = familiarity(ref, lm.preprocess_spec.pixels(img)[0].numpy())
    if fam.unusual:
        st.warning(
            _(
                "Out of its world: this model only knows its {n} classes, so it must answer "
                "with one of them, however unlike them your picture is. And it is unlike its training images "
                "({dataset}): farther from their average than {share} of them "
                "(distance {distance}; half of the training images are within "
                "{median}). Treat the answer as a forced guess."
            ).format(
                n=len(lm.classes),
                dataset=dataset,
                share=percent(1 - fam.share_farther, 1),
                distance=number(fam.distance, 1),
                median=number(float(np.median(ref.distances)), 1),
            ),
            icon=":material/travel_explore:",
        )
    else:
        st.caption(
            _(
                "Your picture looks like the model's training images ({dataset}) in brightness, contrast and "
                "edges: {share} of them are farther from their average."
            ).format(dataset=dataset, share=percent(fam.share_farther, 0))
        )
