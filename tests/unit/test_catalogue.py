"""catalogue + receptive_field: the layer table, receptive fields against a gradient footprint, the CLI's layer list."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz import trace
from cnnviz.inside import capture, catalogue, receptive_field
from cnnviz.models.loaded_model import LoadedModel, ModelInfo
from cnnviz.models.preprocess import Preprocess
from cnnviz.models.zoo import load_model


# ------------------------------------------------------------------ small hand-checked models
class Chain(nn.Module):
    """conv3 p1 → maxpool2 → [conv3 p1 | conv5 p2] added → conv3 dilation 2 → flatten → fc."""

    def __init__(self, in_ch: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 5, padding=2)
        self.dil = nn.Conv2d(4, 2, 3, padding=2, dilation=2)
        self.flat = nn.Flatten(1)
        self.fc = nn.Linear(2 * 8 * 8, 3)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.relu(self.a(x) + self.b(x))  # relu runs twice: relu, relu#2
        return self.fc(self.flat(self.dil(x)))


def tiny_lm(model: nn.Module, channels: int = 3, size: int = 16) -> LoadedModel:
    """A LoadedModel around any module (1-channel digits models are built like this)."""
    info = ModelInfo(
        name="tiny",
        title="tiny",
        family="user",
        source="test",
        preprocess=Preprocess(size=size, resize=size, mean=(0.5,) * channels, std=(0.5,) * channels, channels=channels),
        default_layer="conv1",
        builder=lambda: model,
        pretrained=lambda d: {},
        classes=lambda: ["a", "b", "c"],
        available=lambda: True,
    )
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(info, model, "random", torch.device("cpu"))


def test_catalogue_hand_checked_chain():
    rows = {r.name: r for r in catalogue.catalogue_model(Chain(), (1, 3, 16, 16))}
    # (rf, jump, centre of unit 0), by hand: rf_out = rf_in + (k_eff - 1) * jump_in
    expected = {
        "conv1": (3, 1, 0.0),  # 3x3 pad 1: centre stays on pixel 0
        "relu": (3, 1, 0.0),
        "pool": (4, 2, 0.5),  # 2x2 stride 2: rf 3 + 1, centre between pixels 0 and 1
        "a": (8, 2, 0.5),  # 4 + 2*2
        "b": (12, 2, 0.5),  # 4 + 4*2
        "relu#2": (12, 2, 0.5),  # a + b: the wider branch wins
        "dil": (20, 2, 0.5),  # 3x3 dilation 2 spans 5: 12 + 4*2
        "flat": (34, None, 7.5),  # every output sees all 8 positions: 20 + 7*2
        "fc": (34, None, 7.5),
    }
    assert {k: (r.rf, r.jump, r.start) for k, r in rows.items()} == expected
    assert rows["pool"].out_shape == (4, 8, 8)
    assert rows["fc"].out_shape == (3,)
    assert rows["conv1"].params == 3 * 4 * 9 + 4
    assert rows["b"].kind == "conv" and rows["relu"].kind == "act" and rows["pool"].kind == "pool"
    assert rows["fc"].as_dict() == {
        "name": "fc",
        "type": "Linear",
        "out_shape": [3],
        "params": 2 * 64 * 3 + 3,
        "rf": 34,
        "jump": None,
    }


def test_unit_box_clips_to_the_image():
    layer = catalogue.find_layer(catalogue.catalogue_model(Chain(), (1, 3, 16, 16)), "a")
    # unit (3, 5): centre at 0.5 + 3*2 = 6.5, 8.5 pixels wide → rows 3..10, cols 7..14
    assert receptive_field.unit_box(layer, 3, 5, 16) == (3, 7, 10, 14)
    assert receptive_field.unit_box(layer, 0, 7, 16) == (0, 11, 4, 15)


# ------------------------------------------------------------------ brute force on zoo models
def _linearised(model: nn.Module) -> nn.Module:
    """A float64 copy whose footprint is the theoretical one: max-pool → avg-pool (same
    window), activations → identity (a dead ReLU would hide part of the field)."""
    m = copy.deepcopy(model).double().eval()
    for parent in list(m.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(
                    parent,
                    name,
                    nn.AvgPool2d(child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode),
                )
            elif isinstance(child, catalogue.ACTIVATIONS):
                setattr(parent, name, nn.Identity())
    return m


def _footprint(model: nn.Module, path: str, call: int, size: int, channels: int, row: int, col: int):
    """Inclusive (top, left, bottom, right) of the input pixels with a non-zero gradient for
    position (row, col) of the ``call``-th output of module ``path``.

    Summed over channels and taken over a few random inputs, so that ReLUs the model calls
    as functions (GoogLeNet's F.relu) cannot hide part of the field by chance.
    """
    hit = torch.zeros(size, size, dtype=torch.bool)
    for seed in range(3):
        x = torch.randn(1, channels, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        x.requires_grad_(True)
        outs = []
        h = trace.resolve(model, path).register_forward_hook(lambda m, i, o, outs=outs: outs.append(o))
        try:
            with torch.enable_grad():
                model(x)
                outs[call - 1][0, :, row, col].sum().backward()
        finally:
            h.remove()
        hit |= x.grad[0].abs().sum(0) > 0
    nz = hit.nonzero()
    return int(nz[:, 0].min()), int(nz[:, 1].min()), int(nz[:, 0].max()), int(nz[:, 1].max())


@pytest.mark.parametrize(
    ("model_name", "layers", "size"),
    [
        ("resnet18", ["maxpool", "layer1.0.relu#2", "layer2.0.conv1", "layer2.0", "layer3.0.downsample.0"], 320),
        ("googlenet", ["maxpool1", "inception3a", "inception3b.branch3.1.conv", "maxpool3"], 320),
        ("efficientnet_lite0", ["stem.act", "blocks.1.depthwise.conv", "blocks.2", "blocks.4.project.bn"], 320),
    ],
)
def test_receptive_field_matches_gradient_footprint(model_name, layers, size):
    lm = load_model(model_name, "random", device="cpu")
    rows = catalogue.catalogue_model(lm.model, (1, 3, size, size))
    lin = _linearised(lm.model)
    for name in layers:
        layer = catalogue.find_layer(rows, name)
        h = layer.out_shape[1]
        row, col = h // 2, h // 2 - 1
        predicted = receptive_field.unit_box(layer, row, col, size)
        top, left, bottom, right = predicted
        assert bottom - top + 1 == layer.rf and right - left + 1 == layer.rf, f"{name}: field clipped, enlarge size"
        call = int(name.split("#")[1]) if "#" in name else 1
        assert _footprint(lin, layer.path, call, size, 3, row, col) == predicted, name


def test_one_channel_model():
    lm = tiny_lm(Chain(in_ch=1), channels=1)
    rows = catalogue.catalogue(lm)
    maps = capture.capture_layers(lm, torch.ones(1, 1, 16, 16), catalogue.map_layers(rows))
    assert maps["conv1"].shape == (4, 16, 16)
    ref = lm.model.conv1(torch.ones(1, 1, 16, 16))[0].numpy()
    np.testing.assert_allclose(maps["conv1"], ref, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(maps["relu"], np.maximum(maps["conv1"], 0))
    assert maps["relu#2"].shape == (4, 8, 8)


def test_a_shared_models_catalogue_is_made_once(monkeypatch):
    """Long jobs ask for it for their memory estimates: one forward per model, and a copy
    each time, so a caller that edits its list edits nobody else's."""
    lm = tiny_lm(Chain(in_ch=1), channels=1)
    first = catalogue.catalogue(lm)
    assert first == catalogue.catalogue_model(lm.model, (1, 1, 16, 16))

    def refuse(*_a):
        raise AssertionError("made twice")

    monkeypatch.setattr(catalogue, "catalogue_model", refuse)
    first.clear()
    again = catalogue.catalogue(lm)
    assert again and [r.name for r in again][:2] == ["conv1", "relu"]
    other = tiny_lm(Chain(in_ch=1), channels=1)  # another model: its own forward
    with pytest.raises(AssertionError, match="made twice"):
        catalogue.catalogue(other)


# ------------------------------------------------------------------ CLI
def test_cli_layers_json_and_bad_layer(capsys, hopper_path):
    import json

    from cnnviz.cli import main

    assert main(["layers", "--model", "resnet18", "--weights", "random", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    first = rows[0]
    assert first == {
        "name": "conv1",
        "type": "Conv2d",
        "out_shape": [64, 112, 112],
        "params": 64 * 3 * 49,
        "rf": 7,
        "jump": 2,
    }
    assert {
        "name": "layer4.1.relu#2",
        "type": "ReLU",
        "out_shape": [512, 7, 7],
        "params": 0,
        "rf": 435,
        "jump": 32,
    } in rows  # ResNet-18's often-quoted 435-pixel field
    assert main(["features", str(hopper_path), "--model", "resnet18", "--weights", "random", "--layer", "nope"]) == 2
    assert "no layer called 'nope'" in capsys.readouterr().err
