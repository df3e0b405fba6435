"""The slow explanation steps: their (cheaper) defaults against captum and hand computations,
and the progress they report (cnnviz.inside.progress) against the forwards that really ran."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, Occlusion
from torch import nn

from cnnviz import explain as E
from cnnviz.explain import faithfulness as FA
from testing.helpers import hook_count, wrap


def small_cnn(size: int = 16, classes: int = 3) -> nn.Module:
    """3 × size × size → classes: conv, ReLU, conv, ReLU, pool, linear; seeded weights."""
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("conv1", nn.Conv2d(3, 4, 3, padding=1))
    model.add_module("act1", nn.ReLU())
    model.add_module("conv2", nn.Conv2d(4, 4, 3, padding=1))
    model.add_module("act2", nn.ReLU())
    model.add_module("pool", nn.AdaptiveAvgPool2d(2))
    model.add_module("flat", nn.Flatten())
    model.add_module("fc", nn.Linear(16, classes))
    return model.eval()


class Rows:
    """Counts the pictures (batch rows) a model's forwards see: the independent tally."""

    def __init__(self, model: nn.Module):
        self.n = 0
        self.handle = model.register_forward_hook(self.count)

    def count(self, _m, inputs, _out):
        self.n += inputs[0].shape[0]


def check_progress(calls: list[tuple[float, str]], total: int, what: str) -> None:
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == pytest.approx(1.0)
    assert fractions == sorted(fractions)
    assert calls[-1][1] == f"{what}: {total} of {total} pictures"


