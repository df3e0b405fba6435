"""Issue 29: ONNX files in. Four CNNs exported by the pinned torch (nothing downloaded: two
torchvision architectures with seeded random weights, the shipped EfficientNet-Lite0 and
TinyVGG), converted back by cnnviz.models.onnx_convert, against the torch original and against
onnxruntime (the independent reference) on real photos; the file's layers, preprocessing
and the CLI."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from cnnviz.cli import main
from cnnviz.inputs.gallery import sample_bytes
from cnnviz.inputs.images import decode_image
from cnnviz.inside.catalogue import catalogue, map_layers
from cnnviz.models.model_cost import estimate
from cnnviz.models.onnx_check import OnnxError
from cnnviz.models.onnx_file import form_metadata, summary, with_metadata
from cnnviz.models.zoo import get_info, imagenet_classes, load_model
from testing.catalogue import BAD_ONNX, _onnx_tiny_classifier, onnx_bytes
from testing.helpers import export_onnx

# name -> weights of the original (random: seeded by the zoo, so nothing is downloaded)
ORIGINALS = {
    "resnet18": "random",
    "squeezenet1_1": "random",
    "efficientnet_lite0": "pretrained",
    "tinyvgg_mnist": "pretrained",
}
PHOTOS = ("grace_hopper", "chelsea")
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (the torch original, its .onnx file, the file loaded by the zoo): each once."""
    folder = tmp_path_factory.mktemp("onnx")
    out = {}
    for name, weights in ORIGINALS.items():
        original = load_model(name, weights, device="cpu")
        spec = original.preprocess_spec
        path = export_onnx(original.model, folder / f"{name}.onnx", size=spec.size, channels=spec.channels)
        out[name] = (original, path, load_model(str(path), device="cpu"))
    return out


def photos(original) -> torch.Tensor:
    """(len(PHOTOS), C, H, W): real photos as the original model is fed them."""
    return torch.cat([original.preprocess(decode_image(sample_bytes(p), name=p)) for p in PHOTOS])


@pytest.mark.parametrize("name", list(ORIGINALS))
def test_converted_logits_match_torch_and_onnxruntime(exported, name):
    original, path, converted = exported[name]
    x = photos(original)
    with torch.inference_mode():
        want = original.model(x).numpy()
        got = converted.model(x).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    runtime = np.concatenate([session.run(None, {"image": x[i : i + 1].numpy()})[0] for i in range(len(x))])
    vs_torch, vs_runtime = np.abs(got - want).max(), np.abs(got - runtime).max()
    print(f"{name}: max |logit difference| vs torch {vs_torch:.2e}, vs onnxruntime {vs_runtime:.2e}")
    assert got.shape == want.shape == (len(PHOTOS), len(original.classes))
    assert vs_torch <= TOLERANCE and vs_runtime <= TOLERANCE, (vs_torch, vs_runtime)
    assert np.abs(want).max() > 0.1  # the logits say something (not all zero)


