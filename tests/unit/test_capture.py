"""capture: one-pass activation capture against torchvision's extractor, hooks removed, threads, in-place writes."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

from cnnviz.inside import capture, catalogue
from cnnviz.models.zoo import load_model
from testing.helpers import hook_count


# ------------------------------------------------------------------ capture
@pytest.fixture(scope="module")
def resnet():
    return load_model("resnet18", "random", device="cpu")


def _fx_name(name: str) -> str:
    path, _, call = name.partition("#")
    return path if not call else f"{path}_{int(call) - 1}"


@pytest.mark.parametrize("which", ["resnet18", "efficientnet_lite0"])
def test_capture_equals_torchvision_feature_extractor(which, resnet, effnet):
    lm = resnet if which == "resnet18" else effnet
    layers = catalogue.map_layers(catalogue.catalogue(lm))
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    ours = capture.capture_layers(lm, x, layers)
    assert set(ours) == {layer.name for layer in layers}
    _, eval_nodes = get_graph_node_names(lm.model)
    nodes = {layer.name: _fx_name(layer.name) for layer in layers if _fx_name(layer.name) in eval_nodes}
    # every leaf layer has an FX node of the same name (blocks end in some op's node)
    assert {layer.name for layer in layers if layer.kind != "block"} <= nodes.keys()
    with lm.use() as model, torch.inference_mode():
        theirs = create_feature_extractor(model, return_nodes=list(nodes.values()))(x)
    for name, node in nodes.items():
        assert np.array_equal(ours[name], theirs[node][0].numpy()), name
    assert ours[layers[0].name].flags.writeable is False


def test_containers_share_their_last_childs_array(effnet):
    layers = catalogue.map_layers(catalogue.catalogue(effnet))
    maps = capture.capture_layers(effnet, torch.zeros(1, 3, 224, 224), layers)
    assert maps["stem"] is maps["stem.act"]
    assert capture.captured_bytes(maps) < sum(a.nbytes for a in maps.values())


def _no_hooks(model: nn.Module) -> bool:
    return hook_count(model) == 0


def test_no_hook_left_and_state_restored_after_success_and_failure(resnet):
    layers = catalogue.map_layers(catalogue.catalogue(resnet))
    assert _no_hooks(resnet.model)
    resnet.model.layer1.train()  # a state that must come back as it was
    try:
        capture.capture_layers(resnet, torch.zeros(1, 3, 64, 64), layers)
        assert _no_hooks(resnet.model)
        with pytest.raises(RuntimeError):
            capture.capture_layers(resnet, torch.zeros(1, 5, 64, 64), layers)  # wrong channel count
        assert _no_hooks(resnet.model)
        with pytest.raises(RuntimeError):
            catalogue.catalogue_model(resnet.model, (1, 5, 64, 64))
        assert _no_hooks(resnet.model)
        assert resnet.model.layer1.training and not resnet.model.conv1.training
        assert not any(p.requires_grad or p.grad is not None for p in resnet.model.parameters())
    finally:
        resnet.model.layer1.eval()


def test_many_threads_each_get_their_own_result(resnet):
    layers = [
        layer for layer in catalogue.map_layers(catalogue.catalogue(resnet)) if layer.group in ("model", "layer1.0")
    ]
    images = [torch.randn(1, 3, 96, 96, generator=torch.Generator().manual_seed(i)) for i in range(12)]
    serial = [capture.capture_layers(resnet, x, layers) for x in images]
    results: dict[int, list] = {i: [] for i in range(len(images))}
    errors: list[BaseException] = []
    start = threading.Barrier(len(images))

    def work(i: int) -> None:
        try:
            start.wait()
            for _ in range(3):
                results[i].append(capture.capture_layers(resnet, images[i], layers))
        except BaseException as e:  # surfaced by the assert below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, runs in results.items():
        for got in runs:
            assert got.keys() == serial[i].keys()
            assert all(np.array_equal(got[k], serial[i][k]) for k in got)
    assert not np.array_equal(serial[0]["conv1"], serial[1]["conv1"])  # the images do differ
    assert _no_hooks(resnet.model)


# ------------------------------------------------------------------ CLI
def test_cli_features_equals_torchvision_extractor(tmp_path, hopper_path):
    from cnnviz.cli import main

    npy, inp, png = tmp_path / "maps.npy", tmp_path / "x.npy", tmp_path / "grid.png"
    rc = main(
        [
            "features",
            str(hopper_path),
            "--model",
            "resnet18",
            "--weights",
            "random",
            "--layer",
            "layer1.0.relu#2",
            "--npy",
            str(npy),
            "--save-input",
            str(inp),
            "--out",
            str(png),
        ]
    )
    assert rc == 0
    x = torch.from_numpy(np.load(inp))
    assert x.shape == (1, 3, 224, 224)
    model = load_model("resnet18", "random", device="cpu").model
    with torch.inference_mode():
        ref = create_feature_extractor(model, return_nodes=["layer1.0.relu_1"])(x)["layer1.0.relu_1"][0]
    got = np.load(npy)
    assert got.dtype == np.float32 and np.array_equal(got, ref.numpy())
    assert png.read_bytes().startswith(b"\x89PNG")


def test_learned_fast_path_still_copies_outputs_overwritten_in_place():
    """The first pass watches every op; later passes (no per-op guard) clone exactly the
    outputs the model overwrites in place (ResNet's bn2 before ``out += identity``)."""
    lm = load_model("resnet18", "random", device="cpu")
    names = ["layer1.0.bn2", "layer1.0.conv2", "layer2.1.bn2", "layer4"]
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    first = capture.capture(lm, x, names)
    memo = capture._MEMOS[lm.model]
    assert {"layer1.0.bn2", "layer2.1.bn2"} <= memo.overwritten and set(names) <= memo.watched
    assert "layer1.0.conv2" not in memo.overwritten
    second = capture.capture(lm, x, names)  # the fast path
    with lm.use() as model, torch.inference_mode():
        ref = create_feature_extractor(model, return_nodes=names[:3])(x)
    for name in names[:3]:
        assert np.array_equal(first[name], ref[name][0].numpy()), name
        assert np.array_equal(second[name], ref[name][0].numpy()), name
    assert np.array_equal(first["layer4"], second["layer4"])


@pytest.mark.parametrize("which", ["resnet18", "efficientnet_lite0"])
def test_one_layer_at_a_time_stops_early_and_equals_the_full_pass(which, resnet, effnet):
    """Capturing one layer (what a page shows) runs the model only up to it once the model's
    in-place writes are learned, and gives the same array as the whole-network pass,
    also for outputs the model overwrites later (ResNet's bn2 before ``out += identity``)."""
    lm = resnet if which == "resnet18" else effnet
    rows = catalogue.catalogue(lm)
    layers = catalogue.map_layers(rows) + [r for r in rows if r.path.endswith("bn2")][:3]
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(5))
    last = lm.model.get_submodule(rows[-1].path)  # the classifier: after every map layer
    calls = []
    handle = last.register_forward_hook(lambda *a: calls.append(1))
    try:
        full = capture.capture_layers(lm, x, layers)  # learns the in-place writes if not yet known
        ran = len(calls)
        for layer in layers[:: max(1, len(layers) // 25)] + layers[-3:]:
            one = capture.capture_layers(lm, x, [layer])
            assert list(one) == [layer.name]
            assert np.array_equal(one[layer.name], full[layer.name]), layer.name
        assert len(calls) == ran  # no single-layer pass ran on to the classifier
        with lm.use() as model, torch.inference_mode():
            model(x)
        assert len(calls) == ran + 1  # (the hook does see a whole forward)
    finally:
        handle.remove()
    assert _no_hooks(lm.model)


def test_capture_reports_progress_layer_by_layer_and_leaves_no_hook():
    lm = load_model("tinyvgg_mnist", device="cpu")
    layers = catalogue.map_layers(catalogue.catalogue(lm))
    x = torch.zeros(1, 1, 28, 28)
    told: list[tuple[float, str]] = []
    with_progress = capture.capture_layers(lm, x, layers, progress=lambda f, t: told.append((f, t)))
    plain = capture.capture_layers(lm, x, layers)
    assert told[0] == (0.0, "Waiting for the network (it is busy with other photos)…")
    fractions = [f for f, _ in told[1:]]
    paths = list(dict.fromkeys(la.path for la in layers))
    assert len(fractions) == len(paths) and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert told[-1][1].endswith(f"layer {len(paths)} of {len(paths)}")
    assert hook_count(lm.model) == 0
    for k in plain:  # progress changes nothing captured
        np.testing.assert_array_equal(with_progress[k], plain[k])
