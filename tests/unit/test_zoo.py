"""The model registry: every model builds, loads its weights or says clearly why not."""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz.errors import ModelError, WeightsUnavailable
from cnnviz.inside.predict import predict
from cnnviz.models import small_cnn as arch_mod
from cnnviz.models import torchvision_zoo as tv
from cnnviz.models import usermodels, zoo

REGISTERED = ["efficientnet_lite0", *zoo.TORCHVISION_MODELS, "zfmini"]


def test_registry_lists_the_required_models():
    names = {i.name for i in zoo.list_models()}
    for required in [
        "efficientnet_lite0",
        "alexnet",
        "vgg16",
        "resnet18",
        "resnet50",
        "mobilenet_v3_small",
        "squeezenet1_1",
        "googlenet",
    ]:
        assert required in names


@pytest.mark.parametrize("name", REGISTERED)
def test_every_registered_model_builds_and_predicts(name):
    """Random weights (no download): the right input size, 1000 outputs, a real default layer."""
    lm = zoo.load_model(name, "random", device="cpu")
    info = lm.info
    assert info.preprocess.channels == 3 and info.family == "imagenet"
    assert len(lm.classes) == 1000
    modules = dict(lm.model.named_modules())
    assert info.default_layer in modules, f"{name}: default layer {info.default_layer} missing"
    assert not lm.model.training
    assert not any(p.requires_grad for p in lm.model.parameters())
    assert not any(getattr(m, "inplace", False) for m in lm.model.modules())
    x = lm.preprocess(Image.new("RGB", (300, 200), (120, 80, 40)))
    assert x.shape == (1, 3, info.preprocess.size, info.preprocess.size)
    pred = predict(lm, x, top=5)
    assert len(pred.top) == 5
    assert pred.probs.shape == (1000,)
    assert abs(float(pred.probs.sum()) - 1.0) < 1e-4
    assert pred.top[0].prob >= pred.top[-1].prob


def test_random_weights_are_reproducible():
    a = zoo.load_model("resnet18", "random", device="cpu")
    b = zoo.load_model("resnet18", "random", device="cpu")
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


def test_torchvision_preprocessing_comes_from_the_weights_record():
    from torchvision.models import ResNet50_Weights

    t = ResNet50_Weights.DEFAULT.transforms()
    p = zoo.get_info("resnet50").preprocess
    assert (p.size, p.resize) == (t.crop_size[0], t.resize_size[0])
    assert p.mean == tuple(t.mean) and p.std == tuple(t.std)


def test_preprocess_matches_torchvision_transforms():
    """Our resize/crop/normalise equals torchvision's own ImageClassification transform."""
    from torchvision.models import ResNet18_Weights

    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8))
    ours = zoo.get_info("resnet18").preprocess(img)[0]
    theirs = ResNet18_Weights.DEFAULT.transforms()(img)
    assert ours.shape == theirs.shape
    # PIL-side and tensor-side bilinear resampling differ by rounding only.
    assert float((ours - theirs).abs().mean()) < 0.02


def test_missing_torchvision_weights_give_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert not zoo.get_info("alexnet").available()
    with pytest.raises(WeightsUnavailable) as e:
        zoo.load_model("alexnet", "pretrained", download=False)
    msg = str(e.value)
    assert "alexnet" in msg and "random" in msg and "\n" not in msg


