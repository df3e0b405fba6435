"""Issue 25: Integrated Gradients' attributions add up to the score's change on real photos
and models, or the page says how far off they are; the even grid is captum's own."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients

from cnnviz import explain as E
from cnnviz.inputs.images import load_sample
from cnnviz.models import zoo

PHOTOS = ("chelsea", "grace_hopper", "coffee")
TABLE: list[str] = []


@pytest.fixture(scope="module", params=["efficientnet_lite0", "squeezenet1_1"])
def lm(request):
    return zoo.load_model(request.param, "pretrained", device="cpu")


@pytest.mark.parametrize("photo", PHOTOS)
def test_sum_matches_the_score_change_or_the_gap_is_said(lm, photo):
    x = lm.preprocess(load_sample(photo))
    e = E.explain(lm, x, "ig")
    c = e.completeness
    black = E.black_input(lm.preprocess_spec, x)
    with torch.no_grad():  # the score change by the plain model, not the method's own forwards
        change = float(lm.model(x)[0, e.target] - lm.model(black)[0, e.target])
    assert c.change == pytest.approx(change, rel=2e-3)
    assert float(e.map.sum(dtype=np.float64)) == pytest.approx(c.total, rel=1e-4)
    assert E.IG_STEPS <= c.steps <= E.IG_MAX_STEPS
    said = c.sentence(E.IG_TOLERANCE)
    assert c.within(E.IG_TOLERANCE) or f"off by {c.gap:+.0%}" in said
    TABLE.append(f"{lm.name} {photo}: sum {c.total:.3f}, change {c.change:.3f}, gap {c.gap:+.2%}, {c.steps} steps")
    print(TABLE[-1])


def test_even_grid_equals_captum_on_a_real_model():
    """SqueezeNet 1.1 on the cat: the first 17 points against captum's trapezoid, same points."""
    lm = zoo.load_model("squeezenet1_1", "pretrained", device="cpu")
    x = lm.preprocess(load_sample("chelsea"))
    black = E.black_input(lm.preprocess_spec, x)
    with lm.use() as model:
        attr, check = E.integrated_gradients(model, x, black, 285, 17, max_steps=17)
        ref = IntegratedGradients(model).attribute(
            x.clone(), baselines=black, target=285, n_steps=17, method="riemann_trapezoid", internal_batch_size=8
        )
    scale = float(ref.abs().max())
    np.testing.assert_allclose(attr.numpy(), ref.detach().numpy() * 17 / 16, rtol=0, atol=1e-5 * scale)
    assert check.steps == 17
