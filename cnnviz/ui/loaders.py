"""Cached loaders: one model per server, shared by every session; the session's image.

Everything sessions share lives in the project's own caches (:mod:`cnnviz.serving.cache`), not in
``st.cache_*``: Streamlit's ``clear_cache`` message, which any client can send, empties
those for every session. :func:`shared_result` is the one way a page's result is cached.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.errors import CheckpointError, CnnvizError, WeightsUnavailable
from cnnviz.i18n import N_, _
from cnnviz.inputs.images import decode_cost, image_digest
from cnnviz.inside.capture import capture, capture_layers
from cnnviz.inside.catalogue import catalogue, find_layer, map_layers
from cnnviz.inside.featuremaps import Grid, capture_range, feature_grid
from cnnviz.inside.predict import predict
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.models.model_cost import load_shared
from cnnviz.models.zoo import SHIPPED_DIR, built_in, download_weights, user_models_dir
from cnnviz.serving import cache, lanes, memguard, uploads
from cnnviz.teaching.pooling import layer_io
from cnnviz.ui import held_photos, state
from cnnviz.ui.notices import weights_notice
from cnnviz.ui.owner import check_openable, student
from cnnviz.ui.process import model_replicas, torch_threads
from cnnviz.ui.progress_bar import ProgressBar

R = TypeVar("R")


# ---------------------------------------------------------------- models
@functools.lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int, inode: int) -> str:
    """SHA-1 of a file's bytes; (size, mtime, inode) in the key makes a rewritten file (or
    one renamed into place, as usermodels.save does) a new entry."""
    return hashlib.sha1(Path(path).read_bytes(), usedforsecurity=False).hexdigest()


def model_version(name: str, weights: str) -> str:
    """A digest of the files a saved model is built from (its JSON and safetensors), "" for
    registry models (their pretrained weights never change). Part of every cache key, so a
    model saved again under the same name is a new model, never a stale hit. Uploaded
    checkpoints are already named by their digest (``weights``)."""
    if built_in(name):  # several calls a run: no file-system call for the usual models
        return ""
    for folder in (SHIPPED_DIR, user_models_dir()):
        meta, tensors = folder / f"{name}.json", folder / f"{name}.safetensors"
        try:
            parts = [(p, p.stat()) for p in (meta, tensors)]
        except OSError:
            continue
        return "".join(_file_digest(str(p), st_.st_size, st_.st_mtime_ns, st_.st_ino)[:16] for p, st_ in parts)
    return ""


def cached_model(name: str, weights: str) -> LoadedModel:
    """The shared model, loaded once per (name, weights, content) and kept in cache.MODELS
    (cnnviz.models.model_cost: refused when it could not stay there with its copies, big loads one
    at a time, memory reserved with the guard). LoadedModel.use() serialises and restores it
    for each caller. A model this browser may not open raises ModelError before anything is
    looked up or read (owner.check_openable)."""
    check_openable(name)
    return _shared_model(name, weights, _("Loading the model…"))


def _shared_model(name: str, weights: str, spinner: str | None) -> LoadedModel:
    def load() -> LoadedModel:
        with st.spinner(spinner) if spinner else nullcontext():
            return load_shared(name, weights, replicas=model_replicas(), cache=cache.MODELS)

    return cache.MODELS.get_or_compute(("model", name, weights, model_version(name, weights)), load)


def warm_default_model() -> None:
    """Load the sidebar's default model into the shared cache, from the server's warm start
    (asgi.py, :mod:`cnnviz.ui.warm_start`): every first visitor's page shows it, and its load
    (~0.5 s of CPU: build, weights, replicas, fast copies) then overlaps the first runs instead
    of coming after them. A first run that asks meanwhile waits for this load, not a second one.
    Not loadable (no weights offline, memory): the first run tries and says why."""
    torch_threads()  # as every run sets it: two threads per op spin on a busy 2-core server
    with contextlib.suppress(CnnvizError):
        _shared_model(state.DEFAULT_MODEL, state.WEIGHTS_PRETRAINED, None)


def store_upload(data: bytes, name: str, owner: str) -> Path:
    """Keep an uploaded checkpoint on disk for student ``owner`` (their owner token;
    cnnviz.serving.uploads: by digest, under its own name, within their share).

    The model loader reads it from there as data (safetensors / torch weights_only).
    """
    return uploads.store(data, name, owner)


def model_key() -> tuple[str, str]:
    """(model name, weights) chosen in the sidebar: the cache key of every result.

    weights: "pretrained", "random", or the path of an uploaded checkpoint (digest-named).
    """
    weights = st.session_state[state.WEIGHTS]
    if weights == state.WEIGHTS_FILE:
        weights = st.session_state.get(state.WEIGHTS_PATH) or ""
    return st.session_state[state.MODEL], weights


def current_model() -> LoadedModel:
    """The sidebar's model for a page (called once, at its top): with a warning when its weights are
    random, or a friendly error box and a stopped page."""
    lm = loaded_model()
    weights_notice(lm.weights)
    for note in lm.warnings:  # NaN or integer weights: the pages still render, with a word
        st.warning(note)
    return lm


def loaded_model() -> LoadedModel:
    """The sidebar's model, or a friendly error box and a stopped page."""
    name, weights = model_key()
    if not weights:
        st.info(_("Upload a weights file for this architecture in the sidebar, or pick Trained or Random."))
        st.stop()
    try:
        lm = cached_model(name, weights)
    except WeightsUnavailable as e:
        st.error(str(e))
        if st.button(_("Download the weights now"), key=state.DOWNLOAD_WEIGHTS):
            try:
                with st.spinner(_("Downloading {model}…").format(model=name)):
                    download_weights(name)
                st.rerun()
            except CnnvizError as err:
                st.error(str(err))
        st.stop()
    except CnnvizError as e:
        st.error(str(e))
        if isinstance(e, CheckpointError) and weights != st.session_state.get(state.WEIGHTS_LINKED):
            # a refused upload is not kept for this student (not one a link named); a
            # classmate's reference to the same content keeps it for them
            uploads.discard(weights, student())
        st.stop()
    return lm


