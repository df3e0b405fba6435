"""ZF-mini: a small classic CNN whose first layer has large (7×7) colour filters, offline.

Every offline ImageNet model here (EfficientNet-Lite0, SqueezeNet 1.1) starts with 3×3
filters, too small to show what a first layer learns. The textbook picture — oriented edges
and colour blobs, as in AlexNet's 11×11 or ZFNet's and ResNet's 7×7 filters — needs weights
no installed package ships (searched on PyPI and Debian: AlexNet/ResNet/GoogLeNet wrappers
download their weights; face packages ship dlib's face networks; ONNX's "light" zoo models
have their weights replaced by constants). So this project trains
one: a ZFNet-like stack whose first layer is learned without labels from natural image
patches (ICA, ``cnnviz.training.ica_init``: Gabor-like edges and colour blobs), the rest distilled
from the offline EfficientNet-Lite0 on crops of the photos the installed packages ship
(``cnnviz.training.distil``; ``make zfmini``). It mimics its teacher on those photos; it is no
general ImageNet classifier (``CARD`` says so in the app).

Module tree (names made for exploring; shapes for one 112×112 input)::

    features.conv1 bn1 relu1    7×7 stride 2, 64 filters      (3, 112, 112) -> (64, 56, 56)
    features.pool1              3×3 max, stride 2             -> (64, 28, 28)
    features.conv2 bn2 relu2    3×3, 96                       -> (96, 28, 28)
    features.pool2              2×2 max                       -> (96, 14, 14)
    features.conv3 bn3 relu3    3×3, 192                      -> (192, 14, 14)
    features.pool3              2×2 max                       -> (192, 7, 7)
    features.conv4 bn4 relu4    3×3, 320                      -> (320, 7, 7)
    pool flatten classifier     global average, linear        -> (1000,) ImageNet logits

Its weights are meant to ship in this repository as float16 safetensors (about 2 MB),
loaded into float32 parameters.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from cnnviz.errors import CheckpointError, WeightsUnavailable
from cnnviz.i18n import _

NAME = "zfmini"
# The model card the sidebar shows (at most 300 characters); its numbers are distil.py's
# Status and tests/unit/test_zfmini_shipped.py's.
CARD = (
    "A small ZFNet-like CNN with 7×7 colour filters, trained here: first layer by ICA of natural "
    "photo patches, the rest distilled from EfficientNet-Lite0 on ~30 offline photos. Its top 5 "
    "holds the teacher's top class on 84 % of held-out crops. ImageNet labels only through the teacher."
)
WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "weights" / "zfmini_distilled.safetensors"
CONV1_CHANNELS = 64
CONV1_KERNEL = 7
# (out channels, pool after) of conv2..conv4; conv1 is followed by its own 3×3/2 max-pool.
BODY: tuple[tuple[int, bool], ...] = ((96, True), (192, True), (320, False))
N_CLASSES = 1000
# Shorter side to 128, centre crop 112 (ImageNet's 256/224 at half the size: the CPU
# trains it in minutes); torchvision's ImageNet mean/std on 0..1 pixels.
PREPROCESS: dict = dict(
    size=112,
    resize=128,
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
)


def build_zfmini() -> nn.Module:
    """The untrained ZF-mini (eval-ready ``nn.Sequential``: ``features``, ``pool``, ``flatten``, ``classifier``)."""
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        conv1=nn.Conv2d(3, CONV1_CHANNELS, CONV1_KERNEL, stride=2, padding=CONV1_KERNEL // 2, bias=False),
        bn1=nn.BatchNorm2d(CONV1_CHANNELS),
        relu1=nn.ReLU(),
        pool1=nn.MaxPool2d(3, stride=2, padding=1),
    )
    c_in = CONV1_CHANNELS
    for i, (c_out, pool) in enumerate(BODY, start=2):
        layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        layers[f"bn{i}"] = nn.BatchNorm2d(c_out)
        layers[f"relu{i}"] = nn.ReLU()
        if pool:
            layers[f"pool{i}"] = nn.MaxPool2d(2)
        c_in = c_out
    return nn.Sequential(
        OrderedDict(
            features=nn.Sequential(layers),
            pool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            classifier=nn.Linear(c_in, N_CLASSES),
        )
    )


def available() -> bool:
    return WEIGHTS_PATH.is_file()


def load_pretrained_state_dict(path: str | Path = WEIGHTS_PATH) -> dict[str, torch.Tensor]:
    """The shipped distilled weights as a float32 state dict for ``build_zfmini()`` (strict load).

    Raises WeightsUnavailable when the file is missing, CheckpointError when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailable(
            _("ZF-mini's weight file {name} is missing: run `make zfmini` to train it.").format(name=path.name)
        )
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(_("ZF-mini's weight file {name} cannot be read.").format(name=path.name)) from e
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
