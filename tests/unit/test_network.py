"""The Network page's core: which layers are columns, the diagram's click map, and one conv
unit's arithmetic checked against the layer outputs torch computed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.inside import network
from cnnviz.inside.capture import hooked_outputs
from cnnviz.inside.catalogue import catalogue_model, map_layers
from cnnviz.models import small_cnn
from cnnviz.teaching.unit_math import following, unit_math


def _tiny(batchnorm: bool, in_channels: int = 1) -> nn.Module:
    arch = small_cnn.preset("tinyvgg", batchnorm=batchnorm)
    model = small_cnn.build_model(arch, in_channels=in_channels, num_classes=10, size=28, seed=3).eval()
    if batchnorm:  # running statistics that are not the identity, so the norm step matters
        g = torch.Generator().manual_seed(1)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g))
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.data.copy_(torch.randn(m.num_features, generator=g))
                m.bias.data.copy_(torch.randn(m.num_features, generator=g))
    return model


@pytest.mark.parametrize("batchnorm", [False, True])
def test_unit_arithmetic_equals_the_layer_outputs(batchnorm):
    model = _tiny(batchnorm)
    layers = catalogue_model(model, (1, 1, 28, 28))
    convs = [la for la in layers if la.kind == "conv"]
    x = torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    inputs = {}

    def keep_input(name):
        def hook(_m, args):
            inputs[name] = args[0][0].detach().numpy().copy()

        return hook

    modules = dict(model.named_modules())
    handles = [modules[c.path].register_forward_pre_hook(keep_input(c.name)) for c in convs]
    names = [la.name for la in layers if la.kind in ("conv", "norm", "act")]
    try:
        with torch.inference_mode(), hooked_outputs(model, names) as store:
            model(x)
            outs = {k: v[0].numpy().copy() for k, v in store.items()}
    finally:
        for h in handles:
            h.remove()
    for conv in convs:
        after = following(layers, conv.name)
        assert [la.kind for la in after] == (["norm", "act"] if batchnorm else ["act"])
        c_out, h, w = conv.out_shape
        for channel, row, col in ((0, 0, 0), (c_out - 1, h // 2, w - 1), (c_out // 2, h - 1, 1)):
            u = unit_math(model, layers, conv.name, inputs[conv.name], channel, row, col)
            assert abs(u.value - outs[conv.name][channel, row, col]) < 1e-4
            assert abs(u.sums.sum() + u.bias - u.value) < 1e-4
            assert u.windows.shape == u.kernel.shape == (inputs[conv.name].shape[0], 3, 3)
            for (name, _type, v), la in zip(u.after, after, strict=True):
                assert name == la.name
                assert abs(v - outs[la.name][channel, row, col]) < 1e-4


def test_unit_arithmetic_refuses_what_is_not_a_plain_conv():
    model = _tiny(False)
    layers = catalogue_model(model, (1, 1, 28, 28))
    act = next(la for la in layers if la.kind == "act")
    with pytest.raises(CnnvizError):
        unit_math(model, layers, act.name, np.zeros((8, 28, 28), np.float32), 0, 0, 0)


def test_small_model_columns_are_its_layers_in_order():
    layers = catalogue_model(_tiny(True), (1, 1, 28, 28))
    cols = network.columns(layers)
    assert network.is_small(layers)
    assert [la.kind for la in cols] == ["conv", "act", "conv", "act", "pool", "conv", "act", "conv", "act", "pool"]


def test_big_model_columns_are_block_outputs():
    from torchvision.models import resnet18

    layers = catalogue_model(resnet18().eval(), (1, 3, 64, 64))
    names = [la.name for la in network.columns(layers)]
    assert names == ["maxpool", *[f"layer{i}.{j}" for i in range(1, 5) for j in range(2)], "avgpool"]


def test_flat_chains_split_at_their_pools():
    model = nn.Sequential(
        nn.Sequential(*[m for _ in range(7) for m in (nn.Conv2d(3, 3, 3, padding=1), nn.ReLU())], nn.MaxPool2d(2)),
        nn.Sequential(*[m for _ in range(7) for m in (nn.Conv2d(3, 3, 3, padding=1), nn.ReLU())], nn.MaxPool2d(2)),
    )
    layers = catalogue_model(model.eval(), (1, 3, 32, 32))
    assert not network.is_small(layers)
    assert [la.name for la in network.columns(layers)] == ["0.14", "1.14"]  # each chain ends in its pool
    vgg_like = nn.Sequential(
        *[
            m
            for _ in range(3)
            for m in (
                nn.Conv2d(3, 3, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(3, 3, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )
        ]
    )
    layers = catalogue_model(nn.Sequential(vgg_like).eval(), (1, 3, 32, 32))
    assert [la.name for la in network.columns(layers)] == ["0.4", "0.9", "0.14"]  # a stage per pool


def test_a_long_chain_without_blocks_or_pools_gets_a_column_per_stage():
    model = nn.Sequential(*[m for i in range(8) for m in (nn.Conv2d(3, 3, 3, stride=1 + (i % 4 == 3)), nn.ReLU())])
    layers = catalogue_model(model.eval(), (1, 3, 64, 64))
    cols = network.columns(layers)
    assert cols and all(la.kind in ("conv", "act") for la in cols)
    assert len({la.out_shape for la in cols}) == len(cols)  # one per run of equal shapes


def test_diagram_clicks_map_back_to_layer_and_channel():
    rng = np.random.default_rng(0)
    model = _tiny(False)
    layers = catalogue_model(model, (1, 1, 28, 28))
    cols = network.columns(layers)
    maps = {la.name: rng.standard_normal(la.out_shape).astype(np.float32) for la in map_layers(layers)}
    d = network.diagram(Image.new("L", (28, 28)), maps, cols, every_channel=True, classes=[("7", 0.9)])
    assert len(d.thumbs) == sum(la.out_shape[0] for la in cols)  # every channel of every column
    for t in d.thumbs[::7]:
        top, left, bottom, right = t.box
        assert d.at(((top + bottom) // 2, (left + right) // 2)) == (d.columns[t.column].layer.name, t.channel)
    assert d.at((0, 0)) is None  # the title band
    t0, t1 = d.thumbs[0], d.thumbs[1]  # one above the other: the 2-px gap between goes to the nearer
    assert d.at((t0.box[2], t0.box[1] + 1)) == (d.columns[0].layer.name, t0.channel)
    assert d.at((t1.box[0] - 1, t1.box[1] + 1)) == (d.columns[0].layer.name, t1.channel)
    # the tile's pixels are the channel's values through the column's colour scale
    col = d.columns[2]
    t = next(t for t in d.thumbs if t.column == 2)
    m = maps[col.layer.name][t.channel]
    assert col.vmin == -col.vmax == -max(abs(maps[col.layer.name].min()), abs(maps[col.layer.name].max()))
    top, left, _, _ = t.box
    from cnnviz import render

    expect = render.colorize(render.scale(m[:1, :1], col.vmin, col.vmax), col.cmap)[0, 0]
    assert np.array_equal(d.rgb[top, left], expect)
    out = d.outlined(col.layer.name, t.channel)
    assert out.shape == d.rgb.shape and not np.array_equal(out, d.rgb)


def test_strongest_channels_by_mean_absolute_value():
    maps = np.zeros((4, 2, 2), np.float32)
    maps[1] = -3.0
    maps[2] = 2.0
    maps[3] = 1.0
    assert list(network.strongest(maps, 3)) == [1, 2, 3]