def _decode_checked(data: bytes, name: str) -> Image.Image:
    with memguard.reserve(decode_cost(data), _("decoding this image")):
        return lanes.decode_upload(data, name=name)


def _decode(digest: str, data: bytes, name: str) -> Image.Image:
    return cache.RESULTS.get_or_compute(("image", digest, name), lambda: _decode_checked(data, name))


def decoded_image(data: bytes, name: str) -> Image.Image:
    """The image in ``data``, decoded once per content and shared by every session
    (raises CnnvizError: unreadable, or the server is short of memory)."""
    return _decode(image_digest(data), data, name)


def current_image_bytes() -> tuple[bytes, str, str] | None:
    """(bytes, file name, sha1 digest) of the session's image, or None."""
    got = held_photos.current()
    if got is None:
        return None
    return got[0], st.session_state.get(state.IMAGE_NAME) or "image", got[1]


def current_image() -> Image.Image:
    """The session's image (RGB), or an info/error box and a stopped page."""
    got = current_image_bytes()
    if got is None and held_photos.dropped():
        st.warning(_(held_photos.DROPPED))
        st.stop()
    if got is None:
        st.info(_("Pick a photo in the sidebar: the gallery, your own upload, or the camera."))
        st.stop()
    data, name, digest = got
    try:
        return _decode(digest, data, name)
    except CnnvizError as e:
        st.error(str(e))
        st.stop()


@dataclass(frozen=True)
class Inputs:
    """What every shared result starts from: the sidebar's model and the session's image."""

    name: str
    weights: str
    version: str  # model_version(name, weights)
    digest: str  # of the image bytes
    image: Image.Image

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.name, self.weights, self.version, self.digest


def current_inputs() -> Inputs:
    """The sidebar's model (loaded) and the session's image (decoded), or shows why not and
    stops the page."""
    name, weights = model_key()
    loaded_model()
    img = current_image()
    return Inputs(name, weights, model_version(name, weights), current_image_bytes()[2], img)


