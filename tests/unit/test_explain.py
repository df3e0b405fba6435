"""Grad-CAM and friends checked against direct torch computations, captum and pytorch-grad-cam."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz import explain as E
from cnnviz import render
from cnnviz.errors import CnnvizError
from cnnviz.inside.catalogue import sweep_layers
from cnnviz.inside.predict import predict
from cnnviz.models.fast_copy import PackedConv2d, make_fast_copy
from cnnviz.models.loaded_model import LoadedModel
from testing.helpers import hook_count, wrap


class Tiny(nn.Sequential):
    """1-channel 8×8 → 3 classes: conv 3×3 (2 ch), act, conv 3×3 (2 ch), act, GAP, linear."""

    def __init__(self, act=nn.ReLU):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, padding=1)
        self.act1 = act()
        self.conv2 = nn.Conv2d(2, 2, 3, padding=1)
        self.act2 = act()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(2, 3)
        with torch.no_grad():  # hand-set: small, distinct weights (activations stay below 6)
            self.conv1.weight.copy_(torch.arange(18.0).reshape(2, 1, 3, 3).sub(8).div(20))
            self.conv1.bias.copy_(torch.tensor([0.1, -0.05]))
            self.conv2.weight.copy_(torch.arange(36.0).reshape(2, 2, 3, 3).sub(17).div(30).flip(-1))
            self.conv2.bias.copy_(torch.tensor([0.6, 0.2]))
            self.fc.weight.copy_(torch.tensor([[1.0, -0.5], [-0.7, 1.2], [0.3, 0.4]]))
            self.fc.bias.copy_(torch.tensor([0.0, 0.1, -0.1]))


def tiny_input(seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def direct_gradcam(model: nn.Module, x: torch.Tensor, layer: str, target: int, *, signed: bool = False) -> np.ndarray:
    """Grad-CAM written out: a forward hook keeps the layer output, autograd.grad of the score.
    The forward goes on with a copy, so an in-place op after the layer (ResNet's residual add)
    cannot change the kept output."""
    kept = {}

    def keep(_m, _i, o):
        if "a" not in kept:
            kept["a"] = o
            return o.clone()
        return None

    h = dict(model.named_modules())[layer].register_forward_hook(keep)
    try:
        with torch.enable_grad():
            xr = x.clone().requires_grad_()  # something must require grad for a graph to exist
            score = model(xr)[0, target]
            (g,) = torch.autograd.grad(score, kept["a"])
    finally:
        h.remove()
    a = kept["a"].detach()
    cam = (g.mean(dim=(2, 3), keepdim=True) * a).sum(1)[0]  # before Grad-CAM's ReLU when signed
    return (cam if signed else torch.relu(cam)).numpy()


# ---------------------------------------------------------------- Grad-CAM
class _SpatialSum(nn.Module):
    """(N, C, H, W) -> (N, C): each map's sum weighted by a fixed (H, W) mask, so the gradient
    reaching a unit depends on where it is (a plain average pool gives every unit the same)."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return (a * self.mask).sum((2, 3))


def test_gradcam_by_hand_with_gradients_that_differ_across_the_map():
    # layer output A (2 channels of 2×2) → Σ_ij M_ij·A_c,ij → linear W: d score_t / d A_c,ij =
    # W[t, c]·M_ij, a different gradient at each unit. Grad-CAM's channel weight is its mean,
    # W[t, c]·mean(M) (a max would give W[t, c]·max(M)), so Grad-CAM = relu(Σ_c W[t, c]·mean(M)·A_c).
    mask = torch.tensor([[1.0, 2.0], [3.0, 6.0]])  # mean 3, max 6
    model = nn.Sequential()
    model.add_module("conv", nn.Conv2d(1, 2, 1, bias=False))
    model.add_module("sum", _SpatialSum(mask))
    model.add_module("fc", nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model.conv.weight.copy_(torch.tensor([1.0, -2.0]).reshape(2, 1, 1, 1))
        model.fc.weight.copy_(torch.tensor([[3.0, 1.0], [0.0, 1.0]]))
    lm = wrap(model, size=2, channels=1, classes=2, layer="conv")
    x = torch.tensor([[[[1.0, -1.0], [2.0, 0.5]]]])
    e = E.explain(lm, x, "gradcam", target=0)
    # A_0 = x, A_1 = -2x; weights 3·3 and 1·3 → 9x - 6x = 3x
    np.testing.assert_allclose(e.signed, 3.0 * x[0, 0].numpy(), atol=1e-6)
    np.testing.assert_allclose(e.map, [[3.0, 0.0], [6.0, 1.5]], atol=1e-6)
    # logits: Σ M·x = 1 - 2 + 6 + 3 = 8 → [3·8 - 2·8, -2·8] = [8, -16]
    np.testing.assert_allclose(e.logits, [8.0, -16.0], atol=1e-5)
    assert e.prob == pytest.approx(1 / (1 + np.exp(-24.0)), abs=1e-9)


@pytest.mark.parametrize("layer", ["act1", "act2", "conv2"])
def test_gradcam_equals_direct_computation_tiny(layer):
    lm = wrap(Tiny(), size=8, channels=1, classes=3, layer="act2")
    x = tiny_input()
    for target in range(3):
        e = E.explain(lm, x, "gradcam", target=target, layer=layer)
        np.testing.assert_allclose(e.map, direct_gradcam(lm.model, x, layer, target), atol=1e-6)
        assert e.target == target and e.map.shape == (8, 8)


def test_gradcam_default_target_is_top1():
    lm = wrap(Tiny(), size=8, channels=1, classes=3, layer="act2")
    x = tiny_input(3)
    e = E.explain(lm, x, "gradcam")
    with torch.no_grad():
        logits = lm.model(x)[0]
    assert e.target == int(logits.argmax())
    np.testing.assert_allclose(e.logits, logits.numpy(), atol=1e-6)


def test_gradcam_equals_captum_on_efficientnet(effnet, hopper_bytes):
    from captum.attr import LayerGradCam

    from cnnviz.inputs.images import decode_image

    x = effnet.preprocess(decode_image(hopper_bytes))
    for layer, target in [("head.act", None), ("blocks.10", 281)]:
        e = E.explain(effnet, x, "gradcam", layer=layer, target=target)
        with effnet.use() as model:
            ref = LayerGradCam(model, dict(model.named_modules())[layer]).attribute(x, target=e.target)
        np.testing.assert_allclose(e.map, torch.relu(ref)[0, 0].detach().numpy(), atol=1e-6)
    assert e.target == 281


def test_gradcam_backward_stops_at_the_layer(effnet):
    # The fast path: no layer below the explained one sees a tensor that requires grad.
    seen = {}

    def spy(name):
        def hook(_m, _i, out):
            seen[name] = out.requires_grad

        return hook

    with effnet.use() as model:
        hs = [
            model.stem.conv.register_forward_hook(spy("stem")),
            model.head.conv.register_forward_hook(spy("head")),
            model.classifier.register_forward_hook(spy("fc")),
        ]
    try:
        E.explain(effnet, torch.zeros(1, 3, 224, 224), "gradcam", layer="head.act")
    finally:
        for h in hs:
            h.remove()
    assert seen == {"stem": False, "head": False, "fc": True}
    assert all(not p.requires_grad and p.grad is None for p in effnet.model.parameters())


# ---------------------------------------------------------------- Grad-CAM++ and the sweep
def test_gradcampp_matches_pytorch_grad_cam(effnet, hopper_bytes):
    from pytorch_grad_cam import GradCAMPlusPlus
    from pytorch_grad_cam.utils.image import scale_cam_image
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from cnnviz.inputs.images import decode_image

    x = effnet.preprocess(decode_image(hopper_bytes))
    ours = E.explain(effnet, x, "gradcampp", layer="head.act")
    with effnet.use() as model:
        for p in model.parameters():  # pytorch-grad-cam needs a full graph; use() restores this
            p.requires_grad_(True)
        with GradCAMPlusPlus(model, target_layers=[model.head.act]) as cam:
            ref = cam(input_tensor=x, targets=[ClassifierOutputTarget(ours.target)])[0]
    # their pipeline: min-max + resize per layer, then min-max again after averaging layers
    mine = scale_cam_image(scale_cam_image(ours.map[None], (224, 224)))[0]
    np.testing.assert_allclose(mine, ref, atol=1e-4)
    assert float(ref.max()) == pytest.approx(1.0, abs=1e-5)


def test_gradcampp_weights_by_hand():
    # Uniform gradient g per channel: alpha = g²/(2g² + ΣA·g³) at every position.
    a = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.5, 0.5], [0.5, 0.5]]]])  # (1, 2, 2, 2)
    g = torch.tensor([0.5, -1.0])[None, :, None, None].expand(1, 2, 2, 2)
    cam = E.GradCAMPlusPlus().cam(a, g)
    alpha0 = 0.25 / (0.5 + 10 * 0.125 + 1e-6)  # channel 1 has g < 0: relu(g) = 0
    w0 = 4 * alpha0 * 0.5
    np.testing.assert_allclose(cam.numpy(), w0 * a[0, 0].numpy(), rtol=1e-6)