def test_integrated_gradients_even_grid_equals_captum_with_the_same_points():
    """The first, even grid is captum's trapezoid rule with the same points, times n/(n−1)
    (captum's trapezoid weights add up to (n−1)/n); the progress counts the pictures."""
    model = small_cnn()
    lm = wrap(model, size=16, channels=3, classes=3, layer="act2")
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    black = lm.preprocess_spec.normalize(torch.zeros_like(x))
    calls: list = []
    attr, check = E.integrated_gradients(
        model, x, black, 2, E.IG_STEPS, max_steps=E.IG_STEPS, progress=lambda f, t: calls.append((f, t))
    )
    ref = IntegratedGradients(model).attribute(
        x.clone(), baselines=black, target=2, n_steps=E.IG_STEPS, method="riemann_trapezoid"
    )
    n = E.IG_STEPS
    np.testing.assert_allclose(attr.numpy(), ref.detach().numpy() * n / (n - 1), rtol=1e-4, atol=1e-6)
    assert check.steps == n and check.total == pytest.approx(float(attr.sum()), rel=1e-5)
    with torch.no_grad():
        assert check.change == pytest.approx(float(model(x)[0, 2] - model(black)[0, 2]), rel=1e-5)
    # the 17 path points went through in batches of IG_BATCH, each reported once
    check_progress(calls, n, "Integrated Gradients")
    assert len(calls) == 1 + -(-n // E.IG_BATCH)
    assert hook_count(model) == 0


class Ramp(nn.Sequential):
    """score 0 = clamp(w·x + b, 0, 1), score 1 its negative: along the path from ``base`` to ``x``
    the score rises from 0 to 1 between α = 0.30 and 0.33 only, narrower than a 1/16 grid step
    (as EfficientNet's score jumps near the black picture). Integrated Gradients by hand: the
    gradient is w inside the ramp and 0 outside, the ramp lasts 1/D of the path
    (D = w·(x − base)), so attribution_i = (x_i − base_i) · w_i / D (``exact``; sum 1)."""

    def __init__(self, x: torch.Tensor, base: torch.Tensor, start: float = 0.30, width: float = 0.03):
        super().__init__()
        self.flat = nn.Flatten()
        self.lin = nn.Linear(x.numel(), 1)
        self.ramp = nn.Hardtanh(0.0, 1.0)
        self.out = nn.Linear(1, 2, bias=False)
        with torch.no_grad():
            w = torch.rand(x.numel(), generator=torch.Generator().manual_seed(4)) + 0.5
            d = float(w @ (x - base).flatten())
            w *= (1 / width) / d  # the ramp takes ``width`` of the path
            self.lin.weight.copy_(w[None])
            self.lin.bias.fill_(-start / width - float(w @ base.flatten()))
            self.out.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        self.exact = ((x - base).flatten() * w / float(w @ (x - base).flatten())).reshape(x.shape)


def test_integrated_gradients_refines_where_the_score_jumps():
    """A 17-point grid misses a jump narrower than its step (the sum is ~100 % off); refining
    the intervals with the largest known error brings it within 5 %, and each pixel's
    attribution then matches the hand-computed integral."""
    x = torch.rand(1, 1, 4, 4, generator=torch.Generator().manual_seed(5))
    base = torch.full_like(x, -1.0)
    model = Ramp(x, base).eval()
    with torch.no_grad():
        assert float(model(x)[0, 0] - model(base)[0, 0]) == pytest.approx(1.0)
    coarse, first = E.integrated_gradients(model, x, base, 0, 17, max_steps=17)
    assert abs(first.gap) > 0.5 and not first.within(E.IG_TOLERANCE)
    assert "off by" in first.sentence(E.IG_TOLERANCE)
    attr, check = E.integrated_gradients(model, x, base, 0, 17)
    assert check.within(E.IG_TOLERANCE) and 17 < check.steps <= E.IG_MAX_STEPS
    assert float(attr.sum()) == pytest.approx(check.total, rel=1e-6) and check.change == pytest.approx(1.0)
    # linear before the ramp: every pixel's share of the total is exact whatever the steps
    np.testing.assert_allclose(attr.numpy(), model.exact.numpy() * check.total, rtol=1e-5, atol=1e-7)
    assert np.abs(attr.numpy() - model.exact.numpy()).max() <= 0.05 * np.abs(model.exact.numpy()).max()
    assert "agree within" in check.sentence(E.IG_TOLERANCE)
    # out of time after the first grid: it says how far off it is instead
    _, hurried = E.integrated_gradients(model, x, base, 0, 17, budget_s=0.0)
    assert hurried.steps == 17 and hurried.gap == pytest.approx(first.gap)


def test_occlusion_is_wired_to_captum_with_its_default_grid_and_counts_its_patches():
    """A wiring test: the app's Occlusion is captum's, with the window and stride it picks and
    its progress counted. Its maths is checked by hand in test_explain.py
    (test_occlusion_of_a_linear_model_by_hand)."""
    model = small_cnn(size=32)
    lm = wrap(model, size=32, channels=3, classes=3, layer="act2")
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    window, stride = E.occlusion_window(32)
    assert (window, stride) == (8, 4)  # a 7×7 grid: (32 − 8) / 4 + 1
    assert E.occlusion_patches(32) == 49 and E.occlusion_patches(224) == 49
    ref = Occlusion(model).attribute(
        x.clone(), sliding_window_shapes=(3, window, window), strides=(3, stride, stride), baselines=0.0, target=1
    )
    calls: list = []
    rows = Rows(model)
    e = E.explain(lm, x, "occlusion", target=1, progress=lambda f, t: calls.append((f, t)))
    rows.handle.remove()
    np.testing.assert_allclose(e.map, ref.detach()[0].mean(0).numpy(), atol=1e-5)
    # the layer catalogue's forward (the memory estimate), the plain forward for the logits,
    # then captum: the unhidden picture + 49 patches
    assert rows.n == 1 + 1 + 1 + 49
    check_progress(calls, 50, "Occlusion")
    assert hook_count(model) == 0


def test_progress_hook_is_removed_after_an_error():
    model = small_cnn()
    lm = wrap(model, size=16, channels=3, classes=3, layer="act2")
    with pytest.raises(E.ExplainError):
        E.explain(lm, torch.zeros(1, 3, 16, 16), "ig", target=7, progress=lambda f, t: None)
    assert hook_count(model) == 0


def test_compare_shares_the_curves_ends_and_matches_one_map_at_a_time():
    model = small_cnn(size=16, classes=2)
    lm = wrap(model, size=16, channels=3, classes=2, layer="act2")
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    rng = np.random.default_rng(0)
    maps = {"a": rng.random((4, 4)), "b": rng.random((16, 16))}
    calls: list = []
    rows = Rows(model)
    res = FA.compare(lm, x, maps, 1, steps=FA.STEPS, progress=lambda f, t: calls.append((f, t)))
    rows.handle.remove()
    assert FA.STEPS == 10
    total = FA.compare_pictures(3, FA.STEPS)
    # and one more row: the layer catalogue's forward for the memory estimate
    assert total == 3 + 3 * 18 and rows.n == total + 1
    check_progress(calls, total, "Deletion and insertion")
    # each curve, written out: every picture run alone through the model
    f = np.linspace(0, 1, 11)
    blur = FA.blurred(x)
    for name in ("a", "b"):
        order = FA.pixel_order(maps[name], (16, 16))
        for kind, start, end in (("deletion", x, torch.zeros_like(x)), ("insertion", blur, x)):
            want = []
            for frac in f:
                flat = start.clone().reshape(3, -1)
                k = round(frac * 256)
                flat[:, order[:k]] = end.reshape(3, -1)[:, order[:k]]
                with torch.no_grad():
                    want.append(float(torch.softmax(model(flat.reshape(1, 3, 16, 16)), 1)[0, 1]))
            np.testing.assert_allclose(getattr(res[name], kind), want, atol=1e-5)