def test_layers_are_ordinary_torch_layers_named_after_the_nodes(exported):
    original, _, converted = exported["resnet18"]
    modules = dict(converted.model.named_modules())
    conv = modules["layer1.0.conv1"]  # ONNX node /layer1/layer1.0/conv1/Conv
    assert isinstance(conv, nn.Conv2d) and (conv.in_channels, conv.out_channels, conv.kernel_size) == (64, 64, (3, 3))
    assert isinstance(modules["conv1"], nn.Conv2d) and modules["conv1"].stride == (2, 2)
    assert modules["conv1"].padding == (3, 3)
    assert isinstance(modules["layer1.0.relu"], nn.ReLU) and isinstance(modules["maxpool"], nn.MaxPool2d)
    assert isinstance(modules["avgpool"], nn.AdaptiveAvgPool2d)
    fc = modules["fc"]  # Gemm with transB: the very weights of the original's fc
    assert isinstance(fc, nn.Linear) and torch.equal(fc.weight, original.model.fc.weight)
    assert torch.equal(fc.bias, original.model.fc.bias)
    # The exporter folds each BatchNorm into its conv: the original's 20 convs under their
    # own torch names (ONNX node /layer2/layer2.0/downsample/downsample.0/Conv: the
    # original's layer2.0.downsample.0), no BatchNorm left.
    convs = {n for n, m in modules.items() if isinstance(m, nn.Conv2d)}
    assert convs == {n for n, m in original.model.named_modules() if isinstance(m, nn.Conv2d)} and len(convs) == 20
    assert not any(isinstance(m, nn.BatchNorm2d) for m in modules.values())
    assert isinstance(modules["layer1.0"], nn.Module) and "layer1.0.Add" in modules  # blocks as in torch
    assert converted.info.default_layer == "layer4.1.relu_1"  # the last maps before pooling (Grad-CAM's)
    layers = {la.name: la for la in map_layers(catalogue(converted))}
    assert layers["layer4.1.relu_1"].out_shape == (512, 7, 7)
    assert layers["layer1.0.conv1"].out_shape == (64, 56, 56)


def test_squeezenet_keeps_its_fire_modules_names_and_ceil_mode(exported):
    _, _, converted = exported["squeezenet1_1"]
    modules = dict(converted.model.named_modules())
    assert isinstance(modules["features.3.expand3x3"], nn.Conv2d) and modules["features.3.expand3x3"].padding == (1, 1)
    assert modules["features.2"].ceil_mode  # MaxPool with ceil_mode: 111 -> 55
    cat = {la.name: la for la in catalogue(converted)}
    assert cat["features.2"].out_shape == (64, 56, 56)  # 227 (Caffe) -> 113 -> ceil 56


def test_a_batch_gives_each_photos_logits(exported):
    """Exporters write batch 1 into Reshape/Flatten shapes; the app runs batches too."""
    for name in ("efficientnet_lite0", "tinyvgg_mnist"):
        original, _, converted = exported[name]
        x = photos(original)
        with torch.inference_mode():
            one = torch.cat([converted.model(x[i : i + 1]) for i in range(len(x))])
            assert torch.allclose(converted.model(x), one, atol=1e-5)


def test_defaults_without_metadata(exported):
    _, path, converted = exported["resnet18"]
    pre = converted.info.preprocess
    assert (pre.size, pre.resize, pre.channels) == (224, 256, 3)
    assert pre.mean == (0.485, 0.456, 0.406) and pre.std == (0.229, 0.224, 0.225)
    assert converted.classes == imagenet_classes()  # 1000 outputs: ImageNet's names
    assert converted.info.family == "onnx" and converted.weights == "pretrained"
    digits = exported["tinyvgg_mnist"][2]
    assert digits.info.preprocess.channels == 1 and digits.info.preprocess.size == 28
    assert digits.classes == [f"class {i}" for i in range(10)]
    cost = estimate(str(path))
    params = sum(p.numel() for p in converted.model.parameters()) + sum(b.numel() for b in converted.model.buffers())
    # the file's initialisers; the network copies the biases the exporter shared (Identity)
    assert cost.weights == 4 * 11_680_872 and abs(cost.weights - 4 * params) < 0.001 * cost.weights


def test_metadata_sets_preprocessing_and_labels(exported, tmp_path):
    original = exported["tinyvgg_mnist"][0]
    meta = {
        "cnnviz.labels": json.dumps([f"digit {i}" for i in range(10)]),
        "cnnviz.mean": "[0.1307]",
        "cnnviz.std": "[0.3081]",
        "cnnviz.resize": "32",
        "cnnviz.title": "Digits from ONNX",
    }
    path = export_onnx(original.model, tmp_path / "digits.onnx", size=28, channels=1, meta=meta)
    info = get_info(str(path))
    assert info.title == "Digits from ONNX" and info.classes()[3] == "digit 3"
    assert (info.preprocess.resize, info.preprocess.mean, info.preprocess.std) == (32, (0.1307,), (0.3081,))
    bad = export_onnx(original.model, tmp_path / "bad.onnx", size=28, channels=1, meta={"cnnviz.labels": '["a", "b"]'})
    with pytest.raises(OnnxError, match=r"'bad.onnx': its metadata cnnviz.labels must list 10 class names"):
        get_info(str(bad))