def test_sweep_equals_layergradcam_per_layer(effnet, hopper_bytes):
    from captum.attr import LayerGradCam

    from cnnviz.inputs.images import decode_image

    x = effnet.preprocess(decode_image(hopper_bytes))
    s = E.sweep(effnet, x)
    assert s.layers == ["stem", *[f"blocks.{i}" for i in range(16)], "head"]
    assert s.maps[0].shape == (112, 112) and s.maps[-1].shape == (7, 7)
    with effnet.use() as model:
        mods = dict(model.named_modules())
        for name, m in zip(s.layers, s.maps, strict=True):
            ref = LayerGradCam(model, mods[name]).attribute(x, target=s.target, relu_attributions=True)[0, 0]
            np.testing.assert_allclose(m, ref.detach().numpy(), atol=1e-6, err_msg=name)


def test_sweep_layers_generic():
    from cnnviz.models.zoo import load_model

    assert sweep_layers(load_model("resnet18", "random", device="cpu").model) == [
        "relu",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
    ]
    assert sweep_layers(Tiny()) == ["act1", "act2"]


# ---------------------------------------------------------------- pixel methods
def test_saliency_equals_torch_gradient():
    lm = wrap(Tiny(), size=8, channels=1, classes=3, layer="act2")
    x = tiny_input(1)
    e = E.explain(lm, x, "saliency", target=2)
    xr = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(lm.model(xr)[0, 2], xr)
    np.testing.assert_allclose(e.map, g.abs()[0].amax(0).numpy(), atol=1e-7)


