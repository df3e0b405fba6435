"""Activation functions and softmax against torch, plus hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.errors import CnnvizError
from cnnviz.teaching import activations as act

X = np.array([-50.0, -2.0, -0.5, 0.0, 0.5, 2.0, 50.0], dtype=np.float32)


def test_hand_values():
    np.testing.assert_array_equal(act.apply("ReLU", X), [0, 0, 0, 0, 0.5, 2, 50])
    np.testing.assert_allclose(act.apply("leaky ReLU", X, slope=0.1), [-5, -0.2, -0.05, 0, 0.5, 2, 50], rtol=1e-6)
    assert act.apply("sigmoid", np.float32(0.0)) == 0.5
    np.testing.assert_allclose(act.apply("sigmoid", np.float32(2.0)), 1 / (1 + math.exp(-2)), rtol=1e-6)


def test_match_torch():
    rng = np.random.default_rng(0)
    x = np.concatenate([X, rng.normal(scale=5, size=500).astype(np.float32)])
    t = torch.from_numpy(x)
    np.testing.assert_allclose(act.apply("ReLU", x), torch.relu(t).numpy())
    np.testing.assert_allclose(act.apply("leaky ReLU", x, 0.2), F.leaky_relu(t, 0.2).numpy(), rtol=1e-6)
    np.testing.assert_allclose(act.apply("sigmoid", x), torch.sigmoid(t).numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(act.apply("tanh", x), torch.tanh(t).numpy(), rtol=1e-6, atol=1e-7)
    with pytest.raises(CnnvizError):
        act.apply("gelu", x)


def test_summary_and_histogram():
    before = np.array([[-1.0, 0.0], [2.0, -3.0]], dtype=np.float32)
    s = act.summarize(before, act.apply("ReLU", before))
    assert s.share_negative == 0.5 and s.share_zeroed == 0.75 and s.after_min == 0 and s.before_min == -3
    counts, edges = act.histogram(before, bins=4)
    # range -3..2 in 4 bins of 1.25: [-3,-1.75) holds -3; [-1.75,-0.5) holds -1; [-0.5,0.75) holds 0; last holds 2
    np.testing.assert_array_equal(counts, [1, 1, 1, 1])
    np.testing.assert_allclose(edges, [-3, -1.75, -0.5, 0.75, 2.0])


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 3.0, 100.0])
def test_softmax_matches_torch(temperature):
    z = np.random.default_rng(1).normal(scale=4, size=1000).astype(np.float32)
    want = torch.softmax(torch.from_numpy(z) / temperature, dim=0).numpy()
    np.testing.assert_allclose(act.softmax(z, temperature), want, rtol=1e-4, atol=1e-8)


def test_softmax_temperature_sharpens_and_flattens():
    z = np.array([2.0, 1.0, 0.0])
    # T = 1: e^2, e^1, e^0 over their sum
    e = np.exp([2.0, 1.0, 0.0])
    np.testing.assert_allclose(act.softmax(z), e / e.sum(), rtol=1e-6)
    assert act.entropy_bits(act.softmax(z, 0.05)) < 0.01
    assert act.entropy_bits(act.softmax(z, 1000.0)) == pytest.approx(math.log2(3), abs=1e-3)
    assert act.softmax(np.array([1000.0, 0.0]))[0] == 1.0  # no overflow
    with pytest.raises(CnnvizError):
        act.softmax(z, 0.0)


def test_softmax_of_real_logits_equals_torch(effnet):
    from cnnviz.inside.predict import predict

    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    pred = predict(effnet, x)
    assert pred.logits.shape == (1000,)
    np.testing.assert_allclose(act.softmax(pred.logits), pred.probs, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_softmax_chart_bars_equal_the_table(temperature):
    """Each bar of the softmax chart ends at its table number (at T = 1 they were drawn stacked, ~2×)."""
    from cnnviz.ui.charts import softmax_chart

    logits = np.array([3.0, 1.0, 0.2, -1.0, 2.5], dtype=np.float32)
    table = act.softmax_table(logits, temperature, ["a", "b", "c", "d", "e"], top=4)
    ref = torch.softmax(torch.tensor(logits, dtype=torch.float64) / temperature, 0).numpy() * 100
    assert list(table["class"]) == ["a", "e", "b", "c"]  # best logit first
    np.testing.assert_allclose(table["pT"], ref[[0, 4, 1, 2]], rtol=1e-5)

    spec = softmax_chart(table, temperature).to_dict()
    bars = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "bar")
    assert bars["encoding"]["x"]["stack"] is None  # a bar spans 0..its own value, never on top of another
    rows = spec["datasets"][bars["data"]["name"]]
    series = (("T = 1", "p1"), ("your T", "pT")) if temperature != 1.0 else (("T = 1", "p1"),)
    for name, column in series:
        drawn = {r["class"]: r["percent"] for r in rows if r["T"] == name}
        np.testing.assert_allclose([drawn[c] for c in table["class"]], table[column], rtol=1e-6)
    assert len({(r["class"], r["T"]) for r in rows}) == len(rows)  # no two bars share a place
    # one bar per class per temperature: at T = 1 "your T" would draw the same number again
    per_class = {c: sum(r["class"] == c for r in rows) for c in table["class"]}
    assert set(per_class.values()) == {1 if temperature == 1.0 else 2}


def test_function_curve_is_the_function():
    curve = act.function_curve("leaky ReLU", -2.0, 3.0, slope=0.2, points=11)
    np.testing.assert_allclose(curve["x"], np.linspace(-2, 3, 11), rtol=1e-6)
    np.testing.assert_allclose(curve["y"], F.leaky_relu(torch.tensor(curve["x"].values), 0.2).numpy(), rtol=1e-6)
