"""Top-9 that teach: one crop per photo, ties at an activation ceiling broken by the map's
mean, receptive fields clipped to the input, a default channel that is active."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnviz import example_pools, examples
from cnnviz.capture import hooked_outputs
from cnnviz.catalogue import catalogue, find_layer
from cnnviz.channel import most_active
from cnnviz.images import load_sample
from cnnviz.zoo import load_model

# photos of the gallery where EfficientNet-Lite0's head.act channel 0 reaches ReLU6's 6.0
# (moon, page, horse) or nearly, and three others: 6 × 14 = 84 crops, a short pass
SOME = ("skimage:moon.png", "skimage:page.png", "skimage:horse.png", "skimage:text.png",
        "skimage:coffee.png", "skimage:chelsea.png")  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


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