def test_integrated_gradients_completeness():
    lm = wrap(Tiny(), size=8, channels=1, classes=3, layer="act2")
    x = tiny_input(2)
    e = E.explain(lm, x, "ig", target=1, ig_steps=64)
    black = torch.full_like(x, -1.0)  # (0 - 0.5) / 0.5
    with torch.no_grad():
        diff = float(lm.model(x)[0, 1] - lm.model(black)[0, 1])
    assert float(e.map.sum()) == pytest.approx(diff, rel=0.02, abs=1e-3)


def test_occlusion_of_a_linear_model_by_hand():
    # score = Σ w·x; hiding a window drops the score by Σ_window w·x; captum averages over
    # the windows that cover each pixel.
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("conv", nn.Conv2d(1, 1, 1, bias=False))
    model.add_module("flat", nn.Flatten())
    model.add_module("fc", nn.Linear(20 * 20, 2))
    lm = wrap(model, size=20, channels=1, classes=2, layer="conv")
    x = torch.randn(1, 1, 20, 20)
    e = E.explain(lm, x, "occlusion", target=0)
    contrib = (model.conv.weight.item() * model.fc.weight[0].reshape(20, 20) * x[0, 0]).numpy()
    win, stride = E.occlusion_window(20)
    total, count = np.zeros((20, 20)), np.zeros((20, 20))
    for r in range(0, 20 - win + 1, stride):
        for c in range(0, 20 - win + 1, stride):
            total[r : r + win, c : c + win] += contrib[r : r + win, c : c + win].sum()
            count[r : r + win, c : c + win] += 1
    np.testing.assert_allclose(e.map, total / np.maximum(count, 1), atol=1e-4)


