"""Deletion/insertion curves against hand-computed probabilities; FGSM against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.explain import adversarial as A
from cnnviz.explain import faithfulness as FA
from testing.helpers import fgsm_by_hand, hook_count, targeted_by_hand, wrap


def linear_two_class(w: torch.Tensor) -> nn.Module:
    """logit0 = Σ w·x, logit1 = 0, so p(class 0) = sigmoid(Σ w·x). Has a conv so it is a CNN."""
    n = w.numel()
    model = nn.Sequential()
    model.add_module("conv", nn.Conv2d(1, 1, 1, bias=False))
    model.add_module("flat", nn.Flatten())
    model.add_module("fc", nn.Linear(n, 2, bias=False))
    with torch.no_grad():
        model.conv.weight.fill_(1.0)
        model.fc.weight.zero_()
        model.fc.weight[0] = w.ravel()
    return model


def sigmoid(v: float) -> float:
    return 1 / (1 + np.exp(-v))


def test_deletion_curve_by_hand():
    # 2×2 image, w = 1 everywhere: the score is the sum of the pixels left.
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    lm = wrap(linear_two_class(torch.ones(4)), size=2, channels=1, classes=2, layer="conv")
    importance = np.array([[0.1, 0.9], [0.5, 0.2]])  # order: 2.0, 3.0, 4.0, 1.0
    c = FA.curves(lm, x, importance, target=0, steps=4)
    want = [sigmoid(10), sigmoid(8), sigmoid(5), sigmoid(1), sigmoid(0)]
    np.testing.assert_allclose(c.fractions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(c.deletion, want, atol=1e-6)
    assert c.deletion_auc == pytest.approx(np.trapezoid(want, dx=0.25), abs=1e-6)


def test_insertion_curve_starts_blurred_and_adds_pixels_back():
    from torchvision.transforms.functional import gaussian_blur

    torch.manual_seed(1)
    x = torch.randn(1, 1, 14, 14)
    w = torch.randn(196) / 10
    lm = wrap(linear_two_class(w), size=14, channels=1, classes=2, layer="conv")
    importance = np.random.default_rng(0).random((14, 14))
    c = FA.curves(lm, x, importance, target=0, steps=7)
    blur = gaussian_blur(x, [3, 3], [1.0, 1.0])[0, 0].ravel().numpy()  # k = max(3, 14//7 | 1) = 3
    order = np.argsort(-importance.ravel())
    want = []
    for f in np.linspace(0, 1, 8):
        img = blur.copy()
        k = round(f * 196)
        img[order[:k]] = x.ravel().numpy()[order[:k]]
        want.append(sigmoid(float(w.numpy() @ img)))
    np.testing.assert_allclose(c.insertion, want, atol=1e-5)


def test_pixel_order_resizes_and_breaks_ties_stably():
    order = FA.pixel_order(np.array([[1.0, 1.0], [0.0, 2.0]]), (2, 2))
    np.testing.assert_array_equal(order, [3, 0, 1, 2])
    assert FA.pixel_order(np.ones((7, 7)), (14, 14)).shape == (196,)


def test_gradcam_beats_random_on_efficientnet(effnet, hopper_bytes):
    from cnnviz.explain import explain
    from cnnviz.inputs.images import decode_image

    x = effnet.preprocess(decode_image(hopper_bytes))
    e = explain(effnet, x, "gradcam")
    res = FA.compare(effnet, x, {"gradcam": e.map}, e.target, steps=8)
    # deleting nothing keeps the model's own probability
    assert res["gradcam"].deletion[0] == pytest.approx(e.prob, abs=1e-4)
    assert res["gradcam"].deletion_auc < res["random"].deletion_auc
    assert res["gradcam"].insertion_auc > res["random"].insertion_auc


# ---------------------------------------------------------------- FGSM
def test_fgsm_equals_torch_step():
    torch.manual_seed(0)
    w = torch.randn(16)
    lm = wrap(linear_two_class(w), size=4, channels=1, classes=2, layer="conv")
    p = torch.rand(1, 1, 4, 4)
    t, adv = A.fgsm_pixels(lm, p, 0.1)
    # by hand: normalised z = (p - 0.5)/0.5, loss = CE(logits, t)
    pr = p.clone().requires_grad_()
    logits = lm.model((pr - 0.5) / 0.5)
    assert t == int(logits.argmax())
    (g,) = torch.autograd.grad(F.cross_entropy(logits, torch.tensor([t])), pr)
    np.testing.assert_allclose(adv.numpy(), (p + 0.1 * g.sign()).clamp(0, 1).numpy(), atol=1e-7)
    # the gradient of CE for a linear model points along -(1-p_t)·w for class 0: the sign is sign(∓w)
    expected_sign = -np.sign(w.numpy()) if t == 0 else np.sign(w.numpy())
    np.testing.assert_array_equal(g.sign().ravel().numpy(), expected_sign)


def test_fgsm_on_efficientnet_matches_fgsm_by_hand(effnet, hopper_bytes):
    """The adversarial picture is FGSM's: within ε of the clean one, in 0..1, equal to the step
    computed in plain torch; the top-1 before and after (and so "fooled") are that model's."""
    from cnnviz.inputs.images import decode_image

    img = decode_image(hopper_bytes)
    eps = 2 / 255
    att = A.fgsm(effnet, img, eps)
    spec = effnet.preprocess_spec
    with effnet.use() as model:
        before, after, clean, adv = fgsm_by_hand(model, spec.crop(img), spec.mean, spec.std, eps)
    hwc = adv[0].permute(1, 2, 0).numpy()
    assert att.clean.shape == (224, 224, 3)
    np.testing.assert_allclose(att.clean, clean[0].permute(1, 2, 0).numpy(), atol=1e-6)
    # a pixel whose gradient is ~0 may take either sign: compare where the step is clear
    same = np.isclose(att.adversarial, hwc, atol=1e-6).mean()
    assert same > 0.999, same
    assert att.adversarial.min() >= 0 and att.adversarial.max() <= 1
    assert np.abs(att.adversarial - att.clean).max() <= eps + 1e-6
    assert att.target == att.before[0].index == before and att.after[0].index == after
    assert att.fooled is (after != before)
    # the attacked class loses probability
    p_before = {t.index: t.prob for t in att.before}[att.target]
    after_probs = torch.softmax(torch.from_numpy(att.cam_after.logits).double(), 0)
    assert float(after_probs[att.target]) < p_before
    assert hook_count(effnet.model) == 0
    assert all(not p.requires_grad for p in effnet.model.parameters())
    zero = A.fgsm(effnet, img, 0.0)
    assert not np.abs(zero.perturbation).any() and not zero.fooled


