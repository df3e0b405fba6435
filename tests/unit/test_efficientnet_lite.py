"""EfficientNet-Lite0 with readable names: weights load, tree is explorable, predictions are right."""

from __future__ import annotations

from collections import Counter

import matplotlib.cbook
import numpy as np
import pytest
import skimage.data
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torch import nn
from torchvision.models import ResNet18_Weights
from torchvision.transforms import InterpolationMode

from cnnviz.errors import CheckpointError
from cnnviz.models.efficientnet_lite import (
    PREPROCESS,
    build_efficientnet_lite0,
    convert_state_dict,
    load_pretrained_state_dict,
    pretrained_weights_path,
)

CATEGORIES = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]


@pytest.fixture(scope="module")
def shipped_sd() -> dict[str, torch.Tensor]:
    return torch.load(pretrained_weights_path(), map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def model() -> nn.Module:
    m = build_efficientnet_lite0()
    m.load_state_dict(load_pretrained_state_dict(), strict=True)
    return m.eval()


def _preprocess(img: Image.Image) -> torch.Tensor:
    """PIL RGB -> (1, 3, 224, 224) following PREPROCESS."""
    assert PREPROCESS["interpolation"] == "bilinear"
    img = TF.resize(img, PREPROCESS["resize"], interpolation=InterpolationMode.BILINEAR)
    x = TF.to_tensor(TF.center_crop(img, PREPROCESS["size"]))
    return TF.normalize(x, PREPROCESS["mean"], PREPROCESS["std"])[None]


def _top5(model: nn.Module, img: Image.Image) -> list[str]:
    with torch.no_grad():
        logits = model(_preprocess(img))
    return [CATEGORIES[i] for i in logits[0].topk(5).indices.tolist()]


def test_every_key_converts_and_loads_strictly(shipped_sd: dict[str, torch.Tensor]) -> None:
    converted = convert_state_dict(shipped_sd)
    assert len(converted) == len(shipped_sd) == 296
    result = build_efficientnet_lite0().load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert converted["blocks.3.expand.conv.weight"] is shipped_sd["_blocks.3._expand_conv.weight"]
    assert converted["head.bn.running_var"] is shipped_sd["_bn1.running_var"]
    assert converted["classifier.weight"] is shipped_sd["_fc.weight"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda sd: sd.__setitem__("_blocks.3._se_reduce.weight", torch.zeros(1)), "does not know"),
        (lambda sd: sd.pop("_blocks.15._bn2.running_mean"), "lack"),
        (lambda sd: sd.__setitem__("_conv_head.weight", torch.zeros(1280, 321, 1, 1)), "shape"),
        (lambda sd: sd.__setitem__("_blocks.16._bn2.bias", torch.zeros(320)), "extra"),
    ],
)
def test_mismatched_keys_raise(shipped_sd: dict[str, torch.Tensor], edit, message: str) -> None:
    sd = dict(shipped_sd)
    edit(sd)
    with pytest.raises(CheckpointError, match=message):
        convert_state_dict(sd)


def test_readable_names_and_structure(model: nn.Module) -> None:
    names = dict(model.named_modules())
    for name in [
        "stem.pad", "stem.conv", "stem.bn", "stem.act",
        "blocks.0.depthwise.conv", "blocks.0.depthwise.act", "blocks.0.project.bn",
        "blocks.1.depthwise.pad", "blocks.3.expand.conv", "blocks.3.expand.bn", "blocks.3.expand.act",
        "blocks.3.depthwise.conv", "blocks.3.depthwise.act", "blocks.3.project.conv", "blocks.3.project.bn",
        "blocks.15.project.bn", "head.conv", "head.bn", "head.act", "pool", "dropout", "classifier",
    ]:  # fmt: skip
        assert name in names, name
    assert "blocks.0.expand" not in names  # expand ratio 1: no expansion conv
    assert "blocks.3.project.act" not in names  # linear bottleneck
    assert len(model.blocks) == 16
    # The TF "same" padding of stride-2 convs: one extra pixel right/bottom for 3x3, (1, 2) for 5x5.
    assert names["stem.pad"].padding == (0, 1, 0, 1)
    assert names["blocks.3.depthwise.pad"].padding == (1, 2, 1, 2)
    assert sum(b.use_skip for b in model.blocks) == 9  # every repeat after a stage's first
    assert all(m.eps == 1e-3 for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_every_activation_is_its_own_relu6(model: nn.Module) -> None:
    all_paths = list(model.named_modules(remove_duplicate=False))
    assert len({id(m) for _, m in all_paths}) == len(all_paths)  # no module shared between names
    acts = [name for name, m in all_paths if isinstance(m, nn.ReLU6)]
    assert len(acts) == 1 + 1 + 15 * 2 + 1  # stem, block 0 (no expand), 15 blocks x 2, head
    assert all(name.endswith(".act") for name in acts)
    assert not any(isinstance(m, (nn.ReLU, nn.SiLU)) for m in model.modules())


def test_every_module_runs_exactly_once(model: nn.Module) -> None:
    calls: Counter[str] = Counter()
    handles = [
        m.register_forward_hook(lambda _m, _i, _o, name=name: calls.update([name])) for name, m in model.named_modules()
    ]
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, 3, 224, 224))
    finally:
        for h in handles:
            h.remove()
    assert out.shape == (1, 1000)
    assert set(calls) == {name for name, _ in model.named_modules()}
    assert set(calls.values()) == {1}


def test_matches_reference_logits(model: nn.Module) -> None:
    # Logits of efficientnet-lite-pytorch 0.1.0 (EfficientNet.from_name('efficientnet-lite0'),
    # same state dict) on a fixed input; our module tree gave a max abs diff of 0.0.
    x = torch.sin(torch.arange(3 * 224 * 224, dtype=torch.float32) * 0.01).reshape(1, 3, 224, 224) * 1.5
    reference = {0: -1.22114, 1: -0.76964, 400: 0.54125, 652: -0.04359, 999: 2.11484, 644: 5.38558}
    with torch.no_grad():
        logits = model(x)[0]
    assert logits.argmax().item() == 644
    for i, value in reference.items():
        assert logits[i].item() == pytest.approx(value, abs=1e-4)


def test_grace_hopper_is_in_uniform(model: nn.Module) -> None:
    img = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB")
    assert {"military uniform", "academic gown", "mortarboard"} & set(_top5(model, img))


def test_chelsea_is_a_cat(model: nn.Module) -> None:
    img = Image.fromarray(np.asarray(skimage.data.chelsea()))
    assert {"tabby", "tiger cat", "Egyptian cat"} & set(_top5(model, img))