class _GuidedReLU(torch.autograd.Function):
    """ReLU whose backward passes only positive gradients, where its input was positive: the
    guided-backpropagation rule (Springenberg et al.), written out."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g.clamp(min=0) * (x > 0)


def guided_gradcam_by_hand(m: Tiny, x: torch.Tensor, target: int) -> np.ndarray:
    """Guided Grad-CAM of Tiny at act2, by hand: the guided gradient of the score (every ReLU
    guided) times Grad-CAM at act2 (8×8, the input's size), then |·| and the channels' max."""
    cam = torch.from_numpy(direct_gradcam(m, x, "act2", target))
    with torch.enable_grad():
        xr = x.clone().requires_grad_()
        a = _GuidedReLU.apply(m.conv2(_GuidedReLU.apply(m.conv1(xr))))
        (g,) = torch.autograd.grad(m.fc(m.flat(m.pool(a)))[0, target], xr)
    return (g * cam).abs()[0].amax(0).numpy()


def test_guided_gradcam_relu6_gets_the_guided_rule_and_leaves_no_hooks():
    from captum.attr import GuidedGradCam

    relu6 = wrap(Tiny(nn.ReLU6), size=8, channels=1, classes=3, layer="act2")
    differs = []
    for seed in range(4):
        x = tiny_input(seed)
        with torch.no_grad():
            assert float(relu6.model.act1(relu6.model.conv1(x)).max()) < 6  # ReLU6 acts as ReLU here
        for target in range(3):
            ours = E.explain(relu6, x, "guided_gradcam", target=target)
            np.testing.assert_allclose(ours.map, guided_gradcam_by_hand(relu6.model, x, target), atol=1e-6)
            # captum alone does not guide ReLU6: its "guided" gradient is the plain one
            plain = GuidedGradCam(relu6.model, relu6.model.act2).attribute(x.clone(), target=target).detach()
            differs.append(not np.allclose(plain.abs()[0].amax(0).numpy(), ours.map))
    assert any(differs)
    assert hook_count(relu6.model) == 0


def test_guided_gradcam_equals_captums_on_in_place_relus():
    """On a model whose ReLUs are nn.ReLU (ResNet's, in place), Guided Grad-CAM is captum's
    GuidedGradCam to float rounding: the guided rule of cnnviz.trace is captum's."""
    from captum.attr import GuidedGradCam

    lm = bn_resnet()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    for layer, target in [("layer4", 3), ("layer2.1.conv2", 7)]:
        ours = E.explain(lm, x, "guided_gradcam", layer=layer, target=target).map
        module = lm.model.get_submodule(layer)
        ref = GuidedGradCam(lm.model, module).attribute(x.clone(), target=target).detach().abs()[0].amax(0).numpy()
        assert ref.max() > 0
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6 * ref.max())
    assert hook_count(lm.model) == 0


@pytest.mark.parametrize("method", list(E.METHODS))
def test_every_method_on_one_channel_model(method):
    lm = wrap(Tiny(), size=8, channels=1, classes=3, layer="act2")
    e = E.explain(lm, tiny_input(5), method)
    assert e.map.shape == (8, 8) and np.isfinite(e.map).all() and e.seconds > 0
    assert e.map.any() and e.target == int(np.argmax(e.logits))
    assert hook_count(lm.model) == 0
    assert all(not p.requires_grad and p.grad is None for p in lm.model.parameters())


# ---------------------------------------------------------------- errors, state and threads
@pytest.mark.parametrize("kwargs", [dict(layer="nope"), dict(target=3), dict(target=-1), dict(layer="fc")])
@pytest.mark.parametrize("method", ["gradcam", "gradcampp", "guided_gradcam"])
def test_bad_input_is_a_clear_error_and_leaves_model_clean(method, kwargs):
    lm = wrap(Tiny(), size=8, channels=1, classes=3, layer="act2")
    lm.model.train()  # use() must put it back in train mode afterwards
    with pytest.raises(CnnvizError) as err:
        E.explain(lm, tiny_input(), method, **kwargs)
    assert str(err.value).endswith(".") and "\n" not in str(err.value)
    assert hook_count(lm.model) == 0 and lm.model.training
    assert all(not p.requires_grad and p.grad is None for p in lm.model.parameters())


def test_unknown_method_is_a_clear_error():
    lm = wrap(Tiny(), size=8, channels=1, classes=3, layer="act2")
    with pytest.raises(CnnvizError, match="Unknown method"):
        E.explain(lm, tiny_input(), "lime")


def test_many_threads_equal_serial_results():
    lm = wrap(Tiny(), size=8, channels=1, classes=3, layer="act2")
    jobs = [
        (m, seed, seed % 3)
        for seed in range(12)
        for m in ("gradcam", "gradcampp", "guided_gradcam", "saliency", "sweep", "bad")
    ]

    def run(job):
        method, seed, target = job
        x = tiny_input(seed)
        if method == "bad":  # failures in some threads must not disturb the others
            with pytest.raises(CnnvizError):
                E.explain(lm, x, "gradcam", layer="missing")
            return None
        if method == "sweep":
            return np.concatenate([m.ravel() for m in E.sweep(lm, x, target=target).maps])
        return E.explain(lm, x, method, target=target).map

    serial = [run(j) for j in jobs]
    barrier = threading.Barrier(16)

    def run_together(job):
        if jobs.index(job) < 16:
            barrier.wait()
        return run(job)

    with ThreadPoolExecutor(16) as pool:
        threaded = list(pool.map(run_together, jobs * 3))
    for i, got in enumerate(threaded):
        want = serial[i % len(jobs)]
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, atol=1e-6)
    assert hook_count(lm.model) == 0


