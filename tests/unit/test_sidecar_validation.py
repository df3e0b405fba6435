"""Issue 10: a model sidecar is validated field by field, and its network's size checked
from the architecture alone, before any module is built."""

from __future__ import annotations

import copy
import json
import resource
import shutil

import pytest

from cnnviz.errors import CheckpointError
from cnnviz.models import listing, usermodels
from cnnviz.models.small_cnn import build_model, cost
from cnnviz.models.usermodels import SHIPPED_DIR

GOOD = json.loads((SHIPPED_DIR / "tinyvgg_mnist.json").read_text())


def _with(**changes) -> dict:
    meta = copy.deepcopy(GOOD)
    for path, value in changes.items():
        *parents, last = path.split("__")
        d = meta
        for p in parents:
            d = d[p]
        d[last] = value
    return meta


def test_the_shipped_sidecar_passes():
    pre, classes, arch = usermodels.validate(GOOD)
    assert (pre.size, pre.channels, pre.invert, len(classes)) == (28, 1, False, 10)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"preprocess__mean": [0.1, 0.2, 0.3]}, "mean must be a list of 1"),
        ({"preprocess__std": [0.0]}, "std must be a list of 1 finite positive"),
        ({"preprocess__std": ["x"]}, "std must be"),
        ({"preprocess__mean": [float("nan")]}, "mean must be"),
        ({"preprocess__size": 100000}, "input size must be a whole number from 8 to 512"),
        ({"preprocess__size": -5}, "input size"),
        ({"preprocess__size": "28"}, "input size"),
        ({"preprocess__size": True}, "input size"),
        ({"preprocess__resize": 10**9}, "resize side"),
        ({"preprocess__channels": 4}, "channels must be 1"),
        ({"preprocess__invert": "false"}, "invert must be true or false"),
        ({"preprocess__invert": 0}, "invert must be true or false"),
        ({"classes": ["only one"]}, "2 to 1000 classes"),
        ({"classes": [str(i) for i in range(1001)]}, "2 to 1000 classes"),
        ({"classes": ["a", "b" * 20_000]}, "1 to 100 characters"),
        ({"classes": ["a", 7]}, "class name must be text"),
        ({"classes": "0123456789"}, "malformed"),
        ({"arch": []}, "malformed"),
        ({"arch__kernel": 4}, "cannot be built"),
        ({"arch__channels": []}, "cannot be built"),
        ({"arch__channels": [8] * 12, "arch__pool_every": 1}, "cannot be built"),  # 28 px pooled 12 times
        ({"arch__channels": [512] * 60, "arch__pool_every": 0}, "too large for this server"),
        ({"arch__channels": [8], "arch__pool_every": 0, "arch__hidden": [100000]}, "too large for this server"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(changes, says):
    with pytest.raises(CheckpointError) as e:
        usermodels.validate(_with(**changes), "bad.json")
    msg = str(e.value)
    assert says in msg, msg
    assert msg.startswith("bad.json") and "\n" not in msg and len(msg) < 300


def test_a_huge_network_is_refused_without_allocating(tmp_path):
    meta = _with(arch__channels=[512] * 60, arch__pool_every=0)
    shutil.copy(SHIPPED_DIR / "tinyvgg_mnist.safetensors", tmp_path / "big.safetensors")
    (tmp_path / "big.json").write_text(json.dumps(meta))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match="too large"):
        usermodels.read(tmp_path / "big.json")
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 50 << 20
    # the listing skips it instead of failing for everyone
    assert listing.scan(tmp_path) == []


def test_cost_counts_what_build_model_builds():
    for arch, ch, n, size in [(GOOD["arch"], 1, 10, 28), ({"kind": "lenet"}, 3, 4, 32), (GOOD["arch"], 3, 7, 64)]:
        params, acts = cost(arch, ch, n, size)
        assert params == sum(p.numel() for p in build_model(arch, ch, n, size).parameters())
        assert acts > 0
    # TinyVGG 8-8-16-16 on 28x28 (no batchnorm): conv+act per block, a pool after 2 and 4
    assert (
        cost(GOOD["arch"], 1, 10, 28)[1] == 2 * (8 + 8) * 28 * 28 + 8 * 14 * 14 + 2 * (16 + 16) * 14 * 14 + 16 * 7 * 7
    )


@pytest.mark.parametrize("channels", [[8], [8, 8], [8, 8, 16]], ids=["1 block", "2 blocks", "3 blocks"])
def test_gradcam_sweep_works_by_default_on_small_tinyvggs_and_lenet(channels):
    import torch

    from cnnviz.inside.catalogue import sweep_layers
    from cnnviz.models.small_cnn import preset

    for arch in (preset("tinyvgg", channels=channels), preset("lenet")):
        model = build_model(arch, 1, 10, 28).eval()
        layers = sweep_layers(model)
        assert "classifier" not in layers and layers
        # every swept layer has a spatial map for Grad-CAM: (1, C, H, W)
        outs = {}
        hooks = [
            model.get_submodule(n).register_forward_hook(lambda m, i, o, n=n, outs=outs: outs.setdefault(n, o))
            for n in layers
        ]
        try:
            model(torch.zeros(1, 1, 28, 28))
        finally:
            for h in hooks:
                h.remove()
        assert all(outs[n].ndim == 4 for n in layers), {n: tuple(o.shape) for n, o in outs.items()}
