"""Issue 29, timm by name: every listed architecture builds offline with random weights and
computes what timm's own model computes; its preprocessing is timm's resolve_data_config and
its input timm's own transform, to the bit; transformers and unknown names are refused with a
sentence; trained weights come from the torch cache (a download puts them there) and never
from the network at test time."""

from __future__ import annotations

import io
import math

import pytest
import timm
import torch
from PIL import Image
from safetensors.torch import save_file
from test_cli import run_cli

from cnnviz.errors import ModelError, WeightsUnavailable
from cnnviz.inputs.gallery import sample_bytes
from cnnviz.models import model_cost, timm_zoo, zoo

PHOTOS = ("chelsea", "coffee", "grace_hopper")  # 451×300, 600×400, 512×600: both orientations


def _photo(name: str) -> Image.Image:
    return Image.open(io.BytesIO(sample_bytes(name))).convert("RGB")


@pytest.fixture(autouse=True)
def _empty_torch_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


@pytest.mark.parametrize("arch", timm_zoo.SUGGESTED)
def test_each_listed_cnn_is_timms_own_model_and_preprocessing(arch):
    name = timm_zoo.PREFIX + arch
    info = zoo.get_info(name)
    cfg = timm.data.resolve_data_config(pretrained_cfg=timm.models.get_pretrained_cfg(arch).to_dict())
    p = info.preprocess
    assert (p.size, p.mean, p.std) == (cfg["input_size"][-1], tuple(cfg["mean"]), tuple(cfg["std"]))
    assert p.resize == math.floor(cfg["input_size"][-1] / cfg["crop_pct"])
    assert p.bicubic == (cfg["interpolation"] == "bicubic")
    transform = timm.data.create_transform(**cfg)
    for photo in map(_photo, PHOTOS):
        assert torch.equal(p(photo)[0], transform(photo))  # the model's input, bit for bit

    lm = zoo.load_model(name, "random", device="cpu")
    assert lm.weights == "random" and not info.available()
    torch.manual_seed(0)  # load_model's fixed initialisation
    ref = timm.create_model(arch, pretrained=False).eval()
    x = torch.cat([p(_photo(n)) for n in PHOTOS[:2]])
    with torch.no_grad(), lm.use() as model:
        assert torch.allclose(model(x), ref(x), atol=1e-5)
    # Grad-CAM's default layer is timm's last feature stage, a real module of the network
    assert info.default_layer == ref.feature_info[-1]["module"]
    assert info.default_layer in dict(lm.model.named_modules())
    # the memory estimate (meta device, before any load) is the network's own size
    size = sum(t.numel() * t.element_size() for t in (*ref.parameters(), *ref.buffers()))
    assert model_cost.estimate(name, "random").weights == size


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("timm:vit_base_patch16_224", "vision transformer"),
        ("timm:swin_tiny_patch4_window7_224", "vision transformer"),
        ("timm:coatnet_0_rw_224", "mixes attention"),
        ("timm:resnet_made_up", "has no model called 'resnet_made_up'"),
        ("timm:../../etc/passwd", "is not a timm model name"),
        ("timm:", "is not a timm model name"),
    ],
)
def test_transformers_and_unknown_names_get_one_sentence(name, words):
    with pytest.raises(ModelError) as e:
        zoo.get_info(name)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_trained_weights_come_from_the_cache_and_a_download_fills_it(monkeypatch, tmp_path):
    name = "timm:regnety_008"
    with pytest.raises(WeightsUnavailable) as e:  # offline: the message says what to do
        zoo.load_model(name, "pretrained", download=False)
    assert "download them once" in str(e.value) and "random" in str(e.value)

    # A download: the config's Hugging Face repository's model.safetensors, copied into the
    # torch cache (here a file the test writes instead of the network).
    torch.manual_seed(7)
    trained = timm.create_model("regnety_008", pretrained=False).state_dict()
    served = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in trained.items()}, str(served))
    asked = []

    def hf_hub_download(repo_id, filename, **kw):
        asked.append((repo_id, filename))
        return str(served)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", hf_hub_download)
    path = zoo.download_weights(name)
    assert asked == [("timm/regnety_008.pycls_in1k", "model.safetensors")]
    assert path == timm_zoo.cache_file(name) and zoo.get_info(name).available()
    lm = zoo.load_model(name, "pretrained", device="cpu")
    got = lm.model.state_dict()
    assert all(torch.equal(got[k], v) for k, v in trained.items())

    def offline(**kw):
        raise OSError("no network")

    monkeypatch.setattr("huggingface_hub.hf_hub_download", lambda *a, **k: offline())
    path.unlink()
    with pytest.raises(WeightsUnavailable, match="Could not download"):
        zoo.download_weights(name)
    assert not path.exists() and not list(path.parent.glob("*.part"))


def test_cli_takes_timm_names_and_refuses_a_transformer_in_one_line():
    r = run_cli("layers", "--model", "timm:regnety_008", "--weights", "random", "--json")
    assert r.returncode == 0, r.stderr
    assert "s4" in r.stdout
    r = run_cli("layers", "--model", "timm:vit_base_patch16_224", "--weights", "random")
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]  # (and layers' random-weights note)
    assert r.returncode == 2 and len(errors) == 1 and "convolutional networks only" in errors[0]
    assert "Traceback" not in r.stderr