def test_threads_on_efficientnet_equal_serial(effnet, hopper_bytes):
    from cnnviz.inputs.gallery import SAMPLES, sample_bytes
    from cnnviz.inputs.images import decode_image

    names = ["grace_hopper", "chelsea", "coffee", "rocket"]
    assert set(names) <= set(SAMPLES)
    xs = [effnet.preprocess(decode_image(sample_bytes(n))) for n in names]
    jobs = [(i, t) for i in range(4) for t in (None, 1)]
    serial = [E.explain(effnet, xs[i], "gradcam", target=t).map for i, t in jobs]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda j: E.explain(effnet, xs[j[0]], "gradcam", target=j[1]).map, jobs))
    for a, b in zip(threaded, serial, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert hook_count(effnet.model) == 0


# ---------------------------------------------------------------- display
def test_display_signed_and_normalised():
    m = np.array([[-2.0, 1.0], [0.5, 0.0]], dtype=np.float32)
    d = render.display(m, signed=True)
    assert (d.vmin, d.vmax) == (-2.0, 2.0) and d.cmap == "RdBu_r"
    n = render.display(m, signed=False, cmap="viridis")
    np.testing.assert_array_equal(n.heat, [[0, 1], [0.5, 0]])
    assert (n.vmin, n.vmax, n.cmap) == (0.0, 1.0, "viridis")


# ---------------------------------------------------------------- the faster copy Grad-CAM runs on
def bn_resnet() -> LoadedModel:
    """torchvision's ResNet-18 (10 classes, 64×64 input) with BatchNorm statistics and affine
    terms far from identity, so folding them into the convs changes every conv's weights."""
    from torchvision.models import resnet18

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = resnet18(num_classes=10)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.normal_(0, 0.2)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.2)
    return wrap(model, size=64, channels=3, classes=10, layer="layer4")


def assert_close_maps(ours: np.ndarray, ref: np.ndarray) -> None:
    # float rounding of a folded conv (a·(w·x) vs (a·w)·x): relative to the map's scale
    scale = float(np.abs(ref).max())
    assert scale > 0
    np.testing.assert_allclose(ours, ref, atol=1e-4 * scale)