def test_cached_torchvision_weights_are_found_offline(tmp_path, monkeypatch):
    """A state dict in the torch cache under the URL's file name loads with no network."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    ref = zoo.load_model("mobilenet_v3_small", "random", device="cpu")
    state = {k: v + 0.5 if v.is_floating_point() else v for k, v in ref.model.state_dict().items()}
    path = tv.cache_file("mobilenet_v3_small")
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    assert zoo.get_info("mobilenet_v3_small").available()
    lm = zoo.load_model("mobilenet_v3_small", "pretrained", download=False, device="cpu")
    assert torch.equal(lm.model.state_dict()["features.0.0.weight"], state["features.0.0.weight"])


def test_unknown_model_is_a_model_error():
    with pytest.raises(ModelError, match="Unknown model 'nope'"):
        zoo.load_model("nope")


def test_efficientnet_is_the_default_and_recognises_grace_hopper(effnet, hopper_bytes):
    from cnnviz.inputs.images import decode_image

    assert zoo.list_models()[0].name == "efficientnet_lite0"
    pred = predict(effnet, effnet.preprocess(decode_image(hopper_bytes)), top=5)
    labels = {t.label for t in pred.top}
    assert labels & {"military uniform", "academic gown", "mortarboard"}


def test_use_restores_state_after_success_and_failure():
    lm = zoo.load_model("squeezenet1_1", "random", device="cpu")
    with lm.use() as model:
        model.train()
        for p in model.parameters():
            p.requires_grad_(True)
            p.grad = torch.ones_like(p)
    assert not lm.model.training and all(not m.training for m in lm.model.modules())
    assert all(not p.requires_grad and p.grad is None for p in lm.model.parameters())
    with pytest.raises(RuntimeError), lm.use() as model:
        model.train()
        raise RuntimeError("boom")
    assert not lm.model.training


def test_use_gives_eval_mode_and_restores_mixed_modes():
    lm = zoo.load_model("squeezenet1_1", "random", device="cpu")
    lm.model.train()
    lm.model.features[0].eval()  # one module left in eval, the rest training
    before = [m.training for m in lm.model.modules()]
    with lm.use() as model:
        assert not any(m.training for m in model.modules())
    assert [m.training for m in lm.model.modules()] == before and before.count(False) == 1


def test_use_serialises_threads():
    lm = zoo.load_model("squeezenet1_1", "random", device="cpu")
    inside, overlaps = [0], []

    def work():
        with lm.use():
            inside[0] += 1
            overlaps.append(inside[0])
            threading.Event().wait(0.01)
            inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(overlaps) == 1


def test_user_model_in_folder_is_listed_and_loads(tmp_path, monkeypatch):
    """A saved checkpoint (safetensors + JSON) appears in the registry and rebuilds."""
    monkeypatch.setenv("CNNVIZ_USER_MODELS", str(tmp_path))
    arch = {"kind": "tinyvgg"}
    model = arch_mod.build_model(arch, in_channels=1, num_classes=3, size=28)
    meta = {
        "format": zoo.CHECKPOINT_FORMAT,
        "name": "mine",
        "title": "Mine",
        "arch": arch,
        "classes": ["a", "b", "c"],
        "preprocess": {"size": 28, "resize": 28, "mean": [0.5], "std": [0.5], "channels": 1},
        "dataset": "test",
    }
    usermodels.save(model, meta, tmp_path / "mine")
    info = zoo.get_info("mine")
    assert info.family == "user" and info.preprocess.channels == 1
    lm = zoo.load_model("mine", device="cpu")
    x = torch.randn(1, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        assert torch.equal(lm.model(x), model(x))
    assert lm.classes == ["a", "b", "c"]


def test_broken_json_in_user_folder_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_MODELS", str(tmp_path))
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"format": "something-else"}')
    names = {i.name for i in zoo.list_models()}
    assert "junk" not in names and "other" not in names


def test_download_times_out_per_request_and_checks_the_hash(tmp_path, monkeypatch):
    """A download sets a timeout on its own request, never the process-wide socket default
    (every session's connections share it), and a corrupt file is refused and not kept."""
    import io
    import socket

    payload = b"weights" * 1000
    digest = hashlib.sha256(payload).hexdigest()
    seen = {}

    def fake_urlopen(url, timeout=None):
        seen["timeout"], seen["default"] = timeout, socket.getdefaulttimeout()
        return io.BytesIO(payload)

    monkeypatch.setattr(tv, "urlopen", fake_urlopen)
    good = tmp_path / f"net-{digest[:8]}.pth"
    tv.fetch("https://example.invalid/x", good, "net")
    assert good.read_bytes() == payload
    assert seen == {"timeout": tv.DOWNLOAD_TIMEOUT, "default": None}
    bad = tmp_path / "net-00000000.pth"
    with pytest.raises(WeightsUnavailable, match="Could not download the weights for net"):
        tv.fetch("https://example.invalid/x", bad, "net")
    assert not bad.exists() and not list(tmp_path.glob("*.part"))
