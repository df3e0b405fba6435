"""The torchvision classics: how to build each one and where its ImageNet weights live.

Weights come from torchvision's weights API: downloaded once into the torch cache
(``torch.hub.get_dir()/checkpoints/<file name of the URL>``) when online, read from there
offline. The registry (``cnnviz.models.zoo``) turns each entry into a ``ModelInfo``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import urllib.error
from pathlib import Path
from urllib.request import urlopen

import torch
from torch import nn
from torchvision.models import get_model, get_model_weights

from cnnviz.errors import WeightsUnavailable
from cnnviz.i18n import N_, _
from cnnviz.inputs.checkpoints import load_state_dict_file
from cnnviz.models.preprocess import Preprocess

# name -> (title, default Grad-CAM layer, description). Titles are names and stay; the
# descriptions are marked for the catalogue and translated where they are shown.
TORCHVISION_MODELS: dict[str, tuple[str, str, str]] = {
    "alexnet": ("AlexNet (ImageNet)", "features.11", N_("The 2012 network that started the deep-learning wave.")),
    "vgg16": ("VGG-16 (ImageNet)", "features.29", N_("Thirteen 3×3 convolutions in five blocks: simple and deep.")),
    "resnet18": (
        "ResNet-18 (ImageNet)",
        "layer4",
        N_("Residual blocks: each block adds its input back to its output."),
    ),
    "resnet50": ("ResNet-50 (ImageNet)", "layer4", N_("A deeper ResNet with 1×1 bottleneck convolutions.")),
    "mobilenet_v3_small": ("MobileNetV3-Small (ImageNet)", "features.12", N_("A tiny network for phones.")),
    "squeezenet1_1": ("SqueezeNet 1.1 (ImageNet)", "features.12", N_("AlexNet accuracy with 50× fewer parameters.")),
    "googlenet": (
        "GoogLeNet (ImageNet)",
        "inception5b",
        N_("Inception blocks run 1×1, 3×3 and 5×5 convolutions side by side."),
    ),
}

DOWNLOAD_TIMEOUT = 15.0  # s without a byte from the server before a download gives up
_HASH_RE = re.compile(r"-([a-f0-9]+)\.")  # torchvision file names carry a sha256 prefix


def weights(name: str):
    """torchvision's weights record (url, transforms, categories) for ``name``."""
    return get_model_weights(name).DEFAULT


def cache_file(name: str) -> Path:
    """Where the weights of ``name`` are (or will be) in the torch cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights(name).url)


def build(name: str) -> nn.Module:
    """The architecture with random weights (seed them first for a fixed initialisation)."""
    kwargs: dict = {}
    if name == "googlenet":
        # the pretrained weights expect transform_input=True; aux heads only train.
        kwargs = {"aux_logits": False, "transform_input": True, "init_weights": True}
    return get_model(name, weights=None, **kwargs)


def preprocess(name: str) -> Preprocess:
    """Resize, crop, mean and std straight from torchvision's weights record."""
    t = weights(name).transforms()
    return Preprocess(size=int(t.crop_size[0]), resize=int(t.resize_size[0]), mean=tuple(t.mean), std=tuple(t.std))


def pretrained(name: str, download: bool) -> dict[str, torch.Tensor]:
    """The ImageNet state dict of ``name``, from the torch cache (fetched first if ``download``)."""
    path = cache_file(name)
    if not path.is_file():
        if not download:
            raise WeightsUnavailable(offline_message(name))
        fetch(weights(name).url, path, name)
    state = load_state_dict_file(path)
    if name == "googlenet":
        state = {k: v for k, v in state.items() if not k.startswith(("aux1.", "aux2."))}
    return state


def offline_message(name: str) -> str:
    return _(
        "Pretrained weights for {name} are not on this machine: download them once while online "
        "(the app's Download button, or `python -m cnnviz download {name}`), or choose random weights to compare."
    ).format(name=name)


def fetch(url: str, path: Path, name: str, *, timeout: float = DOWNLOAD_TIMEOUT) -> None:
    """Download ``url`` to ``path``: a timeout on this request only (never the process-wide
    socket default, which every other session's connections share), the sha256 prefix in
    the file name checked, and a rename at the end so a broken download leaves no file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # unique across processes and hosts: replicas of one deployment share the torch cache
    # (TORCH_HOME on the shared folder), where two pods may well run as the same pid
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.part")
    digest = hashlib.sha256()
    try:
        with urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        expected = _HASH_RE.search(path.name)
        if expected and not digest.hexdigest().startswith(expected.group(1)):
            raise OSError(f"the download of {path.name} is corrupt (sha256 mismatch)")
        tmp.replace(path)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise WeightsUnavailable(
            _("Could not download the weights for {name} (no internet?).").format(name=name)
            + " "
            + offline_message(name)
        ) from e
    finally:
        tmp.unlink(missing_ok=True)