def test_fast_copy_folds_every_conv_bn_pair_of_resnet18():
    lm = bn_resnet()
    fast = make_fast_copy(lm.model, torch.randn(1, 3, 64, 64))
    convs = {n for n, m in lm.model.named_modules() if isinstance(m, nn.Conv2d)}
    assert len(convs) == 20 and fast.folded == convs  # every ResNet-18 conv feeds a BatchNorm
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.model.modules())
    assert [n for n, _ in fast.model.named_modules()] == [n for n, _ in lm.model.named_modules()]
    assert fast.model.layer1[0].conv1.weight.is_contiguous(memory_format=torch.channels_last)
    packed = {n for n, m in fast.model.named_modules() if isinstance(m, PackedConv2d)}
    assert packed == (convs if torch.backends.mkldnn.is_available() else set())
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = lm.model(x)
        np.testing.assert_allclose(fast.model(x).numpy(), want.numpy(), atol=1e-5 * float(want.abs().max()))


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="packing is oneDNN's (every x86 torch has it)")
@pytest.mark.parametrize(
    ("cin", "cout", "k", "stride", "padding", "dilation", "groups", "bias"),
    [
        (3, 8, 3, 1, 1, 1, 1, True),
        (8, 16, 3, 2, 0, 1, 1, False),
        (8, 8, 5, 1, 2, 2, 8, True),
        (6, 4, 1, 1, 0, 1, 2, False),
    ],
)
def test_packed_conv_computes_the_conv_with_and_without_gradients(
    cin, cout, k, stride, padding, dilation, groups, bias
):
    g = torch.Generator().manual_seed(cin * cout + k)
    conv = nn.Conv2d(cin, cout, k, stride, padding, dilation, groups, bias).to(memory_format=torch.channels_last)
    packed = PackedConv2d.pack(conv, torch.Size((1, cin, 20, 20)))
    assert packed.weight is conv.weight and packed.bias is conv.bias
    for size in ((20, 20), (13, 29)):  # the shape it was packed for, and another
        x = torch.randn(1, cin, *size, generator=g).contiguous(memory_format=torch.channels_last)
        want = torch.nn.functional.conv2d(x, conv.weight, conv.bias, stride, padding, dilation, groups)
        with torch.no_grad():
            torch.testing.assert_close(packed(x), want, rtol=1e-5, atol=1e-5)
        x.requires_grad_(True)  # a gradient must flow: the plain conv runs, and autograd sees it
        out = packed(x)
        assert out.grad_fn is not None
        (gx,) = torch.autograd.grad((out**2).sum(), x)
        (want_gx,) = torch.autograd.grad((conv(x) ** 2).sum(), x)
        torch.testing.assert_close(gx, want_gx)


@pytest.mark.parametrize("layer", ["layer4", "layer3.1.bn2", "layer2.0.relu", "layer1"])
def test_gradcam_on_the_fast_copy_equals_direct_computation(layer):
    lm = bn_resnet()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with lm.use() as model:
        assert lm.fast_copy(model, [layer], x) is not model  # the fast path is the one tested
    for target in (0, 7):
        e = E.explain(lm, x, "gradcam", target=target, layer=layer)
        assert_close_maps(e.signed, direct_gradcam(lm.model, x, layer, target, signed=True))
    with torch.no_grad():
        np.testing.assert_allclose(e.logits, lm.model(x)[0].numpy(), atol=1e-5)


def test_gradcam_at_a_folded_conv_runs_on_the_model_itself():
    lm = bn_resnet()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    with lm.use() as model:
        assert lm.fast_copy(model, ["layer4.1.conv2"], x) is model  # its output lost its own tensor
    e = E.explain(lm, x, "gradcam", target=3, layer="layer4.1.conv2")
    np.testing.assert_allclose(e.map, direct_gradcam(lm.model, x, "layer4.1.conv2", 3), atol=1e-6)


def test_fast_copy_follows_weights_written_in_place_and_steps_aside_for_hooks():
    lm = bn_resnet()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    E.explain(lm, x, "gradcam", target=1)  # makes the copy
    with lm.use() as model, torch.no_grad():
        model.layer4[1].bn2.running_mean.add_(0.5)
        model.fc.weight.mul_(-1)
    e = E.explain(lm, x, "gradcam", target=1)
    assert_close_maps(e.signed, direct_gradcam(lm.model, x, "layer4", 1, signed=True))
    with lm.use() as model:
        h = model.layer1.register_forward_hook(lambda m, i, o: None)
        try:
            assert lm.fast_copy(model, ["layer4"], x) is model
        finally:
            h.remove()
        assert lm.fast_copy(model, ["layer4"], x) is not model