def test_random_weights_are_seeded_and_differ_from_the_file(exported):
    _, path, converted = exported["squeezenet1_1"]
    a, b = load_model(str(path), "random", device="cpu"), load_model(str(path), "random", device="cpu")
    wa, wb, wf = (m.model.get_submodule("features.0").weight for m in (a, b, converted))
    assert torch.equal(wa, wb) and not torch.equal(wa, wf)


def test_tiny_handmade_graph_matches_onnxruntime(tmp_path):
    """A graph written by hand with onnx.helper (no torch exporter): conv with pads, pool, flatten."""
    path = tmp_path / "tiny.onnx"
    path.write_bytes(_onnx_tiny_classifier())
    x = torch.linspace(-1, 1, 3 * 8 * 8).reshape(1, 3, 8, 8)
    with torch.inference_mode():
        got = load_model(str(path), device="cpu").model(x).numpy()
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    assert got.shape == (1, 4) and np.abs(got - want).max() < 1e-6


def test_cli_layers_and_predict_on_an_onnx_file(exported, hopper_path, capsys):
    original, path, converted = exported["efficientnet_lite0"]
    assert main(["layers", "--model", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    stem = next(r for r in rows if r["name"] == "stem.conv")  # ONNX node /stem/conv/Conv
    assert stem["type"] == "Conv2d" and stem["out_shape"] == [32, 112, 112] and stem["params"] == 896
    assert main(["predict", str(hopper_path), "--model", str(path), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["top"]
    # fed as the file says (no metadata: ImageNet's defaults), not as the original is
    x = converted.info.preprocess(decode_image(hopper_path.read_bytes(), name="hopper"))
    with torch.inference_mode():
        want = original.model(x)[0].softmax(0)
    assert top[0]["index"] == int(want.argmax()) and abs(top[0]["prob"] - float(want.max())) < 1e-4


@pytest.mark.parametrize("kind", list(BAD_ONNX))
def test_hostile_onnx_file_is_refused_in_one_line(kind, tmp_path, hopper_path, capsys):
    name, make, says = BAD_ONNX[kind]
    f = tmp_path / name
    f.write_bytes(make())
    assert main(["predict", str(hopper_path), "--model", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and says in err and name in err, err
    assert "](" not in err and "![" not in err  # names from the file never become markdown in the app


def _keras_style_graph() -> bytes:
    """A graph as TensorFlow/Keras exporters write them, built by hand with onnx.helper:
    channels-last input and a Transpose, SAME padding with a stride (uneven pads), float to
    float Casts after layers (Keras 3's exporter writes one after nearly every layer), and
    the rest of the operator set the torch exports above do not use."""
    rng = np.random.default_rng(0)

    def init(name, *shape):
        return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)

    inits = [
        init("w", 6, 3, 3, 3),
        init("b", 6),
        numpy_helper.from_array(rng.uniform(0.5, 2, 6).astype(np.float32), "scale"),
        init("shift", 6),
        init("mean", 6),
        numpy_helper.from_array(rng.uniform(0.5, 2, 6).astype(np.float32), "var"),
        numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales"),
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), "pads"),
        init("fc", 6, 5),
        init("fc_b", 5),
    ]
    n = helper.make_node
    nodes = [
        n("Transpose", ["image"], ["t"], name="to_nchw", perm=[0, 3, 1, 2]),
        n("Conv", ["t", "w", "b"], ["c0"], name="conv", auto_pad="SAME_UPPER", strides=[2, 2]),
        n("Cast", ["c0"], ["c"], name="cast_conv", to=TensorProto.FLOAT),
        n("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["bn"], name="bn", epsilon=1e-3),
        n("LeakyRelu", ["bn"], ["lr0"], name="leaky", alpha=0.1),
        n("Cast", ["lr0"], ["lr1"], name="cast_a", to=TensorProto.DOUBLE),
        n("Cast", ["lr1"], ["lr"], name="cast_b", to=TensorProto.FLOAT),
        n("HardSigmoid", ["lr"], ["hs"], name="/training/forward"),  # names of nn.Module's own attributes
        n("Mul", ["lr", "hs"], ["m"], name="gated"),
        n("AveragePool", ["m"], ["ap"], name="avg", kernel_shape=[2, 2], strides=[1, 1]),
        n(
            "Resize",
            ["ap", "", "scales"],
            ["up"],
            name="up",
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        ),
        n("Pad", ["up", "pads"], ["pd"], name="pad", mode="reflect"),
        n("MaxPool", ["pd"], ["mp"], name="max", kernel_shape=[3, 3], strides=[2, 2]),
        n("ReduceMean", ["mp"], ["rm"], name="gap", axes=[2, 3], keepdims=0),
        n("MatMul", ["rm", "fc"], ["mm"], name="fc"),
        n("Add", ["mm", "fc_b"], ["logits"], name="fc_bias"),
        n("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "keras_like",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 16, 16, 3])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 5])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def test_a_keras_style_graph_matches_onnxruntime(tmp_path):
    path = tmp_path / "keras_like.onnx"
    path.write_bytes(_keras_style_graph())
    lm = load_model(str(path), device="cpu")
    modules = dict(lm.model.named_modules())
    assert lm.info.preprocess.size == 16 and lm.model.nhwc
    assert isinstance(modules["conv"].conv, nn.Conv2d) and isinstance(modules["bn"], nn.BatchNorm2d)
    assert isinstance(modules["leaky"], nn.LeakyReLU) and isinstance(modules["max"], nn.MaxPool2d)
    assert "training_.forward_" in modules  # renamed, not a crash
    x = torch.rand(3, 3, 16, 16)  # what the app feeds: (N, C, H, W)
    assert "softmax" not in modules  # the file's final Softmax is dropped: the pages take logits
    with torch.inference_mode():
        logits = lm.model(x)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = session.run(None, {"image": x.permute(0, 2, 3, 1).numpy()})[0]
    got = torch.softmax(logits, 1).numpy()  # the app's probabilities: the file's own output
    assert got.shape == (3, 5) and np.abs(got - want).max() < 1e-5, np.abs(got - want).max()
    assert not np.allclose(logits.numpy().sum(1), 1.0)  # logits, not probabilities


def _keras3_layout_graph() -> bytes:
    """Keras 3's own exporter's layout: each Conv (channels first, as ONNX has it) between
    Transposes, its bias, Casts and ReLU run channels-last, pooling over H and W by ReduceMean."""
    rng = np.random.default_rng(1)
    n = helper.make_node
    inits = [
        numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.normal(size=(1, 1, 1, 4)).astype(np.float32), "bias"),
        numpy_helper.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), "gain"),
        numpy_helper.from_array(rng.normal(size=(4, 3)).astype(np.float32), "fc"),
        numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "hw"),
    ]
    nodes = [
        n("Transpose", ["image"], ["t0"], name="/in", perm=[0, 3, 1, 2]),
        n("Conv", ["t0", "w"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
        n("Transpose", ["c"], ["c_last"], name="/conv/Transpose", perm=[0, 2, 3, 1]),
        n("Add", ["c_last", "bias"], ["b"], name="/conv/Add"),
        n("Cast", ["b"], ["b32"], name="/conv/Cast", to=TensorProto.FLOAT),
        n("Mul", ["gain", "b32"], ["g"], name="/conv/Mul"),
        n("Relu", ["g"], ["r"], name="/conv/Relu"),
        n("Transpose", ["r"], ["r_first"], name="/pool/Transpose", perm=[0, 3, 1, 2]),
        n("MaxPool", ["r_first"], ["p"], name="/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
        n("Transpose", ["p"], ["p_last"], name="/pool/Transpose_1", perm=[0, 2, 3, 1]),
        n("Relu", ["p_last"], ["p_relu"], name="/top/Relu"),
        n("ReduceMean", ["p_relu", "hw"], ["gap"], name="/gap", keepdims=0),
        n("MatMul", ["gap", "fc"], ["logits"], name="/fc"),
        n("Softmax", ["logits"], ["probs"], name="/softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "keras3",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 8, 8, 3])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 3])],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]).SerializeToString()


def test_keras_channels_last_activations_become_channels_first(tmp_path):
    """Feature maps and Grad-CAM read (N, C, H, W): a channels-last ReLU between Transposes
    would otherwise show H channels of W×C, and Grad-CAM would weigh rows."""
    path = tmp_path / "keras3.onnx"
    path.write_bytes(_keras3_layout_graph())
    lm = load_model(str(path), device="cpu")
    shapes = {}
    hooks = [
        m.register_forward_hook(lambda mod, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
        for name, m in lm.model.named_modules()
        if name
    ]
    x = torch.rand(2, 3, 8, 8)
    with torch.inference_mode():
        logits = lm.model(x)
    for h in hooks:
        h.remove()
    relus = [name for name, m in lm.model.named_modules() if isinstance(m, nn.ReLU)]
    assert [shapes[r] for r in relus] == [(2, 4, 8, 8), (2, 4, 4, 4)]  # (N, C, H, W), not (N, H, W, C)
    assert shapes["conv.Add"] == shapes["conv.Mul"] == (2, 4, 8, 8)
    assert lm.info.default_layer == relus[-1]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = session.run(None, {"image": x.permute(0, 2, 3, 1).numpy()})[0]
    assert np.abs(torch.softmax(logits, 1).numpy() - want).max() < 1e-6


def test_form_metadata_is_checked_and_written_into_a_copy(exported, tmp_path):
    _, path, _ = exported["tinyvgg_mnist"]
    s, _ = summary(path)
    with pytest.raises(OnnxError, match="the std must be numbers"):
        form_metadata(s, "0.1", "a", 28, "", "'f.onnx'")
    with pytest.raises(OnnxError, match="cnnviz.std must be a list of 1 finite numbers"):
        form_metadata(s, "0.1", "0", 28, "", "'f.onnx'")
    with pytest.raises(OnnxError, match="cnnviz.labels must list 10 class names"):
        form_metadata(s, "0.1", "0.3", 28, "a\nb", "'f.onnx'")
    meta = form_metadata(s, "25", "80", 32, "\n".join("abcdefghij"), "'f.onnx'", bgr=True, scale=255)
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(with_metadata(path.read_bytes(), meta, "'f.onnx'"))
    old, new = onnx.load(str(path)), onnx.load(str(copy))
    assert [t.SerializeToString() for t in old.graph.initializer] == [
        t.SerializeToString() for t in new.graph.initializer
    ]
    info = get_info(str(copy))
    pre = info.preprocess
    assert (pre.mean, pre.std, pre.resize, pre.bgr, pre.scale) == ((25.0,), (80.0,), 32, True, 255.0)
    assert info.classes() == list("abcdefghij")


def test_channel_order_and_pixel_range_from_metadata(exported, tmp_path):
    """SqueezeNet with Caffe's preprocessing (BGR, pixels 0..255) described in the file's
    metadata: fed exactly as the zoo feeds it, so the same photo gives the same logits."""
    original = exported["squeezenet1_1"][0]
    meta = {
        "cnnviz.channel_order": "BGR",
        "cnnviz.pixel_range": "255",
        "cnnviz.mean": "[104.006, 116.669, 122.679]",
        "cnnviz.std": "[1, 1, 1]",
        "cnnviz.resize": "256",
    }
    path = export_onnx(original.model, tmp_path / "caffe.onnx", size=227, meta=meta)
    converted = load_model(str(path), device="cpu")
    assert converted.info.preprocess == original.info.preprocess  # size, resize, mean, std, bgr, scale
    img = decode_image(sample_bytes("chelsea"), name="chelsea")
    with torch.inference_mode():
        got, want = converted.model(converted.preprocess(img)), original.model(original.preprocess(img))
    assert (got - want).abs().max() <= TOLERANCE
    bad = export_onnx(original.model, tmp_path / "rgba.onnx", size=227, meta={"cnnviz.channel_order": "RGBA"})
    with pytest.raises(OnnxError, match="cnnviz.channel_order must be RGB or BGR"):
        get_info(str(bad))


def test_cli_features_and_explain_on_an_onnx_file(exported, hopper_path, tmp_path, capsys):
    original, path, converted = exported["tinyvgg_mnist"]
    npy = tmp_path / "maps.npy"
    args = ["features", str(hopper_path), "--model", str(path), "--layer", "features.0.act", "--npy", str(npy)]
    assert main(args) == 0
    maps = np.load(npy)
    x = converted.info.preprocess(decode_image(hopper_path.read_bytes(), name="hopper"))
    with torch.inference_mode():  # the original's first block, by its own names
        want = original.model.features[0](x)[0].numpy()
    assert maps.shape == want.shape == (8, 28, 28) and np.abs(maps - want).max() < 1e-5
    capsys.readouterr()
    assert main(["explain", str(hopper_path), "--model", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["layer"] == "features.3.act" and out["map_shape"] == [14, 14]  # before the second pool


def _bad_graphs() -> dict[str, tuple[bytes, str]]:
    """Malformed or oversized little graphs -> the words their refusal must contain."""
    n = helper.make_node
    short = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 3, 3, 3], raw_data=b"\0" * 16)
    conv = [n("Conv", ["x", "w"], ["c"]), n("GlobalAveragePool", ["c"], ["p"]), n("Flatten", ["p"], ["y"])]
    scales = numpy_helper.from_array(np.array([1, 1, 1000, 1000], dtype=np.float32), "s")
    blow_up = [n("Resize", ["x", "", "s"], ["r"], mode="nearest"), n("GlobalAveragePool", ["r"], ["p"]), conv[2]]

    def relu(shape: list[int]) -> bytes:
        value = [helper.make_tensor_value_info(v, TensorProto.FLOAT, shape) for v in "xy"]
        graph = helper.make_graph([n("Relu", ["x"], ["y"])], "g", value[:1], value[1:])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()

    return {
        "data shorter than its dims": (onnx_bytes(conv, [short]), "holds other than the 108 values it claims"),
        "an input that is no image": (relu([1, 3, 8]), "does not take an image"),
        "no class scores": (
            relu([1, 3, 8, 8]),
            r"does not end in class scores: its output has the shape \(1, 3, 8, 8\)",
        ),
        "a Resize by 1000": (onnx_bytes(blow_up, [scales], classes=3), "activation values per image"),
        "a Cast to integers at run time": (
            onnx_bytes(
                [n("Cast", ["x"], ["i"], to=TensorProto.INT64), n("Cast", ["i"], ["x2"], to=TensorProto.FLOAT)]
                + [n("Conv", ["x2", "w"], ["c"]), *conv[1:]],
                [numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")],
            ),
            "a Cast node works on values computed at run time",
        ),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "data shorter than its dims",
        "an input that is no image",
        "no class scores",
        "a Resize by 1000",
        "a Cast to integers at run time",
    ],
)
def test_malformed_or_oversized_graphs_are_refused(kind, tmp_path):
    data, says = _bad_graphs()[kind]
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    with pytest.raises(OnnxError, match=says):
        load_model(str(path), device="cpu")
