"""What a shared model costs in memory, known before it is built, and loading one for the
class within the server's budgets.

A model is kept once per server (``cnnviz.serving.cache.MODELS``) with the copies that let several
students use it at once: its replicas and their fast copies share its weights
(``fast_copy.light_copy``); the fast copies add its conv weights twice (channels_last and
oneDNN-packed), once for all, so that a big model fits the model cache with its copies
rather than being dropped and reloaded on every page view. Its cost is known from the
architecture alone (built on
torch's ``meta`` device: shapes, no memory), and

* a model that could not stay in the model cache with its copies is refused with a sentence
  before anything is loaded (loading it for one page view would be thrown away at once);
* room is made in the cache and the load reserves its memory with the guard
  (``memguard.reserve``) before it starts;
* loads of big models (``BIG_LOAD_BYTES``) wait their turn on the big-jobs worker
  (``cnnviz.serving.lanes``): students asking for several big models at once pay one load's memory
  at a time. Students asking for the same model share one load (``SharedCache``).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from cnnviz import compat
from cnnviz.errors import ModelError
from cnnviz.i18n import _, number
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.models.zoo import load_model, resolve, warm_up
from cnnviz.serving import lanes, memguard
from cnnviz.serving.cache import SharedCache

__all__ = ["BIG_LOAD_BYTES", "ModelCost", "ModelTooBig", "estimate", "load_shared"]

MB = 1 << 20
# Between the classroom models (ResNet-18, EfficientNet-Lite0) and the pretrained giants
# (AlexNet, ResNet-50, VGG-16), whose loads queue: docs/PERFORMANCE.md has their peaks.
BIG_LOAD_BYTES = 256 * MB
# One forward's activations and torch's own buffers during the warm-up, with room to spare
# for the largest zoo model at 224².
_WORKING = 64 * MB


class ModelTooBig(ModelError):
    """A model that would not fit the server's model memory with its copies."""


@dataclass(frozen=True)
class ModelCost:
    """Bytes a loaded model takes. ``weights``: its parameters and buffers, once;
    ``resident``: what the model cache holds for it (weights + the fast copies' conv
    weights, shared by the replicas); ``peak``: the most its load allocates (resident + the
    state dict read from a file + a forward's working memory)."""

    weights: int
    resident: int
    peak: int


def estimate(name: str, weights: str = "pretrained") -> ModelCost:
    """The cost of loading a model as :func:`load_shared` does, from the architecture's shapes
    alone.

    Replicas share every tensor, so their number does not change it. Within a few per cent of
    ``cache.nbytes`` of the loaded model on CPU (tests/unit/test_model_cost.py).

    Args:
        name: the model's name.
        weights: "pretrained", "random" or a weights file.

    Returns:
        A ModelCost: bytes of its weights, resident with its copies, and at the load's peak.

    Raises:
        ModelError: an unknown model.
    """
    info = resolve(name, weights)
    if info.family == "onnx":  # known from the file's checks, before anything is built
        onnx = info.metadata["onnx"]
        size, resident = 4 * onnx.params, 4 * onnx.params + 2 * onnx.conv_bytes
    else:
        model = compat.on_meta(info.builder)
        size = sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))
        # The fast copy's conv weights, channels_last and packed, and a bias per folded BatchNorm.
        convs = sum(2 * m.weight.numel() * m.weight.element_size() for m in model.modules() if isinstance(m, nn.Conv2d))
        folded = sum(m.num_features * 4 for m in model.modules() if isinstance(m, nn.BatchNorm2d))
        resident = size + convs + folded
    from_file = 0 if weights == "random" else size
    return ModelCost(weights=size, resident=resident, peak=resident + from_file + _WORKING)


def _too_big(name: str, weights: str, cost: ModelCost, cache: SharedCache) -> ModelTooBig:
    title = resolve(name, weights).title
    return ModelTooBig(
        _(
            "{model} needs about {mb} MB of memory with the copies that let several students use it at "
            "once, and this server keeps at most {limit} MB of models (CNNVIZ_MODEL_CACHE_MB); pick a "
            "smaller model, or ask the teacher to raise that limit."
        ).format(model=title, mb=number(cost.resident / MB, 0), limit=number(cache.max_bytes / MB, 0))
    )


def load_shared(name: str, weights: str, *, replicas: int, cache: SharedCache) -> LoadedModel:
    """The model every session shares: loaded, warmed up, with more replicas and every fast
    copy made, to be kept in ``cache`` by the caller's ``cache.get_or_compute``.

    Args:
        name: the model's name.
        weights: "pretrained", "random" or a weights file.
        replicas: how many copies beside the model.
        cache: the model cache it must fit.

    Returns:
        The LoadedModel.

    Raises:
        ModelTooBig: it could not stay in ``cache``.
        ServerBusy: its load does not fit the memory guard now.
        ModelError: and the other errors of :func:`~cnnviz.models.zoo.load_model`.
    """
    cost = estimate(name, weights)
    if cost.resident > cache.max_bytes:
        raise _too_big(name, weights, cost, cache)

    what = _("loading this model")  # here: the load may run on another thread, with no reader to ask

    def load() -> LoadedModel:
        cache.make_room(cost.resident)  # the models it pushes out are freed before it is paid
        with memguard.reserve(cost.peak, what):
            lm = load_model(name, weights, download=False)
            warm_up(lm)
            lm.add_replicas(replicas)
            lm.make_fast_copies()
        return lm

    return lanes.one_at_a_time(load) if cost.peak > BIG_LOAD_BYTES else load()
