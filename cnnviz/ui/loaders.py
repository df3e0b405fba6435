"""Cached loaders: one model per server, shared by every session; the session's image."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.errors import CnnvizError, WeightsUnavailable
from cnnviz.images import decode_image, image_digest
from cnnviz.ui import state
from cnnviz.zoo import LoadedModel, download_weights, load_model, warm_up

MAX_MODELS = 4  # a server keeps at most this many models in memory


@st.cache_resource(max_entries=MAX_MODELS, show_spinner="Loading the model…")
def cached_model(name: str, weights: str) -> LoadedModel:
    """The shared model. LoadedModel.use() serialises and restores it for each caller."""
    lm = load_model(name, weights, download=False)
    warm_up(lm)
    return lm


def store_upload(data: bytes, name: str) -> Path:
    """Keep an uploaded checkpoint in a private folder, named by its content's digest.

    The model loader reads it from there as data (safetensors / torch weights_only).
    """
    folder = Path(tempfile.gettempdir()) / "cnnviz_uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    suffix = ".safetensors" if name.lower().endswith(".safetensors") else ".pt"
    path = folder / f"{image_digest(data)}{suffix}"
    if not path.exists():
        path.write_bytes(data)
    return path


def model_key() -> tuple[str, str]:
    """(model name, weights) chosen in the sidebar: the cache key of every result.

    weights: "pretrained", "random", or the path of an uploaded checkpoint (digest-named).
    """
    weights = st.session_state[state.WEIGHTS]
    if weights == state.WEIGHTS_FILE:
        weights = st.session_state.get(state.WEIGHTS_PATH) or ""
    return st.session_state[state.MODEL], weights


def current_model() -> LoadedModel:
    """The sidebar's model, or a friendly error box and a stopped page."""
    name, weights = model_key()
    if not weights:
        st.info("Upload a weights file for this architecture in the sidebar, or pick Trained or Random.")
        st.stop()
    try:
        return cached_model(name, weights)
    except WeightsUnavailable as e:
        st.error(str(e))
        if st.button("Download the weights now", key="download_weights"):
            try:
                with st.spinner(f"Downloading {name}…"):
                    download_weights(name)
                st.rerun()
            except CnnvizError as err:
                st.error(str(err))
        st.stop()
    except CnnvizError as e:
        st.error(str(e))
        st.stop()


@st.cache_data(max_entries=32, show_spinner=False)
def _decode(digest: str, _data: bytes, name: str) -> Image.Image:
    return decode_image(_data, name=name)


def current_image_bytes() -> tuple[bytes, str, str] | None:
    """(bytes, file name, sha1 digest) of the session's image, or None."""
    data = st.session_state.get(state.IMAGE_BYTES)
    if data is None:  # an empty upload is b"" and gets its own message when decoded
        return None
    return data, st.session_state.get(state.IMAGE_NAME) or "image", image_digest(data)


def current_image() -> Image.Image:
    """The session's image (RGB), or an info/error box and a stopped page."""
    got = current_image_bytes()
    if got is None:
        st.info("Pick a photo in the sidebar: the gallery, your own upload, or the camera.")
        st.stop()
    data, name, digest = got
    try:
        return _decode(digest, data, name)
    except CnnvizError as e:
        st.error(str(e))
        st.stop()


@st.cache_data(max_entries=256, show_spinner=False)
def _prediction(name: str, weights: str, digest: str, _img: Image.Image, top: int) -> dict:
    from cnnviz.predict import predict

    lm = cached_model(name, weights)
    pred = predict(lm, lm.preprocess(_img), top=top)
    return {**pred.as_dict(), "seconds": pred.seconds, "logits": pred.logits}


def current_inputs() -> tuple[str, str, str, Image.Image]:
    """(model name, weights, image digest, image): the leading arguments of every cached
    result. Loads the model and decodes the image, or shows why not and stops the page."""
    name, weights = model_key()
    current_model()
    img = current_image()
    return name, weights, current_image_bytes()[2], img


def cached_prediction(top: int = 5) -> dict:
    """{"model", "top": [{"index", "label", "prob"}], "seconds", "logits": (num_classes,) array}
    for the sidebar's model and image."""
    return _prediction(*current_inputs(), top)


def model_view() -> Image.Image:
    """The cropped picture the current model is fed (before normalisation)."""
    return current_model().preprocess_spec.crop(current_image())


# ---------------------------------------------------------------- inside the network
MAX_CAPTURES = 4  # all map layers of one (model, image): ~30-150 MB each (EfficientNet ~35 MB)


@st.cache_resource(max_entries=MAX_MODELS * 2, show_spinner="Tracing the layers…")
def cached_catalogue(name: str, weights: str) -> list:
    """The model's layer catalogue (list[probe.LayerInfo], frozen): one traced pass per model."""
    from cnnviz.probe import catalogue

    return catalogue(cached_model(name, weights))


@st.cache_resource(max_entries=MAX_CAPTURES, ttl=15 * 60, show_spinner="Running the image through the network…")
def _capture(name: str, weights: str, digest: str, _img: Image.Image) -> dict:
    from cnnviz.probe import capture_layers, map_layers

    lm = cached_model(name, weights)
    maps = capture_layers(lm, lm.preprocess(_img), map_layers(cached_catalogue(name, weights)))
    # Own the memory: arrays that view torch's storage were kept alive after eviction in the
    # server (measured +55 MB per image, unbounded); numpy-owned copies are freed with the entry.
    owned: dict[int, np.ndarray] = {}
    for a in maps.values():
        if id(a) not in owned:
            owned[id(a)] = np.array(a, copy=True)
            owned[id(a)].flags.writeable = False
    return {k: owned[id(a)] for k, a in maps.items()}


def cached_capture() -> dict:
    """name -> read-only (C, H, W) float32 maps of every map layer, for the sidebar's model and
    image; shared by all sessions with the same (model, weights, image), so switching layers
    recomputes nothing. Bounded: MAX_CAPTURES entries, 15 minutes each."""
    return _capture(*current_inputs())


@st.cache_data(max_entries=64, show_spinner=False)
def _capture_range(name: str, weights: str, digest: str) -> tuple[float, float]:
    from cnnviz.featuremaps import capture_range

    return capture_range(_capture(name, weights, digest, current_image()))


def cached_capture_range() -> tuple[float, float]:
    """(min, max) over every layer of :func:`cached_capture`, for "global" normalisation."""
    name, weights = model_key()
    cached_capture()
    return _capture_range(name, weights, current_image_bytes()[2])
