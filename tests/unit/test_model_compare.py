"""Two models side by side: comparable depth, shared classes, strongest channels."""

from __future__ import annotations

import numpy as np

from cnnviz.inside import model_compare as mc
from cnnviz.inside.catalogue import LayerInfo


def _layer(name: str, kind: str, shape=(4, 8, 8)) -> LayerInfo:
    return LayerInfo(name, name, kind, kind, shape, 0, 3, 1, 0.0, "model", 0)


LAYERS = [
    _layer("conv1", "conv"),
    _layer("act1", "act"),
    _layer("pool1", "pool"),
    _layer("conv2", "conv"),
    _layer("act2", "act"),
    _layer("conv3", "conv"),
    _layer("act3", "act"),
    _layer("fc", "linear", (10,)),
]


def test_layer_at_depth_walks_the_activations():
    # three activations: depth f picks index round(f * 2) (Python rounds 0.5 to even: 0)
    picked = [mc.layer_at_depth(LAYERS, f).name for f in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert picked == ["act1", "act1", "act2", "act3", "act3"]
    assert mc.relative_depth(LAYERS, "act2") == 0.5 and mc.relative_depth(LAYERS, "conv2") is None
    # no activation modules: every map layer counts
    no_act = [la for la in LAYERS if la.kind != "act"]
    assert mc.layer_at_depth(no_act, 1.0).name == "conv3"


def test_first_conv_and_gradcam_layer():
    assert mc.first_conv(LAYERS).name == "conv1"
    assert mc.gradcam_layer("", LAYERS) == "act3" and mc.gradcam_layer("conv2", LAYERS) == "conv2"
    assert mc.gradcam_layer("", [_layer("fc", "linear", (10,))]) is None


def test_shared_classes_by_name():
    a = ["cat", "dog", "car", "dog"]
    b = ["car", "cat", "ship"]
    shared = mc.shared_classes(a, b)
    assert [(s.label, s.index_a, s.index_b) for s in shared] == [("cat", 0, 1), ("car", 2, 0)]
    assert mc.shared_classes(["0", "1"], ["tench", "goldfish"]) == []
    pa, pb = np.array([0.1, 0.5, 0.3, 0.1]), np.array([0.8, 0.1, 0.1])
    assert shared[mc.best_shared(shared, pa, pb)].label == "car"  # 0.3 + 0.8 beats 0.1 + 0.1


def test_strongest_channels_by_mean():
    maps = np.stack([np.full((2, 2), v, np.float32) for v in (1.0, 5.0, 3.0, 5.0)])
    top = mc.strongest_channels(maps, k=3)
    assert [float(m[0, 0]) for m in top] == [5.0, 5.0, 3.0]
    assert mc.strongest_channels(maps, k=10).shape == (4, 2, 2)