def test_fast_copy_does_not_fold_what_it_cannot_prove_is_conv_then_bn():
    class Odd(nn.Module):
        """conv→bn, then the same conv again without bn; conv2→bn2 alone; conv3's output read by
        bn3 and by the sum (a skip of the raw conv output)."""

        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.conv2, self.bn2, self.conv3, self.bn3 = (
                nn.Conv2d(3, 3, 1),
                nn.BatchNorm2d(3),
                nn.Conv2d(3, 3, 1),
                nn.BatchNorm2d(3),
                nn.Conv2d(3, 3, 1),
                nn.BatchNorm2d(3),
            )

        def forward(self, x):
            y = self.conv3(x)
            return self.bn(self.conv(x)) + self.conv(x) + self.bn2(self.conv2(x)) + self.bn3(y) + y

    odd = Odd().eval()
    for bn in (odd.bn, odd.bn2, odd.bn3):  # statistics far from identity: a wrong fold shows
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.2, 3)
    x = torch.randn(1, 3, 8, 8)
    fast = make_fast_copy(odd, x)
    assert fast.folded == {"conv2"}
    with torch.no_grad():
        np.testing.assert_allclose(fast.model(x).numpy(), odd(x).numpy(), atol=1e-5)


def test_fast_copy_is_made_without_touching_other_threads_forwards():
    """Making the copy records one forward with a thread-local TorchFunctionMode and hooks on the
    copy: another thread's forwards meanwhile give exactly their usual result (torch.fx tracing
    patched nn.Module.__call__ for every thread and broke them)."""
    import threading

    lm = bn_resnet()
    other = bn_resnet().model
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        want = other(x)
    stop, bad = threading.Event(), []

    def forwards():
        while not stop.is_set():
            with torch.no_grad():
                try:
                    if not torch.equal(other(x), want):
                        bad.append("changed")
                except Exception as e:  # noqa: BLE001 - any failure is the finding
                    bad.append(repr(e))

    t = threading.Thread(target=forwards)
    t.start()
    try:
        for _ in range(5):
            make_fast_copy(lm.model, x)
    finally:
        stop.set()
        t.join()
    assert bad == []


def test_gradcam_on_the_fast_copy_stops_backward_at_the_layer():
    lm, seen = bn_resnet(), {}
    with lm.use() as model:
        fast = lm.fast_copy(model, ["layer3"], torch.randn(1, 3, 64, 64))
    hs = [
        getattr(fast, n).register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, o.requires_grad))
        for n in ("layer2", "layer4", "fc")
    ]
    try:
        E.explain(lm, torch.zeros(1, 3, 64, 64), "gradcam", layer="layer3", target=0)
    finally:
        for h in hs:
            h.remove()
    assert seen == {"layer2": False, "layer4": True, "fc": True}
    assert all(not p.requires_grad and p.grad is None for p in fast.parameters())


def test_fast_copies_made_up_front_serve_every_replica(monkeypatch):
    """make_fast_copies (the app calls it when it loads a model) makes each replica's copy, so
    no Grad-CAM on any replica pays for making one; the maps are the direct computation's."""
    lm = bn_resnet()
    lm.add_replicas(2)
    lm.make_fast_copies()
    made = []
    monkeypatch.setattr("cnnviz.models.loaded_model.make_fast_copy", lambda *a, **k: made.append(a))
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(6))
    with ThreadPoolExecutor(3) as pool:  # three at once: each holds its own replica
        barrier = threading.Barrier(3)

        def one(target):
            with lm.use():
                barrier.wait(timeout=30)
                return E.explain(lm, x, "gradcam", target=target)

        maps = list(pool.map(one, [0, 1, 2]))
    assert made == []
    for target, e in enumerate(maps):
        assert_close_maps(e.signed, direct_gradcam(lm.model, x, "layer4", target, signed=True))


def test_a_fast_copy_first_made_by_a_prediction_serves_gradcam():
    """predict() runs on the fast copy inside inference_mode; the copy it makes there must still
    carry gradients for the Grad-CAM that follows (inference tensors cannot)."""
    lm = bn_resnet()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        want = lm.model(x)[0].numpy()
    np.testing.assert_allclose(predict(lm, x).logits, want, atol=1e-5 * float(np.abs(want).max()))
    e = E.explain(lm, x, "gradcam", target=2)
    assert_close_maps(e.signed, direct_gradcam(lm.model, x, "layer4", 2, signed=True))