def test_fgsm_one_channel():
    lm = wrap(linear_two_class(torch.linspace(-1, 1, 64)), size=8, channels=1, classes=2, layer="conv")
    img = Image.fromarray((np.arange(64).reshape(8, 8) * 4).astype(np.uint8)).convert("RGB")
    att = A.fgsm(lm, img, 8 / 255)
    assert att.clean.shape == (8, 8, 1)
    assert A.amplified(att.perturbation, att.eps).shape == (8, 8, 3)


# ---------------------------------------------------------------- targeted attack
def test_targeted_attack_reaches_its_class_within_eps_like_pgd_by_hand():
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("conv", nn.Conv2d(1, 3, 3, padding=1))
    model.add_module("act", nn.ReLU())
    model.add_module("flat", nn.Flatten())
    model.add_module("fc", nn.Linear(3 * 36, 4))
    lm = wrap(model, size=6, channels=1, classes=4, layer="act")
    img = Image.fromarray((np.random.default_rng(0).random((6, 6)) * 255).astype(np.uint8)).convert("RGB")
    clean = lm.preprocess_spec.pixels(img)
    with torch.no_grad():
        start = int(model(lm.preprocess_spec.normalize(clean))[0].argmax())
    goal = (start + 1) % 4
    eps = 0.25
    att = A.fgsm(lm, img, eps, goal=goal)
    want = targeted_by_hand(model, clean, lm.preprocess_spec.mean, lm.preprocess_spec.std, eps, goal, A.TARGETED_STEPS)
    np.testing.assert_allclose(att.adversarial, want[0].permute(1, 2, 0).numpy(), atol=1e-6)
    assert att.before[0].index == start and att.after[0].index == goal and att.reached and att.fooled
    assert np.abs(att.perturbation).max() <= eps + 1e-6
    assert att.adversarial.min() >= 0 and att.adversarial.max() <= 1
    with torch.no_grad():  # the prediction, recomputed from the returned pixels
        adv = torch.from_numpy(att.adversarial).permute(2, 0, 1)[None]
        assert int(model(lm.preprocess_spec.normalize(adv))[0].argmax()) == goal
    assert hook_count(model) == 0
    with pytest.raises(CnnvizError):
        A.fgsm(lm, img, eps, goal=9)


def test_targeted_attack_on_efficientnet(effnet, hopper_bytes):
    from cnnviz.inputs.images import decode_image

    img = decode_image(hopper_bytes)
    eps = 2 / 255
    att = A.fgsm(effnet, img, eps, goal=285)  # Egyptian cat
    spec = effnet.preprocess_spec
    with effnet.use() as model:
        want = targeted_by_hand(model, spec.pixels(img), spec.mean, spec.std, eps, 285, A.TARGETED_STEPS)
        with torch.no_grad():
            top = int(model(spec.normalize(want))[0].argmax())
    np.testing.assert_allclose(att.adversarial, want[0].permute(1, 2, 0).numpy(), atol=1e-5)
    assert att.after[0].index == top and att.goal == 285 and att.reached == (top == 285)
    assert np.abs(att.adversarial - att.clean).max() <= eps + 1e-6
    assert all(not p.requires_grad for p in effnet.model.parameters())