def model_inputs(name: str, weights: str) -> Inputs:
    """Model (name, weights) — not necessarily the sidebar's — and the session's image, for a
    page that shows two models (Compare models). Raises CnnvizError when the model cannot
    load; stops the page (with a message) when there is no usable image."""
    cached_model(name, weights)
    img = current_image()
    return Inputs(name, weights, model_version(name, weights), current_image_bytes()[2], img)


@dataclass(frozen=True)
class Pending:
    """A shared result a job of the queue computes (``shared_result``'s ``.pending``)."""

    key: tuple
    value: object  # the cached result, or None
    compute: Callable[..., object]


def _compute_into(store: cache.SharedCache, key: tuple, fn: Callable, lm, img, args: tuple, kwargs: dict, **more):
    return store.get_or_compute(key, lambda: cache.freeze(fn(lm, img, *args, **kwargs, **more)))


def shared_result(
    fn: Callable[..., R] | None = None, *, store: cache.SharedCache = cache.RESULTS, spinner: str | None = None
):
    """Decorator: ``fn(lm, img, *choices)`` becomes ``wrapper(*choices)`` for the sidebar's
    model and the session's image, computed once and shared by every session.

    The key is (fn, model name, weights, model_version, image digest, choices). Parameters
    whose name starts with ``_`` are passed but not part of the key (their value must
    follow from the others, as Streamlit's hash-exempt arguments). The result's numpy
    arrays are made read-only: every session is served the same object.
    """
    if fn is None:
        return functools.partial(shared_result, store=store, spinner=spinner)
    sig = inspect.signature(fn)
    keyed = [p for p in list(sig.parameters)[2:] if not p.startswith("_")]

    def key_of(inp: Inputs, args: tuple, kwargs: dict) -> tuple:
        bound = sig.bind(None, None, *args, **kwargs)
        bound.apply_defaults()
        return (fn.__module__, fn.__qualname__, *inp.key, tuple(bound.arguments[p] for p in keyed))

    def get(inp: Inputs, args: tuple, kwargs: dict):
        def compute():
            with st.spinner(_(spinner)) if spinner else nullcontext():
                return cache.freeze(fn(cached_model(inp.name, inp.weights), inp.image, *args, **kwargs))

        return store.get_or_compute(key_of(inp, args, kwargs), compute)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return get(current_inputs(), args, kwargs)

    def pending(*args, **kwargs) -> Pending:
        """The same result for a job of the queue (cnnviz.serving.jobs) to compute: its key, its value
        if already cached, and ``compute(**more)`` that fills the cache entry off the script
        thread (``more``: the ``_``-arguments the job supplies, such as ``_progress``)."""
        inp = current_inputs()
        key, lm = key_of(inp, args, kwargs), cached_model(inp.name, inp.weights)
        compute = functools.partial(_compute_into, store, key, fn, lm, inp.image, args, kwargs)
        return Pending(key, store.get(key), compute)

    def for_model(name: str, weights: str, *args, **kwargs):
        """The same shared result (same cache entry) for model (name, weights) on the session's
        image, whatever the sidebar holds; raises CnnvizError when that model cannot load."""
        return get(model_inputs(name, weights), args, kwargs)

    wrapper.for_model = for_model
    wrapper.pending = pending
    return wrapper


@shared_result
def _prediction(lm: LoadedModel, img: Image.Image, top: int) -> dict:
    pred = predict(lm, lm.preprocess(img), top=top)
    return {**pred.as_dict(), "seconds": pred.seconds, "logits": pred.logits}


def cached_prediction(top: int = 5) -> dict:
    """{"model", "top": [{"index", "label", "prob"}], "seconds", "logits": (num_classes,) array}
    for the sidebar's model and image."""
    return _prediction(top)


def prediction_for(name: str, weights: str, top: int = 5) -> dict:
    """:func:`cached_prediction` for model (name, weights) (raises CnnvizError if it cannot load)."""
    return _prediction.for_model(name, weights, top)


@shared_result
def _model_view(lm: LoadedModel, img: Image.Image) -> Image.Image:
    return lm.preprocess_spec.crop(img)


