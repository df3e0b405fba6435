"""The slow explanation steps: their (cheaper) defaults against captum and hand computations,
and the progress they report (cnnviz.progress) against the forwards that really ran."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, Occlusion
from helpers import hook_count, wrap
from torch import nn

from cnnviz import explain as E
from cnnviz import faithfulness as FA


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


def test_integrated_gradients_default_equals_captum_with_the_same_settings():
    model = small_cnn()
    lm = wrap(model, size=16, channels=3, classes=3, layer="act2")
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    calls: list = []
    e = E.explain(lm, x, "ig", target=2, progress=lambda f, t: calls.append((f, t)))
    black = lm.preprocess_spec.normalize(torch.zeros_like(x))
    ref = IntegratedGradients(model).attribute(x.clone(), baselines=black, target=2, n_steps=16)
    assert E.IG_STEPS == 16
    np.testing.assert_allclose(e.map, ref.detach()[0].sum(0).numpy(), atol=1e-5)
    # the 16 path points went through in batches of IG_BATCH, each reported once
    check_progress(calls, 16, "Integrated Gradients")
    assert len(calls) == 1 + 16 // E.IG_BATCH
    assert hook_count(model) == 0


def test_occlusion_default_grid_equals_captum_and_counts_its_patches():
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
    # the plain forward for the logits, then captum: the unhidden picture + 49 patches
    assert rows.n == 1 + 1 + 49
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
    assert total == 3 + 3 * 18 and rows.n == total
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