def model_view() -> Image.Image:
    """The cropped picture the sidebar's model is fed (before normalisation), resized once per
    (model, image) and shared: callers draw on copies, never on it."""
    return _model_view()


# ---------------------------------------------------------------- inside the network
# shown while a capture is computed (translated then: the decorator's text is fixed at import)
RUNNING = N_("Running the image through the network…")


def cached_catalogue(name: str, weights: str) -> list:
    """The model's layer catalogue (list[LayerInfo], frozen): one traced pass per model."""
    lm = cached_model(name, weights)  # first: its owner check, before model_version reads the files
    key = ("catalogue", name, weights, model_version(name, weights))
    return cache.RESULTS.get_or_compute(key, lambda: catalogue(lm))


@shared_result(store=cache.CAPTURES, spinner=RUNNING)
def cached_capture(lm: LoadedModel, img: Image.Image) -> dict:
    """name -> read-only (C, H, W) float32 maps of every map layer, for the sidebar's model and
    image; shared by all sessions with the same (model, weights, image), so switching layers
    recomputes nothing. Bounded in bytes by cache.CAPTURES."""
    with ProgressBar(_("Running the photo through the network…")) as bar:
        maps = capture_layers(lm, lm.preprocess(img), map_layers(cached_catalogue(lm.name, lm.weights)), progress=bar)
    # Own the memory: arrays that view torch's storage were kept alive after eviction in the
    # server (measured +55 MB per image, unbounded); numpy-owned copies are freed with the entry.
    owned: dict[int, np.ndarray] = {}
    for a in maps.values():
        if id(a) not in owned:
            owned[id(a)] = np.array(a, copy=True)
    return {k: owned[id(a)] for k, a in maps.items()}


@shared_result(store=cache.CAPTURES, spinner=RUNNING)
def cached_maps(lm: LoadedModel, img: Image.Image, layer: str) -> np.ndarray:
    """(C, H, W) read-only float32 output of the map layer ``layer`` (a catalogue name) for
    the sidebar's model and image, shared by all sessions. A page that shows one layer asks
    for that one: a forward pass that stops after it, a few hundred kB to keep, instead of
    every layer of the network (EfficientNet-Lite0: 149 layers, 52 MB per photo)."""
    info = find_layer(cached_catalogue(lm.name, lm.weights), layer)
    # numpy-owned, so that the entry's memory is freed when it is evicted (see cached_capture)
    with ProgressBar(_("Running the photo through the network…")) as bar:
        return np.array(capture_layers(lm, lm.preprocess(img), [info], progress=bar)[layer], copy=True)


@shared_result
def cached_feature_grid(
    lm: LoadedModel, img: Image.Image, layer: str, sort: str, norm: str, global_range: tuple | None
) -> Grid:
    """The Feature maps page's tiled picture of ``layer`` (``featuremaps.feature_grid``), made
    once for every session that shows the same model, image, layer and choices: a class that
    follows a step draws it thirty times."""
    return feature_grid(cached_maps(layer), sort=sort, norm=norm, global_range=global_range)


@shared_result
def cached_capture_range(lm: LoadedModel, img: Image.Image) -> tuple[float, float]:
    """(min, max) over every map layer for the sidebar's model and image, for "global"
    normalisation: one whole pass, of which only the two numbers are kept."""
    return capture_range(capture_layers(lm, lm.preprocess(img), map_layers(cached_catalogue(lm.name, lm.weights))))


@shared_result
def captured(lm, img, layers: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Outputs of ``layers`` for the sidebar's model and image: name -> (C, H, W) or (F,)."""
    return capture(lm, lm.preprocess(img), layers)


@shared_result
def layer_input_output(lm, img, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """(input, output) of one layer for the sidebar's model and image, batch axis dropped."""
    return layer_io(lm, lm.preprocess(img), layer)


def current_logits() -> np.ndarray:
    """(num_classes,) raw scores of the sidebar's model on the sidebar's image."""
    return cached_prediction()["logits"]


def network_input() -> np.ndarray:
    """(C, H, W) float32: the normalised input the model is fed for the current image."""
    lm = loaded_model()
    return lm.preprocess_spec(current_image())[0].numpy()
